"""The sweep's one-pass kernel: every setting's decision on a purchase, from one search.

:class:`Sweeper` keeps one engine at (max D, max T); at a stream purchase it
finds the network's layers once, the newest purchases per depth once, and
decides every (D, T, k) from prefix sums of the same units. A purchase not
flagged at k is not flagged at any larger k, so each T stops at its first miss.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from heapq import nlargest
from itertools import chain

from sortedcontainers import SortedList

from netflag.engine import Baseline, Engine, Purchase


@dataclass(frozen=True, slots=True, order=True)
class Setting:
    """One combination of the rule's parameters."""

    D: int
    T: int
    k: Fraction


@dataclass(frozen=True, slots=True)
class SweepFlag:
    """A stream purchase flagged under a setting: its line and its exact baseline."""

    line: int
    baseline: Baseline


class Sweeper:
    """An engine at (max D, max T) after the batch, and every setting's decisions on top.

    A network's newest max(T) purchases come from one of two exact sources, as
    in the engine: a heap over the members' own lists while the network is
    small, or else a walk over every kept purchase from the newest (a global
    index of keys, built at the first walk and kept equal to the union of the
    users' lists), keeping those whose buyer is in the network.
    """

    def __init__(
        self,
        engine: Engine,
        wanted: list[Setting],
        flags: dict[Setting, list[SweepFlag]],
        walk_above: int | None,
    ) -> None:
        self.walk_above = walk_above
        self.by_depth: dict[int, dict[int, list[Fraction]]] = {}
        for s in wanted:
            self.by_depth.setdefault(s.D, {}).setdefault(s.T, []).append(s.k)  # k ascending
        self.engine = engine
        self.D_max, self.T_max = engine.params.D, engine.params.T
        self.flags = flags
        self.index: SortedList | None = None  # keys of every kept purchase
        self.entry: dict[int, tuple[int, int]] = {}  # key -> (buyer, units at index_scale)
        self.index_scale = 0

    def apply_purchase(self, event: Purchase) -> None:
        """Apply a stream purchase, keeping the global index equal to the users' lists."""
        engine = self.engine
        user = engine.user_number(event.user)
        before = set() if user is None else {key for key, _, _ in engine.tail(user)}
        engine.apply(event, check=False)
        if self.index is None:
            return
        if engine.scale != self.index_scale:  # stored amounts were rescaled: start again
            self.index = None
            return
        user = engine.user_number(event.user)
        assert user is not None  # noqa: S101 - apply() interned the buyer
        after = {key: units for key, _, units in engine.tail(user)}
        for key in after.keys() - before:
            self.index.add(key)
            self.entry[key] = (user, after[key])
        for key in before - after.keys():
            self.index.remove(key)
            del self.entry[key]

    def check(self, event: Purchase, line: int) -> None:
        """Decide one purchase under every setting, before it joins the history."""
        engine = self.engine
        user = engine.user_number(event.user)
        if user is None:
            return  # a first-time buyer has no network
        scale = max(engine.scale, event.amount.scale)
        factor = 10 ** (scale - engine.scale)
        amount = event.amount.at_scale(scale)
        for depth, units in self._newest(user).items():
            Ts = self.by_depth[depth]
            s1, s2 = [0], [0]
            for x in units[: max(Ts)]:
                s1.append(s1[-1] + x)
                s2.append(s2[-1] + x * x)
            for T, ks in Ts.items():
                n = min(T, len(units))
                if n < 2:
                    continue
                baseline = Baseline(n, s1[n] * factor, s2[n] * factor * factor, scale)
                for k in ks:
                    if not baseline.exceeds(amount, k):
                        break  # nor at any larger k
                    self.flags[Setting(depth, T, k)].append(SweepFlag(line, baseline))

    def _newest(self, user: int) -> dict[int, list[int]]:
        """For each wanted D: units of the network's newest max(T) purchases, newest first."""
        T_max = self.T_max
        layers = self.engine.rings(user, self.D_max)
        budget = self.walk_above
        if budget is None:
            budget = max(64, self.engine.users // 8)  # beyond this many members, walk
        out: dict[int, list[int]] = {}
        merged: list[tuple[int, int]] = []  # (key, units), newest first
        size = 0
        walk: list[int] = []
        for depth in range(1, self.D_max + 1):
            if depth <= len(layers):
                size += len(layers[depth - 1])
                if size > budget:
                    walk = [d for d in self.by_depth if d >= depth]
                    break
                newest = self.engine.newest_of(layers[depth - 1], T_max)
                merged = nlargest(T_max, chain(merged, ((k, u) for k, _, u in newest)))
            if depth in self.by_depth:
                out[depth] = [units for _, units in merged]
        if walk:
            out.update(self._walk(layers, sorted(walk)))
        return out

    def _walk(self, layers: list[set[int]], depths: list[int]) -> dict[int, list[int]]:
        """Newest-first walk over every kept purchase until the smallest network has max(T)."""
        T_max = self.T_max
        if self.index is None:
            kept = self.engine.state().purchases
            self.entry = {key: (owner, units) for key, owner, units in kept}
            self.index = SortedList(self.entry)
            self.index_scale = self.engine.scale
        out: dict[int, list[int]] = {d: [] for d in depths}
        first = out[depths[0]]
        for key in reversed(self.index):
            buyer, units = self.entry[key]
            distance = next((d for d, layer in enumerate(layers, 1) if buyer in layer), 0)
            if not distance or distance > depths[-1]:
                continue
            for d in depths:
                if distance <= d and len(out[d]) < T_max:
                    out[d].append(units)
            if len(first) == T_max:
                break  # every larger network holds at least as many
        return out
