"""The service's snapshots: when one is due, writing it beside the log, and restoring one.

A snapshot carries the engine's state, the log position it covers (the journal
rolls to a new segment under it), and what the service needs with it: the
counters, the flag files' lengths, the idempotency receipts. With the log's
tail it rebuilds exactly the acknowledged state, so snapshots bound recovery;
they are written in a thread, and one that fails costs nothing but time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from netflag.engine import Engine, EngineState
from netflag.engine.snapshot import Snapshot
from netflag.errors import CheckpointError, NetflagError
from netflag.modes.serve.shared import Shared
from netflag.runtime.pipeline import COUNTERS

log = logging.getLogger("netflag.serve")
SERVE_FIELDS = {"counts", "flags", "receipts"}  # what a snapshot of the service carries


class Snapshots:
    """Takes the service's snapshots (one at a time) and restores the one it starts from."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.task: asyncio.Task[None] | None = None  # a snapshot being written in a thread

    def restore(self, snapshot: Snapshot) -> tuple[Engine, dict[str, int]]:
        """The engine of ``snapshot`` (its parameters checked against the options), its
        flags and receipts put back; its counters."""
        shared, options = self.shared, self.shared.options
        made = snapshot.state.params
        wanted = made.overridden(options.D, options.T, options.k)
        if wanted != made:
            raise CheckpointError(
                f"{shared.journal} was made with {made.describe()}, not {wanted.describe()}:"
                " drop the options or use another --state directory"
            )
        try:
            engine = Engine.from_state(snapshot.state, strategy=options.strategy)
        except (IndexError, KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"{shared.journal}: engine state is invalid ({error})") from None
        extra = snapshot.extra
        shared.flags.open(extra["flags"])
        shared.receipts.load_json(extra["receipts"])
        return engine, {name: int(extra["counts"][name]) for name in COUNTERS}

    def maybe(self) -> None:
        """Start a snapshot in a thread if enough events or seconds went by since the last."""
        if self.task is not None and not self.task.done():
            return
        shared, options = self.shared, self.shared.options
        journal = shared.journal
        due = journal.seq - shared.snapshot_seq >= options.snapshot_every or (
            journal.seq > shared.snapshot_seq
            and time.monotonic() - shared.snapshot_at >= options.snapshot_seconds
        )
        if due:
            self.task = asyncio.get_running_loop().create_task(self._write_async())

    def now(self) -> None:
        """Take a snapshot here and now (starting up, closing)."""
        state, seq, extra = self._parts()
        self._write(state, seq, extra)
        self.shared.snapshot_seq, self.shared.snapshot_at = seq, time.monotonic()

    async def finish(self) -> None:
        """Wait for the snapshot under way; then a last one, if the log went past it."""
        if self.task is not None:
            await self.task
        shared = self.shared
        if shared.failed is None and shared.journal.seq > shared.snapshot_seq:
            self.now()

    def _parts(self) -> tuple[EngineState, int, dict[str, Any]]:
        """The state now, the log rolled under it, and what goes with it."""
        shared = self.shared
        state = shared.engine.state()
        seq = shared.journal.roll()
        shared.flags.flush()
        extra = {
            "counts": shared.pipeline.counts(),
            "flags": shared.flags.lengths(),
            "receipts": shared.receipts.to_json(),
        }
        return state, seq, extra

    def _write(self, state: EngineState, seq: int, extra: dict[str, Any]) -> None:
        self.shared.flags.sync()  # the snapshot vouches for the flag files' lengths
        self.shared.journal.save_snapshot(state, seq, extra)

    async def _write_async(self) -> None:
        state, seq, extra = self._parts()
        started = time.monotonic()
        try:
            await asyncio.to_thread(self._write, state, seq, extra)
        except (OSError, NetflagError) as error:
            log.error("snapshot failed (the log still holds everything): %s", error)
            return
        self.shared.snapshot_seq, self.shared.snapshot_at = seq, time.monotonic()
        log.info("snapshot at event %s in %.2f s", f"{seq:,}", time.monotonic() - started)
