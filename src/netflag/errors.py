"""Errors a user can cause, each carrying a one-line message fit for a terminal.

The tree::

    NetflagError                 anything netflag reports instead of a traceback
    +-- ParamsError              D, T or k missing or invalid
    +-- InputError               a file cannot be read, or a line is rejected in strict mode
        +-- RejectedLine         one bad event line (file, line number, reason)
    +-- CheckpointError          a snapshot or live checkpoint is corrupt, truncated,
                                 from another version, or does not match the sinks
    +-- WorkerError              a Ray worker died or failed (``--workers``)

The CLI turns every ``NetflagError`` into its message on stderr and a non-zero exit.
"""

from __future__ import annotations


class NetflagError(Exception):
    """Base class: ``str(error)`` is the whole message shown to the user."""

    exit_code = 2


class ParamsError(NetflagError):
    """The D/T/k parameters are missing or invalid."""


class InputError(NetflagError):
    """An input file cannot be opened or read."""


class CheckpointError(NetflagError):
    """A snapshot or checkpoint cannot be trusted: resuming from it could give a wrong answer."""


class WorkerError(NetflagError):
    """A Ray worker died or failed: the run stops, with no partial output."""


class RejectedLine(InputError):
    """A line broke SPEC section 5; raised only in strict mode, otherwise reported."""

    exit_code = 1

    def __init__(self, source: str, line: int | None, reason: str) -> None:
        """``line`` None: ``source`` already says where (a live source's position)."""
        super().__init__(
            f"{source}:{line}: {reason}" if line is not None else f"{source}: {reason}"
        )
        self.source = source
        self.line = line
        self.reason = reason
