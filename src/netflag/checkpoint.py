"""Live mode's state directory: one checkpoint file, replaced atomically, and a lock.

``DIR/checkpoint`` is an engine snapshot (:mod:`netflag.engine.snapshot`) whose
``extra`` holds what live mode needs besides the engine: the run id, the source
position, each sink's position and the counters. One file under one checksum,
so the engine state and the positions can never come from different moments.
It is written to a temporary file, fsynced, renamed over the old one, and the
directory is fsynced: a crash leaves either the old checkpoint or the new one.

A *genesis* checkpoint is written before a fresh run writes anything: the run
id and where each sink started, with ``batch_loaded`` false (an empty engine).
A crash during the batch load then resumes from it: the batch is loaded again
and every sink skips or trims what that run already wrote.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from netflag.engine import EngineState, Params
from netflag.engine import snapshot as snapshots
from netflag.errors import CheckpointError, InputError
from netflag.io.reader import describe_os_error
from netflag.io.sinks.file import fsync_dir

CHECKPOINT = "checkpoint"
LOCK = "lock"


@dataclass(slots=True)
class Checkpoint:
    """What a restart needs: the engine state and every position that goes with it."""

    state: EngineState
    run: str
    batch_loaded: bool
    source: str
    source_position: dict[str, Any] | None
    sinks: list[tuple[str, dict[str, Any]]]
    counts: dict[str, int] = field(default_factory=dict)

    def extra(self) -> dict[str, Any]:
        return {
            "batch_loaded": self.batch_loaded,
            "counts": self.counts,
            "run": self.run,
            "sinks": [[url, position] for url, position in self.sinks],
            "source": self.source,
            "source_position": self.source_position,
        }

    def refuse_other(self, where: str, params: Params, source: str, sinks: list[str]) -> None:
        """Refuse to resume with other parameters, another source or other outputs."""
        made = self.state.params
        if params != made:
            raise CheckpointError(
                f"{where} was made with {made.describe()}, not {params.describe()}:"
                " drop the options or remove the directory to start over"
            )
        if self.source != source:
            raise CheckpointError(f"{where} belongs to source {self.source}, not {source}")
        if [url for url, _ in self.sinks] != sinks:
            had = ", ".join(url for url, _ in self.sinks) or "none"
            have = ", ".join(sinks) or "none"
            raise CheckpointError(f"{where} was made with sinks {had}; this run has {have}")


class StateDir:
    """The ``--state`` directory, locked for one live process at a time."""

    def __init__(self, path: Path, version: str) -> None:
        self.path = path
        self.version = version
        self._lock: BinaryIO | None = None

    def __str__(self) -> str:
        return str(self.path)

    def lock(self) -> None:
        """Take the directory, or fail in one line if another process holds it."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = (self.path / LOCK).open("ab")
        except OSError as error:
            raise InputError(f"cannot use {self.path}: {describe_os_error(error)}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise InputError(f"{self.path} is in use by another netflag live process") from None
        self._lock = handle

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def load(self) -> Checkpoint | None:
        """The last checkpoint, None when the directory has none yet."""
        path = self.path / CHECKPOINT
        try:
            loaded = snapshots.load_file(path, version=self.version)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise InputError(f"cannot read {path}: {describe_os_error(error)}") from None
        extra = loaded.extra
        try:
            return Checkpoint(
                loaded.state,
                str(extra["run"]),
                bool(extra["batch_loaded"]),
                str(extra["source"]),
                extra["source_position"],
                [(str(url), position) for url, position in extra["sinks"]],
                {str(k): int(v) for k, v in extra["counts"].items()},
            )
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"{path}: checkpoint lacks live-mode fields") from None

    def save(self, checkpoint: Checkpoint) -> None:
        """Replace the checkpoint atomically and durably."""
        parts = snapshots.dump_parts(
            checkpoint.state, version=self.version, extra=checkpoint.extra()
        )
        path = self.path / CHECKPOINT
        temp = self.path / f".{CHECKPOINT}.tmp"
        try:
            with temp.open("wb") as handle:
                handle.writelines(parts)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
            fsync_dir(self.path)
        except OSError as error:
            raise InputError(f"cannot write {path}: {describe_os_error(error)}") from None
