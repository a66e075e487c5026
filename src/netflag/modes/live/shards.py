"""Live mode on shards (``--shards P``): the state's start, and its snapshots beside the journal.

The journal (:mod:`netflag.runtime.journal`) logs the lines and the marks as
in one process. Its snapshot, though, holds no engine: each shard saves its
own state into a folder under ``STATE/shards/``, and the journal's snapshot
names that folder and each file's SHA-256 (the manifest). A restart restores
every shard from it and replays the log after it (:mod:`netflag.modes.live.resume`).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from netflag.distributed.nodes import Nodes, load_batch_on, save_shards
from netflag.distributed.sequencer import Sequencer
from netflag.engine import EngineState, Params
from netflag.io.counts import count
from netflag.io.sinks import Sink
from netflag.modes.live.status import info
from netflag.runtime.checkpoint import Checkpoint
from netflag.runtime.journal import Journal
from netflag.runtime.pipeline import Pipeline
from netflag.runtime.progress import Progress
from netflag.runtime.rejects import Rejects

SHARDS = "shards"  # the state folder's subfolder for the shards' snapshots
Stepper = Pipeline | Sequencer  # what takes a live run's lines: one engine, or the shards


@dataclass(frozen=True, slots=True)
class ShardStart:
    """Shard nodes holding the state, its decimal scale and the next arrival number."""

    nodes: Nodes
    scale: int
    seq: int

    def sequencer(
        self,
        params: Params,
        rejects: Rejects,
        sinks: Sequence[Sink],
        counts: dict[str, int],
        *,
        check: bool = True,
    ) -> Sequencer:
        """The stream's driver over these nodes, its counters resumed from ``counts``;
        without ``check``, one that only applies (a restart replaying its log)."""
        nodes, scale, seq = self.nodes, self.scale, self.seq
        return Sequencer(
            nodes, params, rejects, sinks, scale=scale, seq=seq, counts=counts, check=check
        )


def load_shards(
    nodes: Nodes, batch: Path, params: Params, rejects: Rejects, progress: Progress | None
) -> ShardStart:
    """A fresh run's start: every shard loads its users from ``batch``."""
    if progress is not None:
        progress.phase("load batch", detail=f"on {nodes.count} shards")
    applied, scale = load_batch_on(nodes, batch, params, rejects)
    info(f"loaded {count(applied, 'batch event')} from {batch}", events=applied)
    return ShardStart(nodes, scale, applied)


def snapshot_shards(journal: Journal, sequencer: Sequencer, checkpoint: Checkpoint) -> None:
    """The journal's snapshot on shards: each shard saves its state into a new folder, then
    the journal's snapshot names it (the commit), then the older folders go. A crash
    leaves the old snapshot or the new one, never a mix."""
    seq = journal.roll()
    shards = journal.path / SHARDS
    manifest = save_shards(sequencer.nodes, shards / f"{seq}-{uuid.uuid4().hex[:12]}")
    params = checkpoint.params
    empty = EngineState(params, [], [], [], [], [], [], [], sequencer.scale, sequencer.seq)
    journal.save_snapshot(empty, seq, {**checkpoint.to_json(), "shards": manifest})
    for folder in shards.iterdir():
        if folder.name != manifest["folder"]:
            shutil.rmtree(folder, ignore_errors=True)
