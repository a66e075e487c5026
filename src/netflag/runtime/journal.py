"""A durable event log with snapshots: what ``netflag serve`` acknowledges against.

A journal directory holds::

    lock                      one process at a time
    snapshot                  an engine snapshot (format 2) covering events 1..S
    log/<first seq>.wal       segments of the write-ahead log, oldest first

Each log record is one header line and the raw event lines it frames
(:mod:`netflag.runtime.wal`), so a record torn by a crash is recognised and
cut off at recovery. Lines keep their exact bytes: the log *is*
the stream log, and line ``s`` of it (counting across segments, from 1) is the
event with sequence number ``s``. Records carry the caller's ``meta`` (the
service puts idempotency keys there), so what was made durable together comes
back together.

A snapshot rolls the log to a new segment first, so it always sits on a
segment boundary; once the snapshot is durable, the segments it covers are
deleted. A crash between the two leaves old segments that recovery skips.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from netflag.engine import EngineState
from netflag.engine import snapshot as snapshots
from netflag.errors import CheckpointError, InputError
from netflag.io.reader import describe_os_error
from netflag.io.sinks.file import fsync_dir
from netflag.runtime.wal import (
    LOG,
    SUFFIX,
    Record,
    durable_replace,
    frame,
    read_lines,
    records_in,
    segments_in,
    torn,
)

__all__ = ["LOCK", "LOG", "SNAPSHOT", "Journal", "Record", "Recovery", "read_lines"]

SNAPSHOT = "snapshot"
LOCK = "lock"


@dataclass(slots=True)
class Recovery:
    """What a journal holds: the snapshot (None before the first) and the records after it."""

    snapshot: snapshots.Snapshot | None
    records: list[Record]
    dropped: int = 0  # bytes of a torn record cut off the log's tail

    @property
    def seq(self) -> int:
        """The last event the snapshot covers (0 without one)."""
        return 0 if self.snapshot is None else int(self.snapshot.extra["seq"])


class Journal:
    """Append event lines durably; snapshot the engine to bound recovery.

    ``recover()`` first (it takes the lock and opens the log), then
    ``append`` + ``sync`` per group commit, ``roll`` + ``save_snapshot`` now
    and then. ``save_snapshot`` may run on another thread than ``append``.
    """

    def __init__(self, path: Path, version: str, *, keep: bool = False) -> None:
        self.path = path
        self.version = version
        self.keep = keep  # keep the segments a snapshot covers (a whole archive of the log)
        self.seq = 0  # the last sequence number appended
        self._lock: BinaryIO | None = None
        self._file: BinaryIO | None = None
        self._segments_lock = threading.Lock()

    def __str__(self) -> str:
        return str(self.path)

    # -- start --------------------------------------------------------------------

    def recover(self) -> Recovery:
        """Lock the directory, read the snapshot and the log after it, open the log."""
        self._take_lock()
        try:
            return self._recover()
        except BaseException:
            self.close()
            raise

    def _recover(self) -> Recovery:
        snapshot = None
        try:
            snapshot = snapshots.load_file(self.path / SNAPSHOT, version=self.version)
        except FileNotFoundError:
            pass
        except OSError as error:
            where = self.path / SNAPSHOT
            raise InputError(f"cannot read {where}: {describe_os_error(error)}") from None
        recovery = Recovery(snapshot, [])
        if snapshot is not None and "seq" not in snapshot.extra:
            raise CheckpointError(f"{self.path / SNAPSHOT}: not a journal snapshot (no seq)")
        seq = recovery.seq
        segments = segments_in(self.path / LOG)
        for index, (first, path) in enumerate(segments):
            following = segments[index + 1][0] if index + 1 < len(segments) else None
            if following is not None and following <= recovery.seq + 1:
                seq = max(seq, following - 1)
                continue  # wholly behind the snapshot (kept by --keep-log): not read
            if following is None and first > seq + 1 and path.stat().st_size == 0:
                path.unlink()  # all an interrupted cut left there (older netflag versions)
                fsync_dir(path.parent)
                break
            seq = self._read_segment(path, first, seq, following is None, recovery)
        self.seq = seq
        self._open_segment(seq + 1)
        return recovery

    def _take_lock(self) -> None:
        try:
            (self.path / LOG).mkdir(parents=True, exist_ok=True)
            handle = (self.path / LOCK).open("ab")
        except OSError as error:
            raise InputError(f"cannot use {self.path}: {describe_os_error(error)}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise InputError(f"{self.path} is in use by another netflag process") from None
        self._lock = handle

    def _read_segment(self, path: Path, first: int, seq: int, last: bool, into: Recovery) -> int:
        """Add the records of one segment that start past the snapshot; cut a torn tail
        off the last segment. ``seq`` is the last event read so far."""
        if first > seq + 1:
            raise CheckpointError(f"{path}: the log jumps from event {seq} to {first}")
        base = into.seq
        data = path.read_bytes()
        for offset, record in records_in(data, first):
            if record is None:
                if not last or not torn(data, offset):
                    raise CheckpointError(f"{path}: corrupt record at byte {offset}")
                into.dropped = len(data) - offset
                with path.open("r+b") as handle:
                    handle.truncate(offset)
                    os.fsync(handle.fileno())
                break
            end = record.first + len(record.lines) - 1
            seq = max(seq, end)
            if record.first > base:
                into.records.append(record)
            elif end > base:
                raise CheckpointError(f"{path}: a record straddles the snapshot at {base}")
        return max(seq, first - 1)

    def truncate(self, seq: int) -> None:
        """Drop every record that ends after event ``seq``: logged, never vouched for.

        ``seq`` must be a record boundary (live mode cuts back to its last mark).
        """
        self._log().close()
        segments = segments_in(self.path / LOG)
        for index, (first, path) in enumerate(segments):
            data = path.read_bytes()
            offset = next(
                (
                    offset
                    for offset, record in records_in(data, first)
                    if record is None or record.first + len(record.lines) - 1 > seq
                ),
                None,
            )
            if offset is None:
                continue
            # The later segments go first: a crash in between leaves records past
            # ``seq`` that the next start cuts again, never a gap in the log.
            for _, later in segments[index + 1 :]:
                later.unlink()
            fsync_dir(self.path / LOG)
            with path.open("r+b") as handle:
                handle.truncate(offset)
                os.fsync(handle.fileno())
            break
        self.seq = seq
        self._open_segment(seq + 1)

    def _log(self) -> BinaryIO:
        if self._file is None:
            raise RuntimeError("Journal.recover() first")
        return self._file

    def _open_segment(self, first: int) -> None:
        path = self.path / LOG / f"{first:020d}{SUFFIX}"
        try:
            self._file = path.open("ab")
            fsync_dir(path.parent)
        except OSError as error:
            raise InputError(f"cannot write {path}: {describe_os_error(error)}") from None

    # -- append -------------------------------------------------------------------

    def append(self, lines: Sequence[bytes], meta: Mapping[str, Any] | None = None) -> int:
        """Frame ``lines`` (no line endings) as one record; returns the first's number.

        Buffered only: nothing is durable before :meth:`sync`.
        """
        record = frame(lines, dict(meta) if meta else None)
        self._log().write(record)
        first = self.seq + 1
        self.seq += len(lines)
        return first

    def sync(self) -> None:
        """Make every appended record durable (one fsync for the whole group)."""
        self.syncer()()

    def syncer(self) -> Callable[[], None]:
        """Hand the appended records to the OS now; the call returned makes them durable.

        It may run on another thread while appends go on, and even after a
        :meth:`roll` has closed the segment: it holds its own descriptor.
        """
        log = self._log()
        log.flush()
        fd = os.dup(log.fileno())

        def fdatasync() -> None:
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)

        return fdatasync

    # -- snapshots ----------------------------------------------------------------

    def roll(self) -> int:
        """Start a new segment so a snapshot of the state now sits on a boundary.

        Call with everything appended so far synced; returns the snapshot's ``seq``.
        """
        self.sync()
        self._log().close()
        self._open_segment(self.seq + 1)
        return self.seq

    def save_snapshot(self, state: EngineState, seq: int, extra: Mapping[str, Any]) -> None:
        """Write the snapshot of events 1..``seq`` (from :meth:`roll`), then drop the
        segments it covers."""
        parts = snapshots.dump_parts(state, version=self.version, extra={**extra, "seq": seq})
        durable_replace(self.path / SNAPSHOT, parts)
        if self.keep:
            return
        with self._segments_lock:
            for first, path in segments_in(self.path / LOG):
                if first <= seq:
                    path.unlink()
            fsync_dir(self.path / LOG)

    def log_bytes(self) -> int:
        """Bytes in the log segments kept."""
        with self._segments_lock:
            return sum(path.stat().st_size for _, path in segments_in(self.path / LOG))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None
