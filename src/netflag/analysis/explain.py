"""Why a purchase is (not) flagged: the network, the baseline purchases, the numbers.

The engine keeps only sums; an analyst wants to see *which* purchases formed
the baseline. This module recomputes the baseline from the engine's state
plainly (breadth-first layers + a heap over the members' last-T lists) and
checks that it agrees with the engine's own decision, so an explanation can
never drift from what replay decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from netflag.analysis.common import ZScore, format_timestamp, format_units
from netflag.analysis.common import threshold_text as _threshold_text
from netflag.analysis.logs import Logs
from netflag.engine import Amount, Baseline, Decision, Engine, Params, Purchase
from netflag.engine.history import SEQ_BITS
from netflag.engine.money import decimal_text
from netflag.errors import InputError
from netflag.io.events import LineError, parse_event
from netflag.io.reader import numbered_lines


@dataclass(frozen=True, slots=True)
class BaselinePurchase:
    """One purchase of the baseline, as an analyst reads it."""

    user: str
    timestamp: str
    amount: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything behind one decision, exact.

    ``network[d-1]`` counts users at distance exactly d. ``baseline`` lists the
    purchases newest first. ``stats`` holds the exact sums (None when fewer than
    2 purchases), at a scale that also fits ``amount`` (``amount_units``).
    """

    user: str
    amount: Amount
    params: Params
    network: tuple[int, ...]
    baseline: tuple[BaselinePurchase, ...]
    stats: Baseline | None
    amount_units: int
    flagged: bool
    timestamp: str | None = None
    line: int | None = None

    @property
    def z(self) -> ZScore | None:
        return None if self.stats is None else ZScore.of(self.stats, self.amount_units)

    def reason(self) -> str:
        """The decision in words."""
        k = decimal_text(self.params.k)
        if self.stats is None:
            return f"not flagged: the network made {len(self.baseline)} purchase(s), fewer than 2"
        if self.flagged:
            return f"flagged: amount > mean + {k} x sd"
        return f"not flagged: amount <= mean + {k} x sd"

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json``: every number that matters is exact text."""
        stats, z = self.stats, self.z
        return {
            "user": self.user,
            "amount": format_units(self.amount.units, self.amount.scale),
            "timestamp": self.timestamp,
            "line": self.line,
            "D": self.params.D,
            "T": self.params.T,
            "k": decimal_text(self.params.k),
            "network": [{"distance": d, "users": n} for d, n in enumerate(self.network, 1)],
            "network_size": sum(self.network),
            "baseline": [
                {"user": p.user, "timestamp": p.timestamp, "amount": p.amount}
                for p in self.baseline
            ],
            "n": len(self.baseline),
            "mean": None if stats is None else stats.mean_text(),
            "sd": None if stats is None else stats.sd_text(),
            "threshold": None if stats is None else _threshold_text(stats, self.params.k),
            "z_score": None if z is None else z.text(),
            "flagged": self.flagged,
            "reason": self.reason(),
        }


def explain(
    engine: Engine,
    user: str,
    amount: Amount,
    *,
    timestamp: str | None = None,
    line: int | None = None,
) -> Explanation:
    """Explain a purchase of ``amount`` by ``user`` checked now, before it joins the history.

    ``timestamp`` and ``line`` only label it.
    """
    D, T, k = engine.params.D, engine.params.T, engine.params.k
    number = engine.user_number(user)
    layers = [] if number is None else engine.rings(number, D)
    recent = engine.newest_of(chain.from_iterable(layers), T)
    scale = max(engine.scale, amount.scale)
    factor = 10 ** (scale - engine.scale)
    stats = Baseline.of([units * factor for _, _, units in recent], scale)
    units = amount.at_scale(scale)
    return Explanation(
        user=user,
        amount=amount,
        params=engine.params,
        network=tuple(len(layer) for layer in layers) + (0,) * (D - len(layers)),
        baseline=tuple(
            BaselinePurchase(
                engine.user_name(owner),
                format_timestamp(key >> SEQ_BITS),
                format_units(units, engine.scale),
            )
            for key, owner, units in recent
        ),
        stats=stats if stats.n >= 2 else None,
        amount_units=units,
        flagged=stats.n >= 2 and stats.exceeds(units, k),
        timestamp=timestamp,
        line=line,
    )


def check_agrees(explanation: Explanation, decision: Decision | None) -> None:
    """Raise if the explanation and the engine's decision differ: that is a bug."""
    ours, theirs = explanation.stats, None if decision is None else decision.baseline
    same = decision is not None and explanation.flagged == decision.flagged
    if ours is not None and theirs is not None:
        same = same and (ours.n, ours.mean, ours.variance) == (
            theirs.n,
            theirs.mean,
            theirs.variance,
        )
    else:
        same = same and ours is None and theirs is None
    if not same:
        raise RuntimeError(f"explain disagrees with the engine on {explanation.user}: a bug")


def _target(stream: Path, line: int) -> tuple[Purchase, bytes]:
    """The purchase at ``stream:line``, or a one-line error saying why there is none."""
    for number, raw in numbered_lines(stream):
        if number < line:
            continue
        if number > line:
            break
        try:
            event = parse_event(raw)
        except LineError as error:
            raise InputError(f"{stream}:{line}: {error}") from None
        if not isinstance(event, Purchase):
            kind = type(event).__name__.lower()
            raise InputError(f"{stream}:{line} is a {kind} event; explain needs a purchase")
        return event, raw
    raise InputError(f"{stream}:{line}: no event on this line (blank or past the end)")


def explain_line(logs: Logs, line: int) -> Explanation:
    """Explain the stream purchase at ``line`` as replay decides it."""
    if logs.stream is None:
        raise InputError("explain --line needs a stream log")
    target, _ = _target(logs.stream, line)
    engine = logs.load()
    for step in logs.stream_steps(checking=False, until=line):
        logs.tick(step.line, last=step.line == line)
        if step.line == line:
            found = explain(
                engine,
                target.user,
                target.amount,
                timestamp=format_timestamp(target.timestamp),
                line=line,
            )
            check_agrees(found, engine.apply(step.event))
            return found
        engine.apply(step.event, check=False)
    raise InputError(f"{logs.stream}:{line}: not reached")  # the file changed while read


def explain_end(logs: Logs, user: str, amount: Amount) -> Explanation:
    """Explain a purchase of ``amount`` by ``user`` arriving after the whole log."""
    engine = logs.load()
    last = 0
    for step in logs.stream_steps(checking=False):
        engine.apply(step.event, check=False)
        last = step.line
        logs.tick(last)
    logs.tick(last, last=True)
    found = explain(engine, user, amount)
    check_agrees(found, engine.apply(Purchase(0, user, amount)))
    return found
