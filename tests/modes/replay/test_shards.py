"""Replay on partitioned state (``--shards P``, shard nodes in this process): one process's bytes.

The shards hold only their own users and see each check's state "as of" its
arrival, epoch by epoch; whatever P and the epoch's length, the flags, the
rejects and the counts must be those of one process on either core.
"""

from __future__ import annotations

import json
import tempfile
from importlib import import_module
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netflag.devtools.generate import generate
from netflag.distributed import shards as shard_nodes
from netflag.engine.ids import KeyClash, user_key
from netflag.engine.kernels import Kernel
from netflag.engine.shard_cores import new_shard
from netflag.errors import InputError, RejectedLine
from netflag.modes.replay import replay
from netflag.modes.replay.sharded import replay_on_shards
from netflag.runtime.rejects import Rejection
from tests import paths
from tests.distributed.conftest import random_logs
from tests.logs import event_logs

KERNELS = ("compiled", "python")


def both(batch: Path, stream: Path, folder: Path, shards: int, epoch: int, **options: object):
    """One process's flags and the shards', each on either kernel: bytes and summaries."""
    alone, sharded = {}, {}
    for kernel in KERNELS:
        out = folder / f"alone-{kernel}"
        summary = replay(batch, stream, out, kernel=kernel, **options)  # type: ignore[arg-type]
        alone[kernel] = (out.read_bytes(), str(summary).split(" in ")[0])
        out = folder / f"shards-{kernel}"
        on = {**options, "kernel": kernel, "epoch": epoch}
        summary = replay_on_shards(batch, stream, out, shards, **on)  # type: ignore[arg-type]
        sharded[kernel] = (out.read_bytes(), str(summary).split(" in ")[0])
    return alone, sharded


@settings(max_examples=150, deadline=None)
@given(log=event_logs(), shards=st.integers(1, 4), epoch=st.sampled_from([1, 2, 3, 7, 4096]))
def test_any_log_on_any_number_of_shards_gives_one_process_bytes(log, shards, epoch) -> None:
    batch_text, stream_text, k = log
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "batch").write_text(batch_text)
        (base / "stream").write_text(stream_text)
        alone, sharded = both(base / "batch", base / "stream", base, shards, epoch, k=k)
    assert alone["compiled"] == alone["python"] == sharded["compiled"] == sharded["python"]


@pytest.mark.parametrize("seed", range(8))
def test_churn_ties_late_purchases_and_bad_lines_on_two_to_four_shards(
    tmp_path: Path, seed: int
) -> None:
    batch, stream = random_logs(tmp_path, seed, stream_lines=2_000)
    reported: list[list[Rejection]] = []
    for shards in (2, 3, 4):
        seen: list[Rejection] = []
        out = tmp_path / f"flags-{shards}"
        replay_on_shards(batch, stream, out, shards, epoch=97, on_reject=seen.append)
        reported.append(seen)
        one: list[Rejection] = []
        replay(batch, stream, tmp_path / "one", on_reject=one.append)
        assert out.read_bytes() == (tmp_path / "one").read_bytes()
        assert seen == one and one  # the same bad lines, in the same order
    assert (tmp_path / "one").read_bytes().count(b"\n") > 10


def test_a_generated_log_on_shards_and_its_stats(tmp_path: Path) -> None:
    generate(tmp_path, "small", 4)
    batch, stream = tmp_path / "batch_log.json", tmp_path / "stream_log.json"
    one = replay(batch, stream, tmp_path / "one")
    figures = {}
    for shards in (1, 2, 4):
        stats = tmp_path / f"stats-{shards}.json"
        summary = replay_on_shards(batch, stream, tmp_path / "flags", shards, stats=stats)
        assert (tmp_path / "flags").read_bytes() == (tmp_path / "one").read_bytes()
        assert str(summary).split(" in ")[0] == str(one).split(" in ")[0]
        figures[shards] = json.loads(stats.read_text())
    alone = figures[1]
    traffic = {name: alone["per_check"][name] for name in ("messages", "ids", "ids_received")}
    assert traffic == {"messages": 0, "ids": 0, "ids_received": 0}
    assert alone["per_check"]["gathered_purchases"] == 0 and alone["per_check"]["bytes"] == 0
    assert set(alone["busy_seconds"]) == {"writes", "begin", "step", "gather", "decide"}
    whole = alone["shards"][0]
    for shards in (2, 4):
        parts = figures[shards]["shards"]
        assert [part["shard"] for part in parts] == list(range(shards))
        for field in ("users", "purchases_kept", "friend_entries", "state_bytes"):
            assert sum(part[field] for part in parts) == whole[field]
        # Hash partitioning: the largest shard within 1/P + 10% of the whole state.
        assert max(part["state_bytes"] for part in parts) <= whole["state_bytes"] * (
            1 / shards + 0.1
        )
        per_check = figures[shards]["per_check"]
        assert per_check["messages"] > 0 and per_check["bytes"] > 0
        # Every id sent is received; each member's friend list is read once, whatever P.
        assert per_check["ids_received"] == per_check["ids"]
        assert per_check["entries_read"] == alone["per_check"]["entries_read"] > 0
        assert figures[shards]["checks"] == one.checked
    assert figures[4]["per_check"]["ids"] > figures[2]["per_check"]["ids"]


def test_the_official_test_on_shards(tmp_path: Path) -> None:
    logs, expected = paths.OFFICIAL / "log_input", paths.OFFICIAL / "log_output"
    for shards in (1, 2, 3):
        out = tmp_path / "out"
        replay_on_shards(logs / "batch_log.json", logs / "stream_log.json", out, shards)
        flags = (expected / "flagged_purchases.json").read_bytes()  # no final newline there
        assert out.read_bytes() == flags + b"\n"


def test_strict_stops_at_the_first_bad_batch_line_and_writes_nothing(tmp_path: Path) -> None:
    batch, stream = random_logs(tmp_path, 3, stream_lines=200)
    with pytest.raises(RejectedLine):
        replay(batch, stream, tmp_path / "one", strict=True)
    with pytest.raises(RejectedLine):
        replay_on_shards(batch, stream, tmp_path / "out", 2, strict=True)
    assert not (tmp_path / "out").exists()


def test_a_batch_that_can_be_read_once_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--shards reads the batch log once on each shard"):
        stream = paths.OFFICIAL / "log_input" / "stream_log.json"
        replay_on_shards(Path("/dev/stdin"), stream, tmp_path / "o", 2)


@pytest.mark.parametrize("kernel", KERNELS)
def test_two_ids_with_one_key_are_refused_not_merged(kernel: Kernel) -> None:
    shard = new_shard(0, 1, 1, 2, kernel)
    shard.intern(user_key("a"), "a")
    with pytest.raises(KeyClash, match="user ids 'a' and 'b' hash to one key"):
        shard.intern(user_key("a"), "b")


@pytest.mark.parametrize("kernel", KERNELS)
def test_a_key_clash_in_the_batch_stops_the_load_on_either_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel: Kernel
) -> None:
    def clashing(name: str) -> int:  # ids 1 and 2 share a key: a 1-in-10**7 chance, forced
        return 42 if name in ("1", "2") else user_key(name)

    monkeypatch.setattr(shard_nodes, "user_key", clashing)  # the lines the node parses
    if kernel == "compiled":
        monkeypatch.setattr(import_module("netflag.engine._shard"), "user_key", clashing)
    stamp = '"timestamp":"2017-06-13 11:33:01"'
    batch, stream = tmp_path / "batch", tmp_path / "stream"
    batch.write_text(
        '{"D":"1", "T":"2"}\n'
        f'{{"event_type":"befriend", {stamp}, "id1": "1", "id2": "3"}}\n'
        f'{{"event_type":"purchase", {stamp}, "id": "2", "amount": "16.83"}}\n'
    )
    stream.write_text(f'{{"event_type":"purchase", {stamp}, "id": "3", "amount": "1.00"}}\n')
    with pytest.raises(KeyClash, match="user ids '1' and '2' hash to one key"):
        replay_on_shards(batch, stream, tmp_path / "out", 2, kernel=kernel)
    assert not (tmp_path / "out").exists()
