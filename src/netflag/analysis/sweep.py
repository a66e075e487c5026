"""Flags for every (D, T, k) of a grid in one pass over the log: how an analyst tunes the rule.

Why one pass is enough: the graph and the purchase history never depend on
D, T or k (every purchase joins the history, flagged or not). So one engine,
keeping each user's last max(T) purchases, holds every setting's state. At a
stream purchase, breadth-first layers up to max(D) give each D's network; the
newest max(T) purchases of the network at distance <= D are merged layer by
layer; each T takes a prefix of them; and k is free once the sums are known
(a purchase not flagged at k is not flagged at any larger k).
Each setting's flags equal a separate replay's (tests/analysis/test_sweep.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from heapq import nlargest
from itertools import chain, product
from typing import TYPE_CHECKING, Any

from sortedcontainers import SortedList

from netflag.analysis.logs import Logs
from netflag.engine import Baseline, Engine, Event, Purchase
from netflag.engine.params import parse_count, parse_multiplier
from netflag.errors import ParamsError

if TYPE_CHECKING:
    from netflag.distributed.ray_pool import WorkerPool

_RANGE = re.compile(r"([0-9]+)\.\.([0-9]+)")
MAX_SETTINGS = 10_000  # a grid beyond this is a typo, not a question


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


@dataclass(frozen=True, slots=True)
class SweepRow:
    """One setting's line of the sweep table; overlap and the rest compare with the default."""

    setting: Setting
    flags: int
    overlap: int
    added: int
    missed: int
    is_default: bool


@dataclass(slots=True)
class SweepResult:
    """Every setting's flags (in stream order) and the default setting to compare with."""

    default: Setting
    settings: list[Setting]
    flags: dict[Setting, list[SweepFlag]] = field(default_factory=dict)
    checked: int = 0

    def lines(self, setting: Setting) -> list[int]:
        """Stream line numbers flagged under ``setting``."""
        return [flag.line for flag in self.flags[setting]]

    def rows(self) -> list[SweepRow]:
        """The table: each setting (grid order) against the default."""
        base = set(self.lines(self.default))
        rows = []
        for setting in self.settings:
            mine = set(self.lines(setting))
            both = len(mine & base)
            rows.append(
                SweepRow(
                    setting,
                    len(mine),
                    both,
                    len(mine) - both,
                    len(base) - both,
                    setting == self.default,
                )
            )
        return rows


def parse_counts(text: str, name: str, minimum: int) -> list[int]:
    """``"1..4"``, ``"10,50,200"`` or a mix (``"1..3,5"``): sorted, without repeats.

    >>> parse_counts("1..3,5,2", "D", 1)
    [1, 2, 3, 5]
    """
    values: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        span = _RANGE.fullmatch(part)
        if span is not None:
            low, high = (parse_count(x, name, minimum) for x in span.groups())
            if high < low or high - low > MAX_SETTINGS:
                raise ParamsError(f"{name}: {part!r} is not a range low..high")
            values.update(range(low, high + 1))
        else:
            values.add(parse_count(part, name, minimum))
    return sorted(values)


def parse_multipliers(text: str) -> list[Fraction]:
    """``"2,2.5,3"`` -> exact multipliers, sorted, without repeats."""
    return sorted({parse_multiplier(part.strip()) for part in text.split(",")})


def grid(Ds: Iterable[int], Ts: Iterable[int], ks: Iterable[Fraction]) -> list[Setting]:
    """Every combination, sorted by D, then T, then k."""
    settings = sorted(Setting(D, T, k) for D, T, k in product(Ds, Ts, ks))
    if len(settings) > MAX_SETTINGS:
        raise ParamsError(f"the grid has {len(settings):,} settings; at most {MAX_SETTINGS:,}")
    return settings


def sweep(
    logs: Logs,
    settings: list[Setting],
    default: Setting,
    *,
    walk_above: int | None = None,
    workers: WorkerPool | None = None,
) -> SweepResult:
    """Replay ``logs`` once and decide every stream purchase under every setting.

    ``walk_above`` forces the network size past which the newest purchases are
    found by walking (default: max(64, users/8)); tests use it to run both ways.
    With ``workers`` the purchases are shared out over Ray workers, each
    deciding its share under every setting (see :func:`_sweep_on_workers`).
    """
    wanted = sorted({*settings, default})
    result = SweepResult(default, settings, {s: [] for s in wanted})
    D_max, T_max = max(s.D for s in wanted), max(s.T for s in wanted)
    if workers is not None:
        return _sweep_on_workers(logs, result, wanted, logs.load(D_max, T_max), workers, walk_above)
    sweeper = _Sweeper(logs.load(D_max, T_max), wanted, result.flags, walk_above)
    defaults = result.flags[default]  # the flags the bar counts: the default setting's
    line = 0
    for step in logs.stream_steps():
        event, line = step.event, step.line
        if isinstance(event, Purchase):
            result.checked += 1
            sweeper.check(event, line)
            sweeper.apply_purchase(event)
        else:
            sweeper.engine.apply(event, check=False)
        logs.tick(line, result.checked, len(defaults))
    logs.tick(line, result.checked, len(defaults), last=True)
    return result


def _sweep_on_workers(
    logs: Logs,
    result: SweepResult,
    wanted: list[Setting],
    engine: Engine,
    workers: WorkerPool,
    walk_above: int | None,
) -> SweepResult:
    """The sweep with its purchases shared out: every worker applies every event and decides
    every Nth purchase under all the settings.

    Sharing out purchases rather than settings keeps the one-pass saving (a
    network and its newest purchases are found once for every D, T and k) and
    keeps the workers even: a share of the settings that holds the largest D
    would cost nearly the whole sweep.
    """
    from netflag.distributed.fanout import Fanout

    defaults = result.flags[result.default]
    line = 0

    def lines() -> Iterator[tuple[int, bytes]]:
        nonlocal line
        for step in logs.stream_steps():
            line = step.line
            result.checked += isinstance(step.event, Purchase)
            logs.tick(line, result.checked, len(defaults))
            yield line, step.raw

    fanout = Fanout(workers, engine, SweepTask(wanted, walk_above))
    try:
        for flagged_line, (_, found) in fanout.map(lines()):
            for order, baseline in found:
                result.flags[wanted[order]].append(SweepFlag(flagged_line, baseline))
    finally:
        fanout.close()
    logs.tick(line, result.checked, len(defaults), last=True)
    return result


@dataclass(frozen=True, slots=True)
class SweepTask:
    """The sweep's work on Ray workers: every setting's verdict on each worker's purchases."""

    settings: list[Setting]
    walk_above: int | None

    def decider(self, engine: Engine) -> _SweepDecider:
        return _SweepDecider(engine, self.settings, self.walk_above)


class _SweepDecider:
    """The one-pass sweeper over a worker's engine; a result lists each flagging setting."""

    def __init__(self, engine: Engine, settings: list[Setting], walk_above: int | None) -> None:
        self.flags: dict[Setting, list[SweepFlag]] = {setting: [] for setting in settings}
        self.sweeper = _Sweeper(engine, settings, self.flags, walk_above)
        self.order = {setting: n for n, setting in enumerate(settings)}

    def apply(self, event: Event) -> None:
        if type(event) is Purchase:
            self.sweeper.apply_purchase(event)
        else:
            self.sweeper.engine.apply(event, check=False)

    def check(self, at: int, event: Purchase, raw: bytes) -> tuple[Any, ...] | None:
        self.sweeper.check(event, at)
        self.sweeper.apply_purchase(event)
        found = [
            (self.order[setting], flag.baseline)
            for setting, flags in self.flags.items()
            for flag in flags
        ]
        for flags in self.flags.values():
            flags.clear()
        return (at, found) if found else None


class _Sweeper:
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
