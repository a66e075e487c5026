"""Tests for the synthetic data generator: format contract, shape, determinism."""

from __future__ import annotations

import json
import re
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from netflag.devtools import generate as gen
from netflag.devtools.generate import PRESETS, GenerateSummary, Preset, generate

TINY = Preset(users=200, batch_lines=3_000, stream_lines=2_000, D=2, T=10)
AMOUNT = re.compile(r"^[0-9]+\.[0-9]{2}$")
PURCHASE_LINE = re.compile(
    r'^\{"event_type":"purchase", "timestamp":"[^"]+", "id": "[0-9]+", "amount": "[0-9.]+"\}$'
)
PAIR_LINE = re.compile(
    r'^\{"event_type":"(befriend|unfriend)", "timestamp":"[^"]+", '
    r'"id1": "[0-9]+", "id2": "[0-9]+"\}$'
)
FIELDS = {
    "purchase": ["event_type", "timestamp", "id", "amount"],
    "befriend": ["event_type", "timestamp", "id1", "id2"],
    "unfriend": ["event_type", "timestamp", "id1", "id2"],
}


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and "\r" not in text
    return text.splitlines()


def _events(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in _lines(path)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> GenerateSummary:
    return generate(tmp_path_factory.mktemp("tiny") / "nested" / "out", TINY, seed=7)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> GenerateSummary:
    return generate(tmp_path_factory.mktemp("small"), "small", seed=0)


def test_presets() -> None:
    assert PRESETS["small"] == Preset(1_000, 20_000, 1_000)
    assert PRESETS["medium"] == Preset(10_000, 500_000, 1_000)
    assert PRESETS["large"] == Preset(100_000, 5_000_000, 100_000)
    assert all(p.D == 3 and p.T == 50 for p in PRESETS.values())


def test_unknown_preset(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        generate(tmp_path, "huge")
    assert not (tmp_path / "batch_log.json").exists()


def test_summary_and_line_counts(tiny: GenerateSummary) -> None:
    assert tiny.batch_path.name == "batch_log.json"
    assert tiny.stream_path.name == "stream_log.json"
    assert tiny.batch_path.parent == tiny.stream_path.parent
    assert (tiny.batch_lines, tiny.stream_lines, tiny.users) == (3_000, 2_000, 200)
    assert len(_lines(tiny.batch_path)) == 3_000
    assert len(_lines(tiny.stream_path)) == 2_000


def test_deterministic(tmp_path: Path, tiny: GenerateSummary) -> None:
    generate(tmp_path / "a", TINY, seed=7)
    generate(tmp_path / "b", TINY, seed=8)
    for name in ("batch_log.json", "stream_log.json"):
        ref = (tiny.batch_path.parent / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() == ref
        assert (tmp_path / "b" / name).read_bytes() != ref


def test_params_line(tiny: GenerateSummary, small: GenerateSummary) -> None:
    assert _lines(tiny.batch_path)[0] == '{"D":"2", "T":"10"}'
    assert _lines(small.batch_path)[0] == '{"D":"3", "T":"50"}'


def test_every_line_well_formed(tiny: GenerateSummary) -> None:
    batch = _lines(tiny.batch_path)[1:]
    for line in batch + _lines(tiny.stream_path):
        event = json.loads(line)
        kind = event["event_type"]
        assert list(event) == FIELDS[kind]
        assert all(isinstance(v, str) for v in event.values())
        assert (PURCHASE_LINE if kind == "purchase" else PAIR_LINE).match(line), line
        datetime.strptime(event["timestamp"], "%Y-%m-%d %H:%M:%S")
        ids = [event["id"]] if kind == "purchase" else [event["id1"], event["id2"]]
        assert all(0 <= int(i) < TINY.users and str(int(i)) == i for i in ids)
        if kind == "purchase":
            assert AMOUNT.match(event["amount"]) and float(event["amount"]) > 0
        else:
            assert event["id1"] != event["id2"], "self-friendship"


def test_timestamps(tiny: GenerateSummary) -> None:
    batch = _events(tiny.batch_path)[1:]
    stream = _events(tiny.stream_path)
    stamps = [e["timestamp"] for e in batch + stream]
    assert stamps == sorted(stamps)
    assert stamps[0] == "2017-06-13 00:00:00"
    assert stream[0]["timestamp"] > batch[-1]["timestamp"]
    per_second = Counter(stamps)
    assert 5 <= statistics.mean(per_second.values()) <= 30
    assert max(per_second.values()) >= 10


def test_stream_mix(tiny: GenerateSummary) -> None:
    kinds = Counter(e["event_type"] for e in _events(tiny.stream_path))
    n = TINY.stream_lines
    assert abs(kinds["purchase"] / n - 0.78) < 0.03
    assert abs(kinds["befriend"] / n - 0.20) < 0.03
    assert 0.005 < kinds["unfriend"] / n < 0.035


def _replay(events: list[dict[str, str]], adj: dict[str, set[str]]) -> int:
    """Apply graph events; return how many unfriends removed an existing edge."""
    removed = 0
    for e in events:
        a, b = e.get("id1"), e.get("id2")
        if e["event_type"] == "befriend":
            adj[a].add(b)
            adj[b].add(a)
        elif e["event_type"] == "unfriend":
            removed += b in adj[a]
            adj[a].discard(b)
            adj[b].discard(a)
    return removed


def test_small_preset_shape(small: GenerateSummary) -> None:
    batch = _events(small.batch_path)[1:]
    stream = _events(small.stream_path)
    kinds = Counter(e["event_type"] for e in batch)
    graph_events = kinds["befriend"] + kinds["unfriend"]
    assert 0.01 < kinds["unfriend"] / graph_events < 0.03
    assert 4 * small.users < kinds["befriend"] < 6 * small.users

    adj: dict[str, set[str]] = defaultdict(set)
    assert _replay(batch, adj) == kinds["unfriend"]  # batch unfriends are all real
    degrees = sorted(len(adj[str(u)]) for u in range(small.users))
    assert 8 <= statistics.mean(degrees) <= 12
    assert 5 <= statistics.median(degrees) <= 10
    assert degrees[-1] >= 50  # preferential attachment makes hubs

    stream_unfriends = sum(e["event_type"] == "unfriend" for e in stream)
    assert _replay(stream, adj) >= 0.8 * stream_unfriends

    batch_amounts = [float(e["amount"]) for e in batch if e["event_type"] == "purchase"]
    assert 40 <= statistics.mean(batch_amounts) <= 60
    median = statistics.median(batch_amounts)
    amounts = [float(e["amount"]) for e in stream if e["event_type"] == "purchase"]
    spikes = [a for a in amounts if a > 10 * median]
    assert 2 <= len(spikes) <= 20  # the engine must have something to flag


def test_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gen, "PROGRESS_EVERY", 1_000)
    monkeypatch.setattr(gen, "CHUNK_LINES", 500)
    calls: list[tuple[int, int]] = []
    generate(tmp_path, TINY, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (5_000, 5_000)
    assert len(calls) >= 5
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_an_interrupted_run_leaves_no_half_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both files appear whole or neither: an old dataset survives, a new folder goes."""
    monkeypatch.setattr(gen, "PROGRESS_EVERY", 500)
    monkeypatch.setattr(gen, "CHUNK_LINES", 500)

    def stop(done: int, _total: int) -> None:
        if done >= 1_000:  # mid-batch (3,000 lines)
            raise KeyboardInterrupt

    old = tmp_path / "old"
    old.mkdir()
    (old / "batch_log.json").write_text("old batch\n")
    with pytest.raises(KeyboardInterrupt):
        generate(old, TINY, progress=stop)
    assert sorted(p.name for p in old.iterdir()) == ["batch_log.json"]  # no partial file
    assert (old / "batch_log.json").read_text() == "old batch\n"
    with pytest.raises(KeyboardInterrupt):
        generate(tmp_path / "new" / "data", TINY, progress=stop)
    assert list((tmp_path / "new").iterdir()) == []  # the folder it made is gone


def test_ctrl_c_during_generate_medium_says_so_and_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    process = subprocess.Popen(
        [sys.executable, "-m", "netflag", "generate", folder, "--preset", "medium"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60  # only turns a hang into a failure
        while not any(p.stat().st_size for p in folder.glob("*batch_log.json*")):
            assert process.poll() is None and time.monotonic() < deadline, "no batch file grew"
            time.sleep(0.005)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(60)
    assert (process.returncode, stdout) == (130, b"")
    assert stderr == b"netflag: interrupted, no output written\n"
    assert not folder.exists()
