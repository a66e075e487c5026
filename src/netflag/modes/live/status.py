"""What a live run reports while it runs and when it stops: fields for machines, a line for people.

The same numbers feed the human status line and a structured log record
(``netflag live --log-format json``), so a log stack sees exactly what an
operator sees, as numbers instead of text to parse.

>>> status = LiveStatus(1204, 96.4, 3, 0, Lag(1024, "bytes"), 4.2)
>>> str(status)
'1,204 events, 96/s, 3 flags, 0 rejected, lag 1,024 bytes, checkpoint 4 s ago'
>>> str(LiveStatus(1, 1.0, 1, 1, Lag(1, "entries"), 1.0))
'1 event, 1/s, 1 flag, 1 rejected, lag 1 entry, checkpoint 1 s ago'
>>> status.fields()["lag"], status.fields()["lag_unit"], status.fields()["events_per_s"]
(1024, 'bytes', 96.4)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from netflag.engine import Params
from netflag.engine.money import decimal_text
from netflag.io.counts import count
from netflag.io.sources.base import Lag
from netflag.runtime.rejects import Rejection

log = logging.getLogger("netflag.live")


def info(message: str, **fields: Any) -> None:
    """Log ``message``, its numbers also as fields (``--log-format json`` prints them)."""
    log.info(message, extra={"fields": fields})


def warn(rejection: Rejection) -> None:
    """Log a rejected line, where and why also as fields."""
    where = {"source": rejection.source, "line": rejection.line, "reason": rejection.reason}
    fields = {key: value for key, value in where.items() if value is not None}
    log.warning("%s", rejection, extra={"fields": fields})


SINGULAR = {"entries": "entry"}  # a lag's unit in the singular, where dropping "s" won't do
SHOWN_PARTS = 8  # a lag of more parts shows its largest only, to keep the status one line


def lag_text(lag: Lag | None) -> str:
    """A source's lag (its unit is a plural) in words; ``unknown`` when it cannot tell.

    >>> lag_text(Lag(1, "entries")), lag_text(Lag(1, "bytes")), lag_text(Lag(2, "lines"))
    ('1 entry', '1 byte', '2 lines')
    >>> lag_text(Lag(1_212, "records", (("0", 12), ("1", 1_200))))
    '1,212 records (0: 12, 1: 1,200)'
    """
    if lag is None:
        return "unknown"
    singular = SINGULAR.get(lag.unit, lag.unit.removesuffix("s"))
    text = count(lag.value, singular, lag.unit)
    if not lag.parts:
        return text
    if len(lag.parts) <= SHOWN_PARTS:
        return f"{text} ({', '.join(f'{name}: {value:,}' for name, value in lag.parts)})"
    name, value = max(lag.parts, key=lambda part: part[1])
    return f"{text} (most in partition {name}: {value:,})"


def lag_fields(lag: Lag | None) -> dict[str, object]:
    """A source's lag as a number and its unit; both None when the source cannot tell.

    A source of several parts (a topic's partitions) adds each part's, by name.

    >>> lag_fields(Lag(12, "entries")), lag_fields(None)
    ({'lag': 12, 'lag_unit': 'entries'}, {'lag': None, 'lag_unit': None})
    >>> lag_fields(Lag(3, "records", (("0", 1), ("1", 2))))["lag_by_partition"]
    {'0': 1, '1': 2}
    """
    if lag is None:
        return {"lag": None, "lag_unit": None}
    fields: dict[str, object] = {"lag": lag.value, "lag_unit": lag.unit}
    if lag.parts:
        fields["lag_by_partition"] = dict(lag.parts)
    return fields


@dataclass(frozen=True, slots=True)
class LiveStatus:
    """A live run at one moment: counts so far, the recent rate, the lag, the last checkpoint.

    ``rate`` is lines a second since the previous status; ``lag`` is the
    source's (None when it cannot tell); ``checkpoint_age`` is in seconds.
    """

    events: int
    rate: float
    flagged: int
    rejected: int
    lag: Lag | None
    checkpoint_age: float

    def __str__(self) -> str:
        return (
            f"{count(self.events, 'event')}, {self.rate:,.0f}/s, {count(self.flagged, 'flag')},"
            f" {self.rejected:,} rejected, lag {lag_text(self.lag)},"
            f" checkpoint {self.checkpoint_age:,.0f} s ago"
        )

    def fields(self) -> dict[str, object]:
        """The same numbers for a structured log record."""
        return {
            "events": self.events,
            "events_per_s": round(self.rate, 1),
            "flags": self.flagged,
            "rejected": self.rejected,
            **lag_fields(self.lag),
            "checkpoint_age_s": round(self.checkpoint_age, 1),
        }


@dataclass(slots=True)
class LiveSummary:
    """What a live run did: counts since the run began (across restarts) and this process's.

    >>> for part in str(LiveSummary(Params(3, 50), 1, 1, 1, 0, 1, 1, 0.5)).split("; "):
    ...     print(part)
    1 event, 1 purchase checked, 1 flagged, 0 rejected
    this process: 1 line in 0.50 s, 1 checkpoint (D=3 T=50 k=3)
    """

    params: Params
    events: int = 0
    checked: int = 0
    flagged: int = 0
    rejected: int = 0
    handled: int = 0  # lines this process took from the source
    checkpoints: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{count(self.events, 'event')}, {count(self.checked, 'purchase')} checked,"
            f" {self.flagged:,} flagged, {self.rejected:,} rejected; this process:"
            f" {count(self.handled, 'line')} in {self.seconds:,.2f} s,"
            f" {count(self.checkpoints, 'checkpoint')} ({self.params.describe()})"
        )

    def fields(self) -> dict[str, object]:
        """The same numbers for a structured log record."""
        return {
            "events": self.events,
            "checked": self.checked,
            "flags": self.flagged,
            "rejected": self.rejected,
            "handled": self.handled,
            "checkpoints": self.checkpoints,
            "seconds": round(self.seconds, 3),
            "D": self.params.D,
            "T": self.params.T,
            "k": decimal_text(self.params.k),
        }
