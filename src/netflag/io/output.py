"""Writers: flagged lines (the input echoed with mean and sd) and the rejects file."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import orjson

from netflag.engine import Decision
from netflag.errors import InputError
from netflag.io.reader import describe_os_error


def flagged_line(raw: bytes, mean: str, sd: str) -> bytes:
    """The input line, without line ending and trailing space, with mean and sd appended.

    >>> flagged_line(b'{"id": "2", "amount": 12.50 }\\r\\n', "29.10", "21.46")
    b'{"id": "2", "amount": 12.50, "mean": "29.10", "sd": "21.46"}\\n'
    """
    body = raw.rstrip()[:-1].rstrip()  # a valid object line ends with "}"
    return b'%s, "mean": "%s", "sd": "%s"}\n' % (body, mean.encode(), sd.encode())


def flag_of(raw: bytes, decision: Decision | None) -> bytes | None:
    """The output line for a decision on the event ``raw``: None unless it flagged."""
    if decision is None or not decision.flagged or decision.baseline is None:
        return None
    return flagged_line(raw, decision.baseline.mean_text(), decision.baseline.sd_text())


def rejection_record(source: str, line: int | None, reason: str, raw: bytes) -> bytes:
    """One JSON line for the rejects file: where, why, and the line itself.

    ``line`` is None (JSON null) when ``source`` alone says where.
    """
    record = {
        "file": source,
        "line": line,
        "reason": reason,
        "raw": raw.rstrip(b"\r\n").decode("utf-8", errors="replace"),
    }
    return orjson.dumps(record) + b"\n"


class AtomicFile:
    """A file written under a temporary name and renamed into place on success.

    Readers never see half a file, and a failed run leaves no partial output.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._temp = path.with_name(f".{path.name}.partial")
        self._handle: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        if self.path.is_dir():
            raise InputError(f"cannot write {self.path}: Is a directory")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self._temp.open("wb")
        except OSError as error:
            raise InputError(f"cannot write {self.path}: {describe_os_error(error)}") from None
        return self._handle

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._handle is None:
            return
        self._handle.close()
        if kind is not None:
            self._temp.unlink(missing_ok=True)
            return
        try:
            os.replace(self._temp, self.path)
        except OSError as failure:
            self._temp.unlink(missing_ok=True)
            raise InputError(f"cannot write {self.path}: {describe_os_error(failure)}") from None
