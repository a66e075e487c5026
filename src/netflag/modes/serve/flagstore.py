"""The service's flags on disk, with what it needs to answer queries about them.

Three append-only files in the state directory:

- ``flagged_purchases.json``: every flag line, exactly as replay writes them,
  so the file can be compared with a replay of the service's log;
- ``actions.jsonl``: each flag's feed audience and recommendations
  (:func:`netflag.runtime.actions.action_line`, as ``replay --actions``);
- ``flags.seq``: each flag's sequence number in the log (8 bytes apiece).

They are derived from the log, so they are made durable only with each
snapshot, which records their lengths and CRC-32s. Recovery checks what the
snapshot covers (a changed byte there is a one-line refusal, not a wrong
answer later), cuts the files back to those lengths and the log's replay writes
the rest again: the same bytes, as the engine is deterministic. In memory:
offsets and sequence numbers (24 bytes a flag) and, per user, the flags that
reached their feed or recommended them someone (8 bytes each, the newest
:data:`PER_USER` kept).
"""

from __future__ import annotations

import os
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from netflag.errors import CheckpointError, InputError
from netflag.io.reader import describe_os_error

FLAGS = "flagged_purchases.json"
ACTIONS = "actions.jsonl"
SEQS = "flags.seq"
PER_USER = 1000  # flags kept per user in the feed and recommendation indexes
CRCS = {FLAGS: "flag_crc", ACTIONS: "action_crc", SEQS: "seq_crc"}  # their keys in lengths()


class FlagStore:
    """Append flags (:meth:`add`); look them up by number, sequence number or user."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seqs = array("q")  # seqs[i]: the log position of flag i + 1
        self._flag_at = array("q", [0])  # byte offsets of each flag line, then the end
        self._action_at = array("q", [0])
        # user -> flag indexes, oldest first: arrays, 8 bytes an entry (a list of ints took 36)
        self._feeds: dict[str, array[int]] = {}
        self._invites: dict[str, array[int]] = {}
        self._files: dict[str, BinaryIO] = {}
        self._crc = dict.fromkeys(CRCS, 0)  # of each file's bytes so far

    # -- start ------------------------------------------------------------------------

    def open(self, lengths: Mapping[str, int] | None) -> None:
        """Open the files, cut back to ``lengths`` (a snapshot's :meth:`lengths`; None: empty)."""
        recorded = {} if lengths is None else lengths
        count = int(recorded.get("flags", 0))
        sizes = {
            FLAGS: int(recorded.get("flag_bytes", 0)),
            ACTIONS: int(recorded.get("action_bytes", 0)),
            SEQS: count * self.seqs.itemsize,
        }
        data: dict[str, bytes] = {}
        for name, size in sizes.items():
            path = self.folder / name
            crc_key = CRCS[name]
            try:
                handle = path.open("a+b")
                handle.seek(0)
                content = handle.read(size)
                if len(content) < size:
                    raise CheckpointError(f"{path} is shorter than its snapshot says ({size:,})")
                handle.truncate(size)
            except OSError as error:
                raise InputError(f"cannot use {path}: {describe_os_error(error)}") from None
            self._files[name] = handle
            self._crc[name] = crc = zlib.crc32(content)
            if crc_key in recorded and crc != int(recorded[crc_key]):  # older snapshots: no CRC
                raise CheckpointError(
                    f"{path}: its first {size:,} bytes differ from what the snapshot recorded"
                )
            data[name] = content
        self.seqs.frombytes(data[SEQS])
        self._index(data[FLAGS], data[ACTIONS], count)

    def _index(self, flags: bytes, actions: bytes, count: int) -> None:
        for text, offsets in ((flags, self._flag_at), (actions, self._action_at)):
            pos = 0
            while (end := text.find(b"\n", pos)) >= 0:
                pos = end + 1
                offsets.append(pos)
            if len(offsets) != count + 1:
                raise CheckpointError(f"{self.folder}: the flag files do not agree ({count:,})")
        for index in range(count):
            start, end = self._action_at[index], self._action_at[index + 1]
            self._remember(index, orjson.loads(actions[start:end]))

    def _remember(self, index: int, action: dict[str, Any]) -> None:
        for user in action["feed"]:
            _push(self._feeds, user, index)
        for invite in action["recommendations"]:
            _push(self._invites, invite["user"], index)

    # -- write ------------------------------------------------------------------------

    def add(self, seq: int, flag: bytes, action: bytes) -> None:
        """Append one flag (its line and action line, each ending in a newline)."""
        number = seq.to_bytes(8, "little", signed=True)
        for name, data in ((FLAGS, flag), (ACTIONS, action), (SEQS, number)):
            self._files[name].write(data)
            self._crc[name] = zlib.crc32(data, self._crc[name])
        self.seqs.append(seq)
        self._flag_at.append(self._flag_at[-1] + len(flag))
        self._action_at.append(self._action_at[-1] + len(action))
        self._remember(len(self.seqs) - 1, orjson.loads(action))

    def flush(self) -> None:
        """Hand what was added to the OS, so :meth:`line` can read it back."""
        for handle in self._files.values():
            handle.flush()

    def sync(self) -> None:
        """Make the files durable up to :meth:`lengths` taken after the last :meth:`flush`."""
        for handle in self._files.values():
            os.fsync(handle.fileno())

    def lengths(self) -> dict[str, int]:
        """What a snapshot records, to cut the files back to on recovery."""
        return {
            "flags": len(self.seqs),
            "flag_bytes": self._flag_at[-1],
            "action_bytes": self._action_at[-1],
            **{key: self._crc[name] for name, key in CRCS.items()},
        }

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    # -- read -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.seqs)

    def line(self, index: int) -> bytes:
        """Flag ``index`` (from 0) as replay writes it, newline included."""
        return self._read(FLAGS, self._flag_at, index)

    def action(self, index: int) -> dict[str, Any]:
        """Flag ``index``'s action record: ``flagged``, ``feed``, ``recommendations``."""
        parsed: dict[str, Any] = orjson.loads(self._read(ACTIONS, self._action_at, index))
        return parsed

    def _read(self, name: str, offsets: array[int], index: int) -> bytes:
        start = offsets[index]
        return os.pread(self._files[name].fileno(), offsets[index + 1] - start, start)

    def index_of(self, seq: int) -> int | None:
        """The flag made by the event at ``seq``, if it was flagged."""
        index = bisect_right(self.seqs, seq) - 1
        return index if index >= 0 and self.seqs[index] == seq else None

    def after(self, seq: int, limit: int, until: int) -> range:
        """Indexes of the flags at ``seq < position <= until``, at most ``limit``, oldest first."""
        start = bisect_right(self.seqs, seq)
        end = min(bisect_right(self.seqs, until), start + max(limit, 0))
        return range(start, end)

    def newest(self, limit: int, until: int) -> range:
        """Indexes of the newest ``limit`` flags with position ``<= until``, oldest first."""
        end = bisect_right(self.seqs, until)
        return range(max(0, end - limit), end)

    def feed(self, user: str) -> Sequence[int]:
        """Flags highlighted in ``user``'s feed (they were the buyer's friend), oldest first."""
        return self._feeds.get(user, ())

    def invites(self, user: str) -> Sequence[int]:
        """Flags whose buyer was recommended to ``user`` as a friend, oldest first."""
        return self._invites.get(user, ())


def _push(index: dict[str, array[int]], user: str, flag: int) -> None:
    kept = index.get(user)
    if kept is None:
        kept = index[user] = array("q")
    kept.append(flag)
    if len(kept) > 2 * PER_USER:
        del kept[:-PER_USER]
