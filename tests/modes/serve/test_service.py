"""The service without HTTP: answers, crashes and restarts, idempotency, against replay."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netflag.errors import CheckpointError
from netflag.io.sinks import ListSink
from netflag.io.sources import ListSource
from netflag.modes.live import Live, LiveOptions, LiveOutputs
from netflag.modes.replay import replay
from netflag.modes.serve.service import (
    Conflict,
    Gone,
    NotFound,
    Service,
    ServiceOptions,
    Unavailable,
)
from netflag.runtime.journal import LOG, read_lines
from netflag.version import __version__
from tests import paths
from tests.logs import event_logs

BUY = '{"event_type":"purchase", "timestamp":"2017-06-13 11:33:02", "id": "%s", "amount": "%s"}'
OFFICIAL = paths.OFFICIAL
BATCH = OFFICIAL / "log_input" / "batch_log.json"


def crash(service: Service) -> None:
    """Stop as a kill -9 would: no final snapshot, files simply closed."""
    service.flags.close()
    service.journal.close()


def post(service: Service, requests: list[tuple[list[bytes], str | None]]) -> list[bytes]:
    """Submit each request in turn on a fresh loop; their answers."""

    async def run() -> list[bytes]:
        service.run_writer()
        answers = [
            await service.submit(lines, key, hashlib.sha256(b"\n".join(lines)).hexdigest())
            for lines, key in requests
        ]
        if service.snapshots.task is not None:
            await service.snapshots.task  # a snapshot the last group started
        if service.writer.task is not None:
            service.writer.task.cancel()
        return answers

    return asyncio.run(run())


def started(batch: Path, state: Path, **options: object) -> Service:
    service = Service(batch, state, ServiceOptions(**options))  # type: ignore[arg-type]
    service.start()
    return service


def test_answers_flag_the_official_example(tmp_path: Path) -> None:
    service = started(BATCH, tmp_path / "state")
    [text] = post(service, [([(BUY % (2, "1601.83")).encode(), b"nope"], None)])
    results = orjson.loads(text)["results"]
    assert results[0]["flagged"] is True and results[0]["seq"] == 1
    assert results[0]["flag"].endswith('"amount": "1601.83", "mean": "29.10", "sd": "21.46"}')
    assert results[1] == {
        "status": "rejected",
        "seq": 2,
        "reason": "not valid JSON: Expecting value (column 1)",
    }
    asyncio.run(service.close())


def test_a_retry_gets_the_first_answer_even_after_a_crash(tmp_path: Path) -> None:
    state = tmp_path / "state"
    service = started(BATCH, state)
    lines = [(BUY % (2, "1601.83")).encode()]
    [first] = post(service, [(lines, "key-1")])
    crash(service)
    service = started(BATCH, state)
    [again] = post(service, [(lines, "key-1")])
    assert again == first
    assert service.synced == 1  # applied once
    with pytest.raises(Conflict):
        post(service, [([b"{}"], "key-1")])
    crash(service)


def test_explain_rebuilds_the_moment_of_a_decision(tmp_path: Path) -> None:
    service = started(BATCH, tmp_path / "state", snapshot_every=2)
    post(service, [([(BUY % (2, "1601.83")).encode()], None), ([(BUY % (1, "5")).encode()], None)])
    post(service, [([(BUY % (2, "7")).encode()], None)])
    # Events 1-2 are behind the snapshot taken after event 2; event 3 is in the log.
    found = service.explain_seq(3)
    assert (found.user, found.flagged, found.stats is not None) == ("2", False, True)
    with pytest.raises(Gone, match="no longer in the log: the snapshot at event 2 replaced"):
        service.explain_seq(1)
    with pytest.raises(NotFound):
        service.explain_seq(4)
    asyncio.run(service.close())


def test_a_restart_after_a_crash_keeps_the_log_it_replayed(tmp_path: Path) -> None:
    """No snapshot on the way up after kill -9: explain and journal still see every event."""
    state = tmp_path / "state"
    service = started(BATCH, state)
    post(service, [([(BUY % (2, "1601.83")).encode(), (BUY % (1, "5")).encode()], None)])
    crash(service)
    service = started(BATCH, state)
    assert (service.snapshot_seq, service.synced) == (0, 2)
    assert service.explain_seq(1).flagged is True
    crash(service)
    assert [seq for seq, _ in read_lines(state, __version__)] == [1, 2]  # netflag journal's


def _split(draw: st.DrawFn, lines: list[bytes]) -> list[list[bytes]]:
    requests, start = [], 0
    while start < len(lines):
        size = draw(st.integers(1, 5))
        requests.append(lines[start : start + size])
        start += size
    return requests


@given(log=event_logs(), data=st.data())
@settings(max_examples=40)
def test_crashes_and_restarts_give_replay_bytes(
    log: tuple[str, str, object], data: st.DataObject
) -> None:
    batch_text, stream_text, _ = log
    stream = [line.encode() for line in stream_text.splitlines()]
    stream.insert(data.draw(st.integers(0, len(stream))), b'{"event_type": "refund"}')
    requests = _split(data.draw, stream)
    crashes = set(data.draw(st.lists(st.integers(0, len(requests)), max_size=3)))
    every = data.draw(st.sampled_from([2, 5, 1_000_000]))
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        batch = root / "batch.json"
        batch.write_text(batch_text)
        (root / "stream.json").write_bytes(b"".join(line + b"\n" for line in stream))
        replay(batch, root / "stream.json", root / "expected.json")
        state = root / "state"
        service = started(batch, state, snapshot_every=every)
        answers: list[bytes] = []
        for index, lines in enumerate(requests):
            if index in crashes:
                crash(service)
                service = started(batch, state, snapshot_every=every)
            answers += post(service, [(lines, f"k{index}")])
        crash(service)
        service = started(batch, state, snapshot_every=every)
        # Every answer is still the answer after the crashes, and nothing applied twice.
        assert post(service, [(lines, f"k{i}") for i, lines in enumerate(requests)]) == answers
        assert service.synced == len(stream)
        expected = (root / "expected.json").read_bytes()
        assert (state / "flagged_purchases.json").read_bytes() == expected
        flags = [
            result["flag"] + "\n"
            for text in answers
            for result in orjson.loads(text)["results"]
            if result.get("flagged")
        ]
        assert "".join(flags).encode() == expected
        asyncio.run(service.close())
        assert len(list((state / LOG).iterdir())) == 1  # the closing snapshot dropped the rest


def test_after_a_failed_fsync_nothing_is_answered_as_applied(tmp_path: Path) -> None:
    service = started(BATCH, tmp_path / "state")
    syncer = service.journal.syncer

    def failing() -> Callable[[], None]:
        sync = syncer()

        def broken() -> None:
            sync()
            raise OSError(errno.EIO, "Input/output error")

        return broken

    service.journal.syncer = failing  # type: ignore[method-assign]
    lines = [(BUY % (2, "1601.83")).encode()]
    for _ in range(2):  # the first try, then its retry with the same key
        with pytest.raises(Unavailable, match="the log cannot be written"):
            post(service, [(lines, "key-1")])
    assert service.synced == 0 and service.receipts.get("key-1") is None
    crash(service)


def test_a_live_state_directory_is_refused_in_one_line(tmp_path: Path) -> None:
    state = tmp_path / "state"
    options = LiveOptions(state=state)
    Live(BATCH, ListSource([]), LiveOutputs([ListSink()]), options).run()
    with pytest.raises(CheckpointError, match="not a netflag serve state directory"):
        started(BATCH, state)
