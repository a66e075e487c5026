"""The engine's whole state as columns: for snapshots, bulk loading and tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from netflag.engine.history import SEQ_BITS
from netflag.engine.params import Params
from netflag.engine.pycore import as_ints


@dataclass(frozen=True, slots=True, eq=False)
class EngineState:
    """Everything an :class:`~netflag.engine.Engine` needs to continue exactly.

    Columns are any sequence of ints: ``array``, numpy arrays (also memory-mapped
    ones, see :mod:`netflag.engine.snapshot`) or lists.

    - ``users``: user ids; a user's number is its index.
    - ``edge_lo``, ``edge_hi``: friendships as user numbers ``lo < hi``, sorted.
    - ``ts``, ``seq``, ``owner``, ``units``: each user's last T purchases, sorted
      by ``(ts, seq)``: timestamp (seconds since year 1), arrival number, buyer,
      amount in units of ``10**-scale``.
    - ``scale``: amounts are ``units / 10**scale``.
    - ``next_seq``: the arrival number the next event gets.
    """

    params: Params
    users: Sequence[str]
    edge_lo: Sequence[int]
    edge_hi: Sequence[int]
    ts: Sequence[int]
    seq: Sequence[int]
    owner: Sequence[int]
    units: Sequence[int]
    scale: int
    next_seq: int

    @property
    def edges(self) -> list[tuple[int, int]]:
        """Friendships as ``(lo, hi)`` pairs, sorted."""
        return list(zip(as_ints(self.edge_lo), as_ints(self.edge_hi), strict=True))

    @property
    def purchases(self) -> list[tuple[int, int, int]]:
        """Kept purchases as ``(key, owner, units)`` with ``key = ts << 48 | seq``, sorted."""
        keys = [t << SEQ_BITS | s for t, s in zip(as_ints(self.ts), as_ints(self.seq), strict=True)]
        return list(zip(keys, as_ints(self.owner), as_ints(self.units), strict=True))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EngineState):
            return NotImplemented
        return (
            (self.params, self.scale, self.next_seq) == (other.params, other.scale, other.next_seq)
            and list(self.users) == list(other.users)
            and self.edges == other.edges
            and self.purchases == other.purchases
        )

    __hash__ = None  # type: ignore[assignment]  # columns are mutable
