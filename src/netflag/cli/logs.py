"""How live mode talks on stderr: a status line for people, or JSON lines for a log stack.

``--log-format text`` (the default) redraws one status line on a terminal and
prints log records as plain lines above it. ``--log-format json`` prints every
record, status and summary as one JSON object per line: ``time`` (UTC, ISO
8601), ``level``, ``logger``, ``message``, then the record's numbers as fields
(``events``, ``events_per_s``, ``lag``, ``checkpoint_age_s``, ``rejected``...),
which the library attaches to its records as ``extra={"fields": {...}}``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by `netflag --help`: keep it light
    from netflag.cli.display import Display
    from netflag.modes.live.status import LiveStatus, LiveSummary

CLEAR = "\r\033[K"  # back to the start of a terminal line and erase it


def same_terminal() -> bool:
    """Whether stdout and stderr are one terminal, so flags and the status line share it."""
    try:
        out, err = os.fstat(sys.stdout.fileno()), os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):  # a closed or replaced stream (a test's capture)
        return False
    return sys.stdout.isatty() and sys.stderr.isatty() and os.path.samestat(out, err)


class LogFormat(StrEnum):
    """What live mode writes on stderr."""

    text = "text"
    json = "json"


def json_line(
    level: str,
    message: str,
    fields: Mapping[str, object] | None = None,
    *,
    logger: str = "netflag",
    when: float | None = None,
) -> str:
    """One log record as one line of JSON; fields never overwrite the four keys in front.

    >>> json_line("info", "status", {"events": 3, "level": "x"}, when=0.0)
    '{"time":"1970-01-01T00:00:00.000Z","level":"info","logger":"netflag","message":"status","events":3}'
    """
    import orjson  # here, not above: `netflag --help` imports this module

    moment = datetime.now(UTC) if when is None else datetime.fromtimestamp(when, UTC)
    record: dict[str, object] = {
        "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": level,
        "logger": logger,
        "message": message,
    }
    for key, value in (fields or {}).items():
        record.setdefault(key, value)
    return orjson.dumps(record, default=str).decode()


class Stderr:
    """Everything live mode prints on stderr, in one of the two formats.

    On a terminal in text format the status line is redrawn in place; any
    other line first clears it. While start-up bars are on screen
    (``display``), lines print above them. When stdout is the same terminal
    (``--sink -``), the stdout sink clears the status before each flag and has
    it redrawn after (:meth:`clear`, :meth:`redraw`: a
    :class:`~netflag.io.sinks.stdout.Screen`).
    """

    def __init__(self, log_format: LogFormat, terminal: bool, display: Display | None = None):
        self.json = log_format is LogFormat.json
        self.terminal = terminal and not self.json
        self.display = display
        self._drawn = False  # a status line is on screen, without its newline
        self._status = ""  # the status line last drawn
        self._hidden = ""  # the status line clear() took off the screen, for redraw()

    @property
    def status_seconds(self) -> float:
        """A terminal's status is redrawn every second; a log gets one every 10 seconds."""
        return 1.0 if self.terminal else 10.0

    def line(self, text: str) -> None:
        """One whole line, clearing a drawn status line first."""
        if self.display is not None and self.display.showing:
            self.display.say(text)
            return
        sys.stderr.write(f"{CLEAR if self._drawn else ''}{text}\n")
        sys.stderr.flush()
        self._drawn = False

    def clear(self) -> None:
        """Take the status line off the screen (stdout is about to write on it)."""
        if self._drawn:
            sys.stderr.write(CLEAR)
            sys.stderr.flush()
            self._drawn = False
            self._hidden = self._status

    def redraw(self) -> None:
        """Put back, below what was written meanwhile, the status line :meth:`clear` took off."""
        if self._hidden and not self._drawn:
            self._draw(self._hidden)

    def record(self, level: str, message: str, fields: Mapping[str, object] | None = None) -> None:
        """A message of netflag's own (not a library log record): JSON, or ``netflag: message``."""
        self.line(json_line(level, message, fields) if self.json else f"netflag: {message}")

    def status(self, status: LiveStatus) -> None:
        """The live run's numbers now: redrawn on a terminal, a line (or JSON) elsewhere."""
        if self.json:
            self.line(json_line("info", "status", status.fields(), logger="netflag.live"))
        elif self.terminal:
            self._draw(f"netflag: {status}")
        else:
            self.line(f"netflag: {status}")

    def _draw(self, text: str) -> None:
        sys.stderr.write(f"{CLEAR}{text}")
        sys.stderr.flush()
        self._drawn, self._status, self._hidden = True, text, ""

    def summary(self, summary: LiveSummary) -> None:
        """The closing line: the text one replay users know, or a ``stopped`` record."""
        if self.json:
            self.line(json_line("info", "stopped", summary.fields(), logger="netflag.live"))
        else:
            self.line(f"netflag: {summary}")

    def handler(self) -> logging.Handler:
        """A logging handler that prints through this object."""
        return _Handler(self)


_TRACEBACKS = logging.Formatter()


class _Handler(logging.Handler):
    def __init__(self, out: Stderr) -> None:
        super().__init__()
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        if not self.out.json:
            self.out.line(self.format(record))
            return
        fields = dict(getattr(record, "fields", {}))
        if record.exc_info:
            fields["exception"] = _TRACEBACKS.formatException(record.exc_info)
        level, message = record.levelname.lower(), record.getMessage()
        self.out.line(json_line(level, message, fields, logger=record.name, when=record.created))
