"""The engine's whole state as plain data: for snapshots, bulk loading and tests."""

from __future__ import annotations

from dataclasses import dataclass

from netflag.engine.params import Params


@dataclass(frozen=True, slots=True)
class EngineState:
    """Everything an :class:`~netflag.engine.Engine` needs to continue exactly.

    - ``users``: user ids; a user's number is its index.
    - ``edges``: friendships as ``(a, b)`` user numbers with ``a < b``, sorted.
    - ``purchases``: ``(key, user, units)`` for each user's last T purchases,
      sorted by key, where ``key = timestamp << 48 | arrival`` (see
      :func:`netflag.engine.history.order_key`) and ``units`` are at ``scale``.
    - ``scale``: amounts are ``units / 10**scale``.
    - ``seq``: the arrival number the next event gets.
    """

    params: Params
    users: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    purchases: tuple[tuple[int, int, int], ...]
    scale: int
    seq: int
