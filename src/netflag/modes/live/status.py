"""What a live run reports while it runs and when it stops: fields for machines, a line for people.

The same numbers feed the human status line and a structured log record
(``netflag live --log-format json``), so a log stack sees exactly what an
operator sees, as numbers instead of text to parse.

>>> status = LiveStatus(1204, 96.4, 3, 0, Lag(1024, "bytes"), 4.2)
>>> str(status)
'1,204 events, 96/s, 3 flags, 0 rejected, lag 1,024 bytes, checkpoint 4 s ago'
>>> status.fields()["lag"], status.fields()["lag_unit"], status.fields()["events_per_s"]
(1024, 'bytes', 96.4)
"""

from __future__ import annotations

from dataclasses import dataclass

from netflag.engine import Params
from netflag.engine.money import decimal_text
from netflag.io.sources.base import Lag


def lag_fields(lag: Lag | None) -> dict[str, object]:
    """A source's lag as a number and its unit; both None when the source cannot tell.

    >>> lag_fields(Lag(12, "entries")), lag_fields(None)
    ({'lag': 12, 'lag_unit': 'entries'}, {'lag': None, 'lag_unit': None})
    """
    if lag is None:
        return {"lag": None, "lag_unit": None}
    return {"lag": lag.value, "lag_unit": lag.unit}


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
            f"{self.events:,} events, {self.rate:,.0f}/s, {self.flagged:,} flags,"
            f" {self.rejected:,} rejected, lag {self.lag or 'unknown'},"
            f" checkpoint {self.checkpoint_age:.0f} s ago"
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
    """What a live run did: counts since the run began (across restarts) and this process's."""

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
            f"{self.events:,} events, {self.checked:,} purchases checked, {self.flagged:,} flagged,"
            f" {self.rejected:,} rejected; this process: {self.handled:,} lines in"
            f" {self.seconds:.2f} s, {self.checkpoints:,} checkpoints"
            f" ({self.params.describe()})"
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
