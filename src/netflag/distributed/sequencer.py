"""The driver of partitioned state: it numbers the stream, cuts it into epochs, writes the flags.

:class:`Sequencer` takes raw stream lines. It parses each (a bad one is
rejected here, as one process rejects it), gives each event its arrival
number, and queues it. Every ``epoch`` events (or ``EPOCH_CHECKS``
purchases) it routes the writes to the shards that own their users (the
buyer's for a purchase, both users' for a befriend or unfriend) and starts
the epoch's checks (:func:`submit_epoch`). It holds no state of its own
beyond the epochs in flight: the raw lines of their purchases, to echo the
flagged ones. The flag rule itself runs here, on the exact sums the buyers'
shards return, so every flag line is the one a single process writes, in
stream order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from netflag.distributed.nodes import Nodes, checks_box, submit_epoch
from netflag.distributed.shards import writes_of
from netflag.engine import Decision, Params, Purchase
from netflag.engine.money import Amount, Baseline
from netflag.engine.shard_messages import Write, pack
from netflag.io.output import flag_of
from netflag.runtime.pipeline import Intake, Outcome
from netflag.runtime.rejects import Rejects, Writer

EPOCH_EVENTS = 4_096  # events an epoch: long enough that its D + 2 supersteps cost little a check
# Checks an epoch at most: they are all in flight at once, each holding its visited sets on
# every shard (at 100,000 users and D = 3, 3,000 checks held 2 GiB on a Python shard).
EPOCH_CHECKS = 256
IN_FLIGHT = 2  # epochs started and not yet written: the next one is routed while one runs


class Sequencer(Intake):
    """The stream, epoch by epoch, over the shard ``nodes`` loaded with the batch.

    ``scale`` is the shards' common decimal scale after the batch, ``seq`` the
    next arrival number (the batch's event count). Counters are as in
    :class:`~netflag.runtime.pipeline.Pipeline` (their :class:`Intake`), and resume
    from ``counts``.
    Without ``check`` the events only change the state (a live restart
    replaying its log: the sinks hold their flags already).
    """

    def __init__(
        self,
        nodes: Nodes,
        params: Params,
        rejects: Rejects,
        sinks: Sequence[Writer],
        *,
        scale: int,
        seq: int,
        epoch: int = EPOCH_EVENTS,
        counts: Mapping[str, int] | None = None,
        check: bool = True,
    ) -> None:
        if epoch < 1:
            raise ValueError("an epoch holds at least one event")
        super().__init__(rejects, counts)
        self.nodes, self.params, self.sinks = nodes, params, tuple(sinks)
        self.scale, self.seq, self.epoch, self.check = scale, seq, epoch, check
        self.epochs = 0
        self._queued: list[tuple[int, Any, bytes]] = []
        self._queued_checks = 0
        self._flight: deque[tuple[list[Any], list[tuple[bytes, Amount, int]], int]] = deque()
        self._after: list[Any] = [None] * nodes.count

    def step(
        self,
        raw: bytes,
        source: str,
        line: int | None = None,
        *,
        record: Callable[[str], bytes] | None = None,
    ) -> None:
        """Parse, number and queue ``raw`` (or reject it, ``record`` building a dead letter
        that is not a file line's); its flag is written later."""
        event = self.parse(raw, source, line, record)
        if isinstance(event, Outcome):
            return
        self.events += 1
        purchase = type(event) is Purchase
        self.checked += purchase
        self._queued_checks += purchase
        self._queued.append((self.seq, event, raw))
        self.seq += 1
        if len(self._queued) >= self.epoch or self._queued_checks >= EPOCH_CHECKS:
            self._submit()

    def close(self) -> None:
        """Nothing to let go of: the shard actors end with their pool."""

    def flush(self) -> None:
        """Run what is queued and write every flag still out: the outputs are now whole."""
        if self._queued:
            self._submit()
        while self._flight:
            self._write()

    def _submit(self) -> None:
        """Route the queued events to their shards and start their checks."""
        queued, self._queued, self._queued_checks = self._queued, [], 0
        count = self.nodes.count
        for _, event, _ in queued:
            if type(event) is Purchase and event.amount.scale > self.scale:
                self.scale = event.amount.scale
        scale = self.scale
        writes: list[list[Write]] = [[] for _ in range(count)]
        seqs: list[int] = []
        buyers: list[int] = []
        purchases: list[tuple[bytes, Amount, int]] = []
        for seq, event, raw in queued:
            made = writes_of(seq, event, scale)
            for write in made:
                writes[write[2] % count].append(write)
            if self.check and isinstance(event, Purchase):
                _, _, key, _, _, units = made[0]
                seqs.append(seq)
                buyers.append(key)
                purchases.append((raw, event.amount, units))
        self.epochs += 1
        handles = submit_epoch(
            self.nodes,
            self.params.D,
            scale,
            [pack(each) for each in writes],
            checks_box(seqs, buyers),
            self._after,
        )
        self._after = handles
        self._flight.append((handles, purchases, scale))
        while len(self._flight) > IN_FLIGHT:
            self._write()

    def _write(self) -> None:
        """Wait for the oldest epoch in flight and write its flags in stream order."""
        handles, purchases, scale = self._flight.popleft()
        sums = {check: (n, s1, s2) for part in self.nodes.get(handles) for check, n, s1, s2 in part}
        k = self.params.k
        for check, (raw, amount, units) in enumerate(purchases):
            found = sums.get(check)
            if found is None:  # fewer than two purchases in the network: never flagged
                continue
            baseline = Baseline(*found, scale=scale)
            flag = flag_of(raw, Decision(baseline.exceeds(units, k), amount, baseline, "shards"))
            if flag is not None:
                number = self.flagged = self.flagged + 1
                for sink in self.sinks:
                    sink.write(number, flag)
