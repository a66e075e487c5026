"""Where a restarted live run picks up: the journal's last mark, and the engine it vouches for.

A restart reads the snapshot and the log after it, keeps the lines up to the
last mark (the ones after it were never checkpointed and are cut: the source
gives them again), and applies them without deciding anything, since the sinks
already hold their flags. The counters must come out as the mark says, or the
directory is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from netflag.distributed.nodes import Nodes, restore_shards
from netflag.distributed.sequencer import Sequencer
from netflag.engine import Engine, Params, Strategy
from netflag.errors import CheckpointError
from netflag.modes.live.shards import SHARDS, ShardStart
from netflag.runtime.checkpoint import Checkpoint, refuse_legacy
from netflag.runtime.journal import SNAPSHOT, Journal
from netflag.runtime.pipeline import Pipeline
from netflag.runtime.progress import Progress
from netflag.runtime.rejects import Rejects


@dataclass(frozen=True, slots=True)
class Resumed:
    """The engine (None: the batch is still to load) and the checkpoint (None: a fresh run),
    and how many logged lines no snapshot covers yet. With shards, ``shards`` (the
    nodes, restored and caught up) stands in for the engine."""

    engine: Engine | None = None
    checkpoint: Checkpoint | None = None
    unsnapped: int = 0
    shards: ShardStart | None = None


def resume(
    journal: Journal,
    wanted: tuple[object, object, object],
    source: str,
    outputs: list[str],
    strategy: Strategy,
    progress: Progress | None,
    shards: Callable[[Params], Nodes] | None = None,
) -> Resumed:
    """Recover ``journal`` for a run over ``source`` writing ``outputs`` (their URLs, in
    checkpoint order); ``wanted`` are the run's D, T, k options (None: as checkpointed).
    ``shards`` makes the shard nodes of a run with ``--shards``.

    Refuses a checkpoint made with other parameters, another source or other outputs,
    or with shards when the run has none (and the reverse).
    """
    refuse_legacy(journal.path)
    if progress is not None and (journal.path / SNAPSHOT).exists():
        progress.phase("restore snapshot")
    recovery = journal.recover()
    where = str(journal)
    snapshot = recovery.snapshot
    point, mark = recovery.seq, None if snapshot is None else snapshot.extra
    for record in recovery.records:
        # A mark with no line between it and the snapshot adds nothing the snapshot lacks, and
        # may be older: a fresh run's genesis mark (batch not loaded yet) stays in the segment
        # the batch's snapshot rolls to while no line comes. The snapshot holds the state.
        if "mark" in record.meta and (snapshot is None or record.first - 1 > recovery.seq):
            point, mark = record.first - 1, record.meta["mark"]
    if mark is None:
        return Resumed()
    checkpoint = Checkpoint.from_json(mark, where)
    params: Params = checkpoint.params.overridden(*wanted)
    checkpoint.refuse_other(where, params, source, outputs)
    journal.truncate(point)  # lines no mark vouches for: the source gives them again
    if not checkpoint.batch_loaded:
        return Resumed(checkpoint=checkpoint)
    if snapshot is None:
        raise CheckpointError(f"{where}: the batch was loaded but no snapshot holds it")
    manifest = snapshot.extra.get("shards")
    if (manifest is None) != (shards is None):
        had = "without --shards" if manifest is None else f"with --shards {manifest.get('count')}"
        raise CheckpointError(f"{where}: the state was checkpointed {had}: run so again")
    base = Checkpoint.from_json(snapshot.extra, where)
    replaying: Pipeline | Sequencer
    engine = None
    if shards is not None and manifest is not None:
        nodes = shards(params)
        restore_shards(nodes, journal.path / SHARDS, manifest)
        restored = ShardStart(nodes, snapshot.state.scale, snapshot.state.next_seq)
        rejects = Rejects(count=base.counts["rejected"])
        replaying = restored.sequencer(params, rejects, [], base.counts, check=False)
    else:
        try:
            engine = Engine.from_state(snapshot.state, strategy=strategy)
        except (IndexError, KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"{where}: engine state is invalid ({error})") from None
        replaying = Pipeline(engine, Rejects(count=base.counts["rejected"]), counts=base.counts)
    lines = [
        line
        for record in recovery.records
        if record.first + len(record.lines) - 1 <= point
        for line in record.lines
    ]
    if progress is not None and lines:
        progress.phase("replay log", len(lines), "events")
    # The sinks hold these lines' records already: rebuild the state, decide nothing.
    for number, line in enumerate(lines, recovery.seq + 1):
        if isinstance(replaying, Sequencer):
            replaying.step(line, where, number)
        else:
            replaying.admit(line, where, number)
    replaying.flush()
    counts = replaying.counts()
    counts["flagged"] = checkpoint.counts["flagged"]  # decided then, not now
    if counts != checkpoint.counts:
        raise CheckpointError(f"{where}: the log does not lead to its checkpoint's counts")
    if isinstance(replaying, Sequencer):
        start = ShardStart(replaying.nodes, replaying.scale, replaying.seq)
        return Resumed(None, checkpoint, len(lines), start)
    return Resumed(engine, checkpoint, len(lines))
