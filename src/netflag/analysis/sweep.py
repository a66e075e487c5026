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
from itertools import product
from typing import Any

from netflag.analysis.logs import Logs
from netflag.analysis.sweeper import Setting, Sweeper, SweepFlag
from netflag.distributed.fanout import Fanout
from netflag.distributed.ray_pool import WorkerPool
from netflag.engine import Engine, Event, Purchase
from netflag.engine.params import parse_count, parse_multiplier
from netflag.errors import ParamsError

__all__ = [
    "MAX_SETTINGS", "Setting", "SweepFlag", "SweepResult", "SweepRow", "SweepTask", "grid",
    "parse_counts", "parse_multipliers", "sweep",
]  # fmt: skip

_RANGE = re.compile(r"([0-9]+)\.\.([0-9]+)")
MAX_SETTINGS = 10_000  # a grid beyond this is a typo, not a question


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
    sweeper = Sweeper(logs.load(D_max, T_max), wanted, result.flags, walk_above)
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
        self.sweeper = Sweeper(engine, settings, self.flags, walk_above)
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
