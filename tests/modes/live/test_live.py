"""Live mode end to end: the bytes of replay, checkpoints, SIGKILL at random points, Redis restarts.

Every test compares with ``netflag replay`` on the same events: the flags file
byte for byte, and the dead letters (same records as replay's rejects file for
a file source; same reasons and lines, in order, for Redis, whose records carry
entry ids instead of line numbers).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from netflag.cli import app
from netflag.devtools.servers import RedisServer
from netflag.engine import EngineState
from netflag.errors import CheckpointError
from netflag.io.sinks import FileSink, ListSink
from netflag.io.sources import FileSource, Lag, ListSource
from netflag.modes.live import Live, LiveOptions, LiveOutputs, LiveStatus
from netflag.modes.live.run import POLL_LINES
from netflag.modes.replay import replay
from netflag.runtime.journal import Journal
from netflag.runtime.progress import Recorder
from netflag.version import __version__
from tests import paths
from tests.hostile import ISSUE_LINES
from tests.logs import event_logs
from tests.modes.live.runs import (
    NETFLAG,
    checkpointed_since,
    feed_file,
    finish,
    live_args,
    reasons,
    spawn,
)

# --- in process ---------------------------------------------------------------------------


def test_live_gives_replays_bytes(logs) -> None:
    flags, dead = ListSink(), ListSink()
    source = ListSource(logs["lines"], name=str(logs["stream"]))
    summary = Live(logs["batch"], source, LiveOutputs([flags], rejects=dead)).run()
    assert b"".join(flags.lines) == logs["flags"]
    assert b"".join(dead.lines) == logs["rejects"]
    assert summary.rejected == len(dead.lines) > 10
    assert summary.flagged == len(flags.lines)


def test_resuming_in_steps_from_checkpoints_gives_replays_bytes(logs, tmp_path: Path) -> None:
    rng = random.Random(3)
    out, dead, state = tmp_path / "flags.json", tmp_path / "rejects.json", tmp_path / "state"
    actions = tmp_path / "actions.jsonl"
    while True:
        outputs = LiveOutputs(
            [FileSink(str(out))], rejects=FileSink(str(dead)), actions=FileSink(str(actions))
        )
        options = LiveOptions(
            state=state,
            max_recommendations=3,
            checkpoint_every=rng.randint(1, 300),
            snapshot_every=rng.randint(1, 1_000),
        )
        summary = Live(logs["batch"], FileSource(str(logs["stream"])), outputs, options).run(
            max_events=rng.randint(0, 900), idle_timeout=0.05
        )
        if summary.handled == 0 and summary.events:
            break
    assert out.read_bytes() == logs["flags"]
    assert dead.read_bytes() == logs["rejects"]
    expected = tmp_path / "expected_actions.jsonl"
    replayed = tmp_path / "replayed.json"
    options = ["--actions", expected, "--max-recommendations", "3", "-q"]
    subprocess.run(
        [*NETFLAG, "replay", logs["batch"], logs["stream"], replayed, *options], check=True
    )
    assert actions.read_bytes() == expected.read_bytes()
    assert actions.read_bytes().count(b"\n") == logs["flags"].count(b"\n")


def test_checkpoints_append_marks_and_leave_the_state_to_snapshots(
    logs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshots: list[int] = []
    save = Journal.save_snapshot

    def counted(journal: Journal, state: EngineState, seq: int, extra: dict) -> None:  # type: ignore[type-arg]
        snapshots.append(seq)
        save(journal, state, seq, extra)

    monkeypatch.setattr(Journal, "save_snapshot", counted)
    options = LiveOptions(state=tmp_path / "state", checkpoint_every=100)
    source = ListSource(logs["lines"], name=str(logs["stream"]))
    summary = Live(logs["batch"], source, LiveOutputs([ListSink()]), options).run()
    assert summary.checkpoints >= len(logs["lines"]) // POLL_LINES  # one a poll, here
    assert snapshots == [0, len(logs["lines"])]  # after the batch load, and at the stop
    journal = Journal(tmp_path / "state", __version__)
    recovery = journal.recover()
    journal.close()
    # The stop's snapshot holds every position and dropped the log behind it.
    assert recovery.records == []
    assert (
        recovery.snapshot is not None
        and recovery.snapshot.extra["counts"]["events"] == summary.events
    )


@settings(max_examples=25)
@given(log=event_logs(), data=st.data())
def test_any_split_into_runs_gives_replays_flags(log, data) -> None:
    """Random logs full of ties, churn and finer amounts, stopped and resumed anywhere."""
    batch_text, stream_text, k = log
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "batch").write_text(batch_text)
        (base / "stream").write_text(stream_text)
        replay(base / "batch", base / "stream", base / "expected", k=k)
        lines = stream_text.encode().splitlines(keepends=True)
        sink = ListSink()
        while True:
            options = LiveOptions(
                state=base / "state", k=k, checkpoint_every=data.draw(st.integers(1, 10))
            )
            summary = Live(base / "batch", ListSource(lines), LiveOutputs([sink]), options).run(
                max_events=data.draw(st.integers(1, 15))
            )
            if summary.handled == 0:
                break
        assert b"".join(sink.lines) == (base / "expected").read_bytes()


def test_status_lines_tell_rate_flags_lag_and_checkpoint_age(logs) -> None:
    said: list[LiveStatus] = []
    source = ListSource(logs["lines"])
    options = LiveOptions(on_status=said.append, status_seconds=0)
    Live(logs["batch"], source, LiveOutputs([ListSink()]), options).run()
    assert said and re.fullmatch(
        r"[0-9,]+ events, [0-9,]+/s, [0-9,]+ flags, [0-9,]+ rejected, lag [0-9,]+ lines,"
        r" checkpoint [0-9]+ s ago",
        str(said[-1]),
    )
    lag = re.search(r"lag ([0-9,]+) lines", str(said[-1]))
    assert lag is not None and said[-1].fields()["lag"] == int(lag.group(1).replace(",", ""))
    assert said[-1].fields()["lag_unit"] == "lines"


def test_status_fields_come_from_the_sources_lag_not_its_text() -> None:
    assert ListSource([b"a\n", b"b\n"]).lag() == Lag(2, "lines")
    status = LiveStatus(5, 1.0, 0, 0, Lag(12_345, "entries"), 2.0)
    assert "lag 12,345 entries," in str(status)
    assert (status.fields()["lag"], status.fields()["lag_unit"]) == (12_345, "entries")
    unknown = LiveStatus(5, 1.0, 0, 0, None, 2.0)
    assert "lag unknown," in str(unknown)
    assert (unknown.fields()["lag"], unknown.fields()["lag_unit"]) == (None, None)


def test_a_checkpoint_for_other_inputs_or_parameters_is_refused(logs, tmp_path: Path) -> None:
    state = tmp_path / "state"

    def start(**options: object) -> None:
        sinks = options.pop("sinks", [ListSink("a")])
        source = options.pop("source", ListSource([], name="s"))
        chosen = LiveOptions(state=state, **options)  # type: ignore[arg-type]
        Live(logs["batch"], source, LiveOutputs(sinks), chosen).run(max_events=0)  # type: ignore[arg-type]

    start(k="2.5")
    start()  # no override: the checkpoint's parameters
    with pytest.raises(CheckpointError, match="made with D=3 T=50 k=2.5, not D=2 T=50 k=2.5"):
        start(D=2)
    with pytest.raises(CheckpointError, match="belongs to source s, not t"):
        start(source=ListSource([], name="t"))
    with pytest.raises(CheckpointError, match="made with sinks a; this run has a, b"):
        start(sinks=[ListSink("a"), ListSink("b")])


# --- the command line ------------------------------------------------------------------------


def test_one_line_errors_and_exit_2(logs, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("netflag.io.redis_client.FIRST_CONNECT_SECONDS", 0.3)
    runner = CliRunner()
    cases = [
        (["live", tmp_path / "missing.json", "file:x"], "cannot read"),
        (["live", logs["batch"], "ftp://x/y"], "SOURCE 'ftp://x/y': unknown scheme 'ftp:'"),
        (["live", logs["batch"], "-", "--sink", "redis://h:x/s"], "port must be a number"),
        (["produce", logs["stream"], "redis://127.0.0.1:1/s", "--rate", "0"], "cannot reach"),
    ]
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "checkpoint").write_bytes(b"garbage\n")
    cases.append((["live", logs["batch"], "-", "--state", tmp_path / "state"], "not a netflag"))
    for args, message in cases:
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 2, result.output
        *warnings, last = result.stderr.splitlines()  # "retrying with backoff" may come first
        assert last.startswith("error: ") and message in last
        assert "Traceback" not in result.stderr and len(warnings) <= 1


@pytest.mark.parametrize(
    ("package", "modules", "url", "hint"),
    [
        ("redis", ["netflag.io.redis_client", "netflag.io.sources.redis_streams"],
         "redis://localhost/s", 'Redis needs the redis package: pip install "netflag[redis]"'),
        ("confluent_kafka", ["netflag.io.kafka_client", "netflag.io.sources.kafka"],
         "kafka://localhost:9092/t",
         'Kafka needs the confluent-kafka package: pip install "netflag[kafka]"'),
    ],
)  # fmt: skip
def test_a_missing_package_says_how_to_install_it(
    logs, monkeypatch, package: str, modules: list[str], url: str, hint: str
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # as if it were not installed
    for name in modules:
        monkeypatch.delitem(sys.modules, name, raising=False)
    result = CliRunner().invoke(app, ["live", str(logs["batch"]), url])
    assert result.exit_code == 2
    assert result.stderr == f"error: {url}: {hint}\n"


def kill_repeatedly(args: list[object], feeder: threading.Thread, seed: int, work: Path) -> int:
    """SIGKILL ``netflag live`` at random moments, restarting it each time; 12 kills at least.

    A quarter of the kills land during startup (batch or checkpoint load); the
    rest a random time after the startup checkpoint, while events are flowing.
    Returns how many kills found the flags file part-written.
    """
    rng = random.Random(seed)
    log, flags = work / "state" / "log", work / "flags.json"
    kills, sizes = 0, []
    while kills < 12 or feeder.is_alive():
        spawned = time.time_ns()
        process = spawn(*args)
        if rng.random() < 0.25:
            time.sleep(rng.uniform(0.0, 0.4))
        else:
            deadline = time.monotonic() + 20
            while not checkpointed_since(log, spawned):
                alive = process.poll() is None
                assert time.monotonic() < deadline and alive, process.communicate()[1]
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.5))
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGKILL)
        process.communicate()
        kills += 1
        sizes.append(flags.stat().st_size if flags.exists() else 0)
    return sum(size > 0 for size in sizes)


def test_sigkill_at_random_points_while_following_a_file(logs, tmp_path: Path) -> None:
    followed = tmp_path / "stream.json"
    followed.write_bytes(b"")
    feeder = feed_file(logs["lines"], followed, per_second=500)
    args = live_args(logs, f"file:{followed}", tmp_path)
    assert kill_repeatedly(args, feeder, seed=1, work=tmp_path) >= 6
    finish(args)
    assert (tmp_path / "flags.json").read_bytes() == logs["flags"]
    expected_rejects = logs["rejects"].replace(str(logs["stream"]).encode(), str(followed).encode())
    assert (tmp_path / "rejects.json").read_bytes() == expected_rejects


def feed_redis(lines: list[bytes], port: int, per_second: float) -> threading.Thread:
    def run() -> None:
        client = redis.Redis(port=port)
        for i in range(0, len(lines), 20):
            pipe = client.pipeline(transaction=False)
            for line in lines[i : i + 20]:
                pipe.xadd("events", {"event": line.rstrip(b"\n")})
            pipe.execute()
            time.sleep(20 / per_second)
        client.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def check_redis_outputs(logs, work: Path, server: RedisServer) -> None:
    client = redis.Redis(port=server.port)
    assert (work / "flags.json").read_bytes() == logs["flags"]
    flagged = [fields[b"line"] + b"\n" for _, fields in client.xrange("flags")]
    assert b"".join(flagged) == logs["flags"]
    assert reasons((work / "rejects.json").read_bytes()) == reasons(logs["rejects"])
    assert client.xpending("events", "netflag")["pending"] == 0  # every entry acknowledged
    client.close()


def test_sigkill_at_random_points_while_consuming_a_redis_stream(
    logs, tmp_path: Path, redis_server: RedisServer
) -> None:
    feeder = feed_redis(logs["lines"], redis_server.port, per_second=500)
    args = live_args(
        logs, redis_server.url("events"), tmp_path, "--sink", redis_server.url("flags")
    )
    assert kill_repeatedly(args, feeder, seed=2, work=tmp_path) >= 6
    finish(args)
    check_redis_outputs(logs, tmp_path, redis_server)


def test_a_redis_restart_mid_stream_is_survived(logs, tmp_path: Path, redis_server) -> None:
    half = len(logs["lines"]) // 2
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_bytes(b"".join(logs["lines"][:half]))
    second.write_bytes(b"".join(logs["lines"][half:]))
    events = redis_server.url("events")
    args = live_args(logs, events, tmp_path, "--sink", redis_server.url("flags"))
    process = spawn(*args, "--idle-timeout", "4")
    subprocess.run([*NETFLAG, "produce", first, events, "--rate", "3000", "-q"], check=True)
    redis_server.restart(down_seconds=0.5)
    subprocess.run([*NETFLAG, "produce", second, events, "--rate", "3000", "-q"], check=True)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert b"reconnected to Redis" in stderr
    check_redis_outputs(logs, tmp_path, redis_server)


def test_sigterm_stops_after_a_final_checkpoint(logs, tmp_path: Path) -> None:
    args = live_args(logs, f"file:{logs['stream']}", tmp_path, "--checkpoint-seconds", "60")
    process = spawn(*args)
    # The run has begun (and its signal handlers are in) once it holds the state's lock;
    # then it gets the time it always had to flag some events. A sleep from the spawn
    # alone lost the race under the sanitizers' slow start.
    deadline = time.monotonic() + 60
    while not (tmp_path / "state" / "lock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.8)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert b"SIGTERM: stopping after a checkpoint" in stderr
    assert (tmp_path / "state" / "snapshot").exists()
    assert os.path.getsize(tmp_path / "flags.json") > 0
    finish(args)
    assert (tmp_path / "flags.json").read_bytes() == logs["flags"]


def test_strict_stops_at_the_first_bad_line_with_exit_1(tmp_path: Path) -> None:
    official = paths.OFFICIAL / "log_input"
    stream = tmp_path / "stream.json"
    stream.write_bytes((official / "stream_log.json").read_bytes().rstrip(b"\n") + b"\nnot json\n")
    out = tmp_path / "flags.json"
    args = ["live", str(official / "batch_log.json"), f"file:{stream}", "--sink", f"file:{out}"]
    result = CliRunner().invoke(app, [*args, "--strict", "--idle-timeout", "0.2", "-q"])
    assert result.exit_code == 1
    assert result.stderr == f"error: {stream}:2: not valid JSON: Expecting value (column 1)\n"
    lenient = CliRunner().invoke(app, [*args, "--idle-timeout", "0.2", "-q"])
    assert lenient.exit_code == 0
    assert out.read_text().endswith('"mean": "29.10", "sd": "21.46"}\n')


def test_hostile_lines_are_dead_letters_and_live_goes_on(logs, tmp_path: Path) -> None:
    """The issue's lines (a 2 MiB one too) from a followed file and from memory: as replay."""
    lines = list(logs["lines"])
    for i, (raw, _) in enumerate(ISSUE_LINES):
        lines.insert(100 + 500 * i, raw + b"\n")
    stream, rejects = tmp_path / "stream.json", tmp_path / "rejects.json"
    stream.write_bytes(b"".join(lines))
    replay(logs["batch"], stream, tmp_path / "replayed.json", rejects=rejects)
    assert (tmp_path / "replayed.json").read_bytes() == logs["flags"]
    for source in (FileSource(str(stream)), ListSource(lines, name=str(stream))):
        flags, dead = ListSink(), ListSink()
        Live(logs["batch"], source, LiveOutputs([flags], rejects=dead)).run(max_events=len(lines))
        assert b"".join(flags.lines) == logs["flags"]
        if isinstance(source, FileSource):
            assert b"".join(dead.lines) == rejects.read_bytes()
        else:  # a list hands the long line on whole: same reasons, longer record
            assert [r for r, _ in reasons(b"".join(dead.lines))] == [
                r for r, _ in reasons(rejects.read_bytes())
            ]


def test_a_crash_while_the_first_snapshot_is_written_loads_the_batch_again(
    logs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, out = tmp_path / "state", tmp_path / "flags.json"

    def crash(*args: object) -> None:
        raise KeyboardInterrupt  # the process dies while the snapshot is written

    with monkeypatch.context() as patch:
        patch.setattr(Journal, "save_snapshot", crash)
        with pytest.raises(KeyboardInterrupt):
            Live(logs["batch"], FileSource(str(logs["stream"])), LiveOutputs([FileSink(str(out))]),
                 LiveOptions(state=state)).run()  # fmt: skip
    outputs = LiveOutputs([FileSink(str(out))])
    Live(logs["batch"], FileSource(str(logs["stream"])), outputs, LiveOptions(state=state)).run(
        idle_timeout=0.05
    )
    assert out.read_bytes() == logs["flags"]


def test_a_resume_before_any_event_does_not_load_the_batch_again(logs, tmp_path: Path) -> None:
    """Issue 18: while the source had given nothing, every restart loaded the whole batch
    again (the fresh run's first mark outranked the batch's snapshot)."""
    stream, state, out = tmp_path / "stream.json", tmp_path / "state", tmp_path / "flags.json"
    stream.write_bytes(b"")

    def start(batch: Path) -> Recorder:
        seen = Recorder()
        options = LiveOptions(state=state, progress=seen)
        outputs = LiveOutputs([FileSink(str(out))])
        Live(batch, FileSource(str(stream)), outputs, options).run(idle_timeout=0.05)
        return seen

    assert start(logs["batch"]).phases == ["load batch", "write checkpoint"]
    gone = tmp_path / "gone.json"  # BATCH is unused on a resume: it need not even exist
    for _ in range(2):
        assert start(gone).phases == ["restore snapshot", "write checkpoint"]
    stream.write_bytes(b"".join(logs["lines"]))
    start(gone)
    assert out.read_bytes() == logs["flags"]
