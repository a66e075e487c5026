"""The per-line path every surface shares: raw line -> event -> decision -> flag line -> outputs.

Replay's stream loop and live mode (and next the HTTP service) hand their lines
to one :class:`Pipeline`, so the same lines give the same flags, dead letters
and counts whichever surface read them. Bad lines go to :class:`Rejects`, which
also serves the batch load (batch lines are applied, never checked, so they
take only that half of the path).

>>> from netflag.engine import Engine, Params
>>> from netflag.io.sinks import ListSink
>>> flags = ListSink()
>>> pipeline = Pipeline(Engine(Params.of(1, 2)), Rejects(), [flags])
>>> buy = '{"event_type":"purchase", "timestamp":"2017-06-13 11:33:01", "id": "%s", "amount": "%s"}'
>>> for n, line in enumerate([
...     '{"event_type":"befriend", "timestamp":"2017-06-13 11:33:01", "id1": "1", "id2": "2"}',
...     buy % (1, "10"), buy % (1, "30"), "not json", buy % (2, "95"),
... ], start=1):
...     outcome = pipeline.step(line.encode(), "stream.json", n)
>>> outcome.number, flags.lines == [outcome.flag]
(1, True)
>>> outcome.flag.endswith(b'"amount": "95", "mean": "20.00", "sd": "10.00"}\\n')
True
>>> pipeline.counts()
{'events': 4, 'checked': 3, 'flagged': 1, 'rejected': 1}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import BinaryIO, NamedTuple

from netflag.engine import Befriend, Decision, Engine, Event, Params, Purchase, Unfriend
from netflag.io.events import LineError, parse_event
from netflag.io.output import flag_of
from netflag.runtime.actions import FlagHook, action_line
from netflag.runtime.rejects import Rejection, Rejects, Writer

COUNTERS = ("events", "checked", "flagged", "rejected")
_KINDS: dict[type, str] = {Purchase: "purchase", Befriend: "befriend", Unfriend: "unfriend"}


class FileWriter:
    """A plain binary file as a :class:`Writer`: a file written once, whole, needs no numbers."""

    __slots__ = ("file",)

    def __init__(self, file: BinaryIO) -> None:
        self.file = file

    def write(self, number: int, line: bytes) -> None:
        self.file.write(line)


class Outcome(NamedTuple):
    """What one line did, for a caller that answers per line (such as an HTTP service).

    Applied: ``kind`` is its event type, ``decision`` and ``event`` are set for a
    checked purchase, and ``flag`` is the line written to the sinks as flag ``number``.
    Rejected: only ``reason`` is set. A named tuple: immutable, and cheap
    enough to make for every line.
    """

    kind: str | None = None
    reason: str | None = None
    decision: Decision | None = None
    flag: bytes | None = None
    number: int | None = None
    event: Event | None = None

    @property
    def applied(self) -> bool:
        return self.reason is None

    @property
    def flagged(self) -> bool:
        return self.flag is not None


class Intake:
    """What every taker of stream lines shares: the parse (or the reject) and four counters.

    ``rejects`` handles bad lines (pass the policy the batch load used, so the
    rejected count and the dead-letter numbers run on); ``counts`` resumes the
    counters of :meth:`counts` (from a live checkpoint).
    """

    def __init__(self, rejects: Rejects, counts: Mapping[str, int] | None = None) -> None:
        self.rejects = rejects
        counts = counts or {}
        self.events = counts.get("events", 0)  # lines applied
        self.checked = counts.get("checked", 0)  # purchases decided
        self.flagged = counts.get("flagged", 0)  # flags written: the last flag's number

    @property
    def rejected(self) -> int:
        """Bad lines so far, batch ones included: the reject policy counts them."""
        return self.rejects.count

    def counts(self) -> dict[str, int]:
        """The four counters, as a checkpoint stores them."""
        return {
            "events": self.events,
            "checked": self.checked,
            "flagged": self.flagged,
            "rejected": self.rejects.count,
        }

    def parse(
        self, raw: bytes, source: str, line: int | None, record: Callable[[str], bytes] | None
    ) -> Event | Outcome:
        """The event on ``raw``, or the rejected outcome (the line handed to the reject
        policy): the first half of a step, for a pipeline that decides elsewhere."""
        try:
            return parse_event(raw)
        except LineError as error:
            reason = str(error)
            self.rejects(Rejection(source, line, reason, raw), record)
            return Outcome(reason=reason)


class Pipeline(Intake):
    """One engine and its outputs: :meth:`step` takes a line the whole way.

    ``rejects`` handles bad lines (pass the policy the batch load used, so the
    rejected count and the dead-letter numbers run on). ``sinks`` get every
    flag line; ``actions`` (optional) each flag's feed audience and friend
    recommendations (at most ``max_recommendations``); ``on_flag`` hears each
    flag while the engine still stands at that moment. ``counts`` resumes the
    counters of :meth:`counts` (from a live checkpoint).
    """

    def __init__(
        self,
        engine: Engine,
        rejects: Rejects,
        sinks: Sequence[Writer] = (),
        *,
        actions: Writer | None = None,
        max_recommendations: int = 10,
        on_flag: FlagHook | None = None,
        counts: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(rejects, counts)
        self.engine = engine
        self.sinks = tuple(sinks)
        self.actions = actions
        self.max_recommendations = max_recommendations
        self.on_flag = on_flag

    @property
    def params(self) -> Params:
        """The engine's D, T and k."""
        return self.engine.params

    def flush(self) -> None:
        """Write whatever is still pending: nothing here, every step writes its own flag.

        A pipeline whose decisions come back later (workers on Ray,
        :class:`netflag.distributed.pipeline.ShardedPipeline`) writes them here;
        callers flush before they read the outputs or checkpoint.
        """

    def close(self) -> None:
        """Let go of what the pipeline holds besides its outputs: nothing here (workers there)."""

    def admit(
        self,
        raw: bytes,
        source: str,
        line: int | None = None,
        *,
        record: Callable[[str], bytes] | None = None,
        apply: bool = True,
    ) -> Event | Outcome:
        """:meth:`step` without the decision: parse (or reject), count, and apply when
        ``apply``, deciding nothing. For purchases decided elsewhere (on Ray workers)
        or already (a live restart replaying its log); returns the event or the reject."""
        event = self.parse(raw, source, line, record)
        if isinstance(event, Outcome):
            return event
        self.events += 1
        self.checked += type(event) is Purchase
        if apply:
            self.engine.apply(event, check=False)
        return event

    def step(
        self,
        raw: bytes,
        source: str,
        line: int | None = None,
        *,
        record: Callable[[str], bytes] | None = None,
    ) -> Outcome:
        """Parse, apply and decide ``raw``; write its flag, actions or dead letter.

        ``source`` and ``line`` say where it was, as in :class:`Rejection`;
        ``record(reason)`` builds a dead letter that is not a file line's (see
        :meth:`Rejects.__call__`). Raises :class:`RejectedLine` on a bad line in
        strict mode.
        """
        event = self.parse(raw, source, line, record)
        if isinstance(event, Outcome):
            return event
        self.events += 1
        engine = self.engine
        decision = engine.apply(event)
        if decision is None:
            return APPLIED[type(event)]
        kind = _KINDS[type(event)]
        self.checked += 1
        flag = flag_of(raw, decision)
        if flag is None:
            return Outcome(kind, decision=decision, event=event)
        number = self.flagged = self.flagged + 1
        for sink in self.sinks:
            sink.write(number, flag)
        if isinstance(event, Purchase):
            if self.actions is not None:
                limit = self.max_recommendations
                self.actions.write(number, action_line(engine, event, decision, raw, limit))
            if self.on_flag is not None:
                self.on_flag(engine, event, decision, raw)
        return Outcome(kind, decision=decision, flag=flag, number=number, event=event)


APPLIED = {kind: Outcome(name) for kind, name in _KINDS.items()}  # undecided: always alike
