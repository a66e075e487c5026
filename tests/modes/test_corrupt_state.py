"""A damaged state directory, region by region, for the service and for live mode: a
refusal in one line, or (only for a tail a crash could have torn) a cut, after which the
state is still exactly a prefix of what was logged. Never a start on wrong state.

Each case damages a copy of one state directory left by a SIGKILL: a snapshot, then
records (and, for live mode, marks) after it, so there is always whole log after the
damage except where the case says it is the tail."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from netflag.devtools.generate import GenerateSummary, Preset, generate
from netflag.errors import InputError
from tests.modes.serve.server import Server

NETFLAG = [sys.executable, "-m", "netflag"]
CHUNK = 20
SNAPSHOT_HEAD = len("netflag-snapshot 2 ") + 64 + 1


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> GenerateSummary:
    folder = tmp_path_factory.mktemp("corrupt-logs")
    return generate(folder, Preset(users=200, batch_lines=2_000, stream_lines=3_000), seed=9)


def flip(path: Path, at: int) -> None:
    """Change one byte of ``path`` (``at`` < 0 counts from the end); a digit stays a digit."""
    data = bytearray(path.read_bytes())
    byte = data[at]
    data[at] = 48 + (byte - 47) % 10 if 48 <= byte <= 57 else byte ^ 0x01
    path.write_bytes(bytes(data))


def segment(state: Path) -> Path:
    (only,) = sorted((state / "log").glob("*.wal"))
    return only


def record_starts(path: Path) -> list[int]:
    """Where each record's header line starts."""
    data = path.read_bytes()
    return [0] + [at + 1 for at in range(len(data) - 1) if data[at : at + 2] == b"\n#"]


def inside(path: Path, record: int, text: bytes) -> int:
    """The offset of ``text`` within record number ``record`` (negative: from the last)."""
    data, starts = path.read_bytes(), record_starts(path)
    return data.index(text, starts[record])


def rename(state: Path, name: Callable[[int], str]) -> None:
    old = segment(state)
    old.rename(old.with_name(name(int(old.stem))))


@dataclass(frozen=True)
class Case:
    damage: Callable[[Path], None]
    refusal: str | None  # part of the one-line error; None: the tail is cut, the start goes on


SERVE_CASES = {
    "snapshot magic": Case(lambda s: flip(s / "snapshot", 3), "snapshot"),
    "snapshot digest": Case(lambda s: flip(s / "snapshot", 30), "snapshot"),
    "snapshot header": Case(lambda s: flip(s / "snapshot", SNAPSHOT_HEAD + 40), "snapshot"),
    "snapshot columns": Case(lambda s: flip(s / "snapshot", -500), "snapshot"),
    "snapshot cut short": Case(
        lambda s: (s / "snapshot").write_bytes((s / "snapshot").read_bytes()[:-100]), "snapshot"
    ),
    "record count": Case(lambda s: flip(segment(s), inside(segment(s), 1, b'"n":') + 4), "corrupt"),
    "record key": Case(lambda s: flip(segment(s), inside(segment(s), 1, b"chunk-") + 6), "corrupt"),
    "record crc": Case(lambda s: flip(segment(s), inside(segment(s), 1, b'"crc":') + 7), "corrupt"),
    "record line": Case(lambda s: flip(segment(s), record_starts(segment(s))[2] - 30), "corrupt"),
    "last record line": Case(lambda s: flip(segment(s), -30), None),
    "torn tail": Case(lambda s: segment(s).write_bytes(segment(s).read_bytes()[:-45]), None),
    "segment renamed": Case(lambda s: rename(s, lambda first: "log.wal"), "not a log segment"),
    "segment renamed later": Case(lambda s: rename(s, lambda f: f"{f + 5:020}.wal"), "jumps"),
    "segment renamed earlier": Case(lambda s: rename(s, lambda f: f"{f - 5:020}.wal"), "straddles"),
    "flags.seq": Case(lambda s: flip(s / "flags.seq", 9), "flags.seq"),
    "flag lines": Case(lambda s: flip(s / "flagged_purchases.json", 40), "flagged_purchases"),
    "actions": Case(lambda s: flip(s / "actions.jsonl", 40), "actions.jsonl"),
}


@pytest.fixture(scope="module")
def serve_state(made: GenerateSummary, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A service's state killed mid-run: a snapshot at event 1,000, then 25 records."""
    folder = tmp_path_factory.mktemp("serve-state")
    lines = made.stream_path.read_bytes().splitlines()[:1_500]
    server = Server(made.batch_path, folder / "state", "--snapshot-every", "1000")
    with server, server.client() as client:
        for number, at in enumerate(range(0, len(lines), CHUNK)):
            headers = {"Idempotency-Key": f"chunk-{number}", "Content-Type": "application/x-ndjson"}
            body = b"\n".join(lines[at : at + CHUNK])
            assert client.post("/v1/events", content=body, headers=headers).status_code == 200
        deadline = time.monotonic() + 60
        while client.get("/v1/stats").json()["snapshot_seq"] < 1_000:
            assert time.monotonic() < deadline, "no snapshot was taken"
            time.sleep(0.05)
    assert (folder / "state" / "flags.seq").stat().st_size > 16
    assert len(record_starts(segment(folder / "state"))) > 3
    return folder / "state"


@pytest.mark.parametrize("name", list(SERVE_CASES))
def test_a_damaged_service_state_is_refused_in_one_line_or_its_torn_tail_cut(
    name: str, made: GenerateSummary, serve_state: Path, tmp_path: Path
) -> None:
    case, state = SERVE_CASES[name], tmp_path / "state"
    shutil.copytree(serve_state, state)
    records = record_starts(segment(state))
    case.damage(state)
    server = Server(made.batch_path, state)
    try:
        server.start()
    except InputError:
        assert case.refusal is not None, f"refused:\n{server.stderr()}"
        errors = [line for line in server.stderr().splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and case.refusal in errors[0], server.stderr()
        assert "Traceback" not in server.stderr()
        return
    try:
        assert case.refusal is None, f"started on a state with its {name} damaged"
        with httpx.Client(base_url=server.url) as client:
            seq = client.get("/v1/stats").json()["seq"]
        assert seq == 1_500 - CHUNK  # the last record (20 events) is cut, the rest is whole
        assert len(records) > 1
    finally:
        server.kill()


def live(made: GenerateSummary, state: Path, source: Path, *extra: str) -> list[str]:
    return [*NETFLAG, "live", str(made.batch_path), f"file:{source}", "--sink",
            f"file:{state.parent / 'flags.json'}", "--state", str(state),
            "--checkpoint-every", "100", "--snapshot-every", "1000", "-q", *extra]  # fmt: skip


@dataclass(frozen=True)
class LiveState:
    """Where live mode ran (its sink's path is in its marks, so every case runs there
    again) and a copy of what it left there."""

    folder: Path
    kept: Path

    @property
    def state(self) -> Path:
        return self.folder / "state"

    @property
    def source(self) -> Path:
        return self.folder / "stream.json"

    def restore(self) -> None:
        for name in ("state", "flags.json"):
            shutil.rmtree(self.folder / name, ignore_errors=True)
        shutil.copytree(self.kept / "state", self.state)
        shutil.copy(self.kept / "flags.json", self.folder / "flags.json")


@pytest.fixture(scope="module")
def live_state(made: GenerateSummary, tmp_path_factory: pytest.TempPathFactory) -> LiveState:
    """Live mode killed mid-run: a snapshot near line 1,000, then records and marks."""
    ran = LiveState(tmp_path_factory.mktemp("live-run"), tmp_path_factory.mktemp("live-kept"))
    lines = made.stream_path.read_bytes().splitlines(keepends=True)
    ran.source.write_bytes(b"".join(lines[:1_550]))
    process = subprocess.Popen(live(made, ran.state, ran.source), stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not any(b'"line":1550' in path.read_bytes() for path in ran.state.glob("log/*.wal")):
        assert process.poll() is None and time.monotonic() < deadline, "no mark at line 1,550"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    ran.source.write_bytes(b"".join(lines))  # the rest arrives while it is down
    shutil.copytree(ran.state, ran.kept / "state")
    shutil.copy(ran.folder / "flags.json", ran.kept / "flags.json")
    return ran


LIVE_CASES = {
    "first record line": Case(lambda s: flip(segment(s), 200), "corrupt"),
    "a mark's sink bytes": Case(
        lambda s: flip(segment(s), inside(segment(s), 1, b'"bytes":') + 8), "corrupt"
    ),
    "a mark's source line": Case(
        lambda s: flip(segment(s), inside(segment(s), 1, b'"line":') + 7), "corrupt"
    ),
    "the last mark": Case(lambda s: flip(segment(s), -20), None),
}


@pytest.mark.parametrize("name", list(LIVE_CASES))
def test_a_damaged_live_state_is_refused_in_one_line_or_resumes_exactly(
    name: str, made: GenerateSummary, live_state: LiveState, tmp_path: Path
) -> None:
    case, state = LIVE_CASES[name], live_state.state
    live_state.restore()
    assert b'"mark"' in segment(state).read_bytes()[record_starts(segment(state))[1] :]
    case.damage(state)
    run = subprocess.run(live(made, state, live_state.source, "--idle-timeout", "0.5"),
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    if case.refusal is not None:
        assert run.returncode != 0
        assert run.stderr.count("\n") == 1 and case.refusal in run.stderr, run.stderr
        return
    assert run.returncode == 0, run.stderr
    expected = tmp_path / "replay.json"
    replay = [*NETFLAG, "replay", str(made.batch_path), str(live_state.source), str(expected)]
    subprocess.run([*replay, "-q"], check=True)
    assert (live_state.folder / "flags.json").read_bytes() == expected.read_bytes()
