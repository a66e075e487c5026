"""Writers: flagged lines (the input echoed with mean and sd), rejects records, output files."""

from __future__ import annotations

import io
import os
import stat
import sys
import tempfile
from contextlib import ExitStack, suppress
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from netflag.errors import InputError
from netflag.io.reader import describe_os_error

if TYPE_CHECKING:
    from netflag.engine import Decision

STDOUT = "-"  # an output path that means standard output (./- is a file named "-")
COPY_CHUNK = 1 << 20


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


def is_stdout(path: Path | str) -> bool:
    """Whether an output path is ``-``, standard output."""
    return str(path) == STDOUT


def shown(path: Path | str) -> str:
    """How an output is named in a message: ``stdout`` for ``-``, else the path as given."""
    return "stdout" if is_stdout(path) else str(path)


def replaced(path: Path) -> bool:
    """Whether :class:`AtomicFile` replaces ``path`` by a rename: a regular file (or a
    symlink to one) or a new path, not ``-``, a FIFO or a device."""
    if is_stdout(path):
        return False
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return True  # a new path (any other error is reported when it is opened)


def same_file(one: Path, other: Path) -> bool:
    """Whether two paths name one file, existing or not (symlinks followed)."""
    if os.path.realpath(one) == os.path.realpath(other):
        return True
    try:
        return one.samefile(other)
    except OSError:
        return False


def write_error(path: Path | str, error: OSError) -> InputError:
    """``cannot write PATH: reason``, the one line for any failure to write an output."""
    return InputError(f"cannot write {shown(path)}: {describe_os_error(error)}")


class _Guarded(io.BufferedWriter):
    """A buffered file whose write errors (a full disk, /dev/full) are one-line InputErrors."""

    def __init__(self, raw: io.RawIOBase, path: Path | str) -> None:
        super().__init__(raw, buffer_size=1 << 16)
        self._path = path

    def write(self, data: Any, /) -> int:  # any buffer, as BufferedWriter.write takes
        try:
            return super().write(data)
        except OSError as error:
            raise write_error(self._path, error) from None

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as error:
            raise write_error(self._path, error) from None


class AtomicFile:
    """An output that appears whole when the run succeeds, and not at all when it fails.

    Every command writes its files through it; what the path names decides how:

    - a regular file or a new path: written under a temporary name beside it,
      then renamed over it, so a reader never sees half a file;
    - a symbolic link: followed; its final target is replaced that way, and the
      link stays a link;
    - ``-``, or an existing FIFO or device (``/dev/null``): opened now (a FIFO
      waits for its reader here) and never replaced; the bytes are kept in an
      anonymous temporary file and copied there once the run succeeds, so a
      failed or interrupted run writes nothing to it;
    - a directory or a socket: refused in one line.

    Any error opening or writing it (``ENOSPC`` on ``/dev/full``) is an
    :class:`~netflag.errors.InputError` naming the path.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: _Guarded | None = None
        self._temp: Path | None = None  # renamed over _final on success
        self._final: Path | None = None
        self._target: BinaryIO | None = None  # stdout or a special file: copied into at the end
        self._spool: io.FileIO | None = None  # what is copied there

    def __enter__(self) -> BinaryIO:
        try:
            if is_stdout(self.path):
                self._target = sys.stdout.buffer
            else:
                self._open_path()
            if self._target is not None:  # kept aside, unnamed, until the run succeeds
                spool = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115 - closed in __exit__
                self._handle, self._spool = _Guarded(spool, self.path), spool
        except OSError as error:
            self._close_target()
            raise write_error(self.path, error) from None
        assert self._handle is not None  # noqa: S101 - every branch above opens one
        return self._handle

    def _open_path(self) -> None:
        try:
            mode: int | None = self.path.stat().st_mode  # through any symlinks
        except FileNotFoundError:
            mode = None  # a new path, or a link to one
        if mode is not None and stat.S_ISDIR(mode):
            raise InputError(f"cannot write {self.path}: Is a directory")
        if mode is not None and stat.S_ISSOCK(mode):
            raise InputError(f"cannot write {self.path}: it is a socket, not a file")
        if mode is None or stat.S_ISREG(mode):
            final = Path(os.path.realpath(self.path))  # a symlink's final target
            final.parent.mkdir(parents=True, exist_ok=True)
            self._temp = final.with_name(f".{final.name}.partial")
            self._handle = _Guarded(io.FileIO(self._temp, "w"), self.path)
            self._final = final
        else:  # a FIFO or a device (/dev/stdout on a pipe too): never replaced
            self._target = self.path.open("wb")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        handle = self._handle
        if handle is None:
            return
        self._handle = None
        try:
            if kind is None:
                self._commit(handle)
        finally:
            _quietly_close(handle)
            if self._temp is not None:
                self._temp.unlink(missing_ok=True)  # gone after the rename; left only on failure
            self._close_target()

    def _commit(self, handle: _Guarded) -> None:
        handle.flush()
        if self._final is not None and self._temp is not None:
            handle.close()
            try:
                os.replace(self._temp, self._final)
            except OSError as failure:
                raise write_error(self.path, failure) from None
            return
        target, spool = self._target, self._spool
        assert target is not None and spool is not None  # noqa: S101 - no temporary name: a target
        spool.seek(0)
        try:
            if is_stdout(self.path):
                sys.stdout.flush()  # what was printed before comes first
            while chunk := spool.read(COPY_CHUNK):
                target.write(chunk)
            target.flush()
        except OSError as failure:
            if is_stdout(self.path):
                _drop_stdout()
            raise write_error(self.path, failure) from None

    def _close_target(self) -> None:
        target, self._target = self._target, None
        if target is not None and not is_stdout(self.path):
            _quietly_close(target)  # a FIFO's reader sees the end (of nothing, after a failure)


def write_all(files: dict[Path, bytes]) -> list[Path]:
    """Write several files (a report's folder) as one output: every one appears, each whole,
    only once all are written; after a failure or an interrupt, none does."""
    with ExitStack() as stack:
        for path, data in files.items():
            stack.enter_context(AtomicFile(path)).write(data)
    return list(files)


def _drop_stdout() -> None:
    """Point stdout at /dev/null after a failed write (EPIPE, ENOSPC), already reported:
    else Python's exit flushes what is left there and prints a second, multi-line error."""
    try:
        fd = sys.stdout.buffer.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):  # no descriptor (a test's captured stdout)
        return
    os.dup2(devnull, fd)
    os.close(devnull)


def _quietly_close(handle: BinaryIO) -> None:
    """Close a file whose write error, if any, is already reported."""
    with suppress(OSError, InputError):
        handle.close()
