"""The sharding simulation of docs/scaling.md counts what its protocol sends."""

from __future__ import annotations

import subprocess
import sys
from collections import deque
from pathlib import Path

import numpy as np
import orjson
import pytest

from netflag.devtools import shardsim
from netflag.devtools.shardsim import (
    bfs_layers,
    bfs_partition,
    hash_partition,
    pa_graph,
    simulate,
    simulate_check,
)
from netflag.devtools.shardsim.__main__ import main, parse_args
from netflag.devtools.shardsim.counting import HEADER_BYTES, ID_BYTES
from netflag.devtools.shardsim.graph import _csr
from netflag.devtools.shardsim.measured import measured_costs
from netflag.devtools.shardsim.sizing import Costs


@pytest.fixture(scope="module")
def graph() -> shardsim.Graph:
    return pa_graph(2_000, seed=3)


def plain_bfs(g: shardsim.Graph, source: int, depth: int) -> set[int]:
    dist = {source: 0}
    queue = deque([source])
    while queue:
        v = queue.popleft()
        if dist[v] == depth:
            continue
        for w in g.indices[g.indptr[v] : g.indptr[v + 1]]:
            if int(w) not in dist:
                dist[int(w)] = dist[v] + 1
                queue.append(int(w))
    return set(dist) - {source}


def test_graph_is_simple_undirected_and_power_law(graph: shardsim.Graph) -> None:
    deg = graph.degree()
    assert graph.users == 2_000
    assert 8 < deg.mean() < 11  # 3..7 edges per joining user, repeats merged
    assert deg.max() > 10 * np.median(deg)  # hubs: preferential attachment
    pairs = {
        (v, int(w))
        for v in range(graph.users)
        for w in graph.indices[graph.indptr[v] : graph.indptr[v + 1]]
    }
    assert all((w, v) in pairs for v, w in pairs)
    assert all(v != w for v, w in pairs)
    assert len(pairs) == len(graph.indices)  # no repeated friendship


def test_simulated_bfs_visits_exactly_the_plain_bfs_network(graph: shardsim.Graph) -> None:
    seen = np.zeros(graph.users, dtype=bool)
    for u in (0, 17, 999, 1_999):
        layers = bfs_layers(graph, u, 3, seen)
        assert not seen.any()  # scratch left clean
        for d in (1, 2, 3):
            members = np.concatenate([layer.new for layer in layers[:d]])
            assert len(members) == len(set(members.tolist()))
            assert set(members.tolist()) == plain_bfs(graph, u, d)


def test_one_shard_sends_nothing_and_more_depth_sends_more(graph: shardsim.Graph) -> None:
    rows = simulate(graph, [1, 4, 16], [1, 2, 3], checks=40, partitions=["hash", "bfs"])
    by = {(r.partition, r.P, r.D): r for r in rows}
    for part in ("hash", "bfs"):
        one = [by[part, 1, d] for d in (1, 2, 3)]
        assert all(r.bfs_messages == r.ids_sent == r.gather_messages == 0 for r in one)
        assert all(r.bytes_per_check == 0 and r.edge_cut == 0 for r in one)
        for P in (4, 16):
            sent = [by[part, P, d].bfs_bytes for d in (1, 2, 3)]
            total = [by[part, P, d].bytes_per_check for d in (1, 2, 3)]
            assert 0 < sent[0] < sent[1] < sent[2]
            assert total[0] < total[1] < total[2]
        # the network does not depend on the partition
        assert [by[part, 16, d].members for d in (1, 2, 3)] == [
            by["hash", 1, d].members for d in (1, 2, 3)
        ]
    assert by["hash", 16, 3].edge_cut > by["hash", 4, 3].edge_cut > 0.7
    assert by["bfs", 4, 3].edge_cut < by["hash", 4, 3].edge_cut  # locality helps a little


def test_counts_of_one_check_by_hand() -> None:
    # path 0-1-2-3, users 0 and 2 on shard 0, 1 and 3 on shard 1
    g = _csr(4, np.array([0, 1, 2]), np.array([1, 2, 3]))
    owner = np.array([0, 1, 0, 1], dtype=np.int32)
    kept = np.array([5, 60, 7, 3], dtype=np.int64)
    layers = bfs_layers(g, 0, 3, np.zeros(4, dtype=bool))
    c = simulate_check(layers, owner, 2, 0, kept, 50, 4)
    # round 1: 0 sends {1} to shard 1; round 2: 1 sends {0, 2} to shard 0;
    # round 3: 2 sends {1, 3}, but 1 was sent in round 1 already: only {3}
    assert (c.bfs_messages, c.ids_sent, c.members, c.entries_read) == (3, 4, 3, 5)
    # shard 1 owns members 1 and 3 (63 kept, capped at T=50); member 2 is local
    assert (c.gather_messages, c.gather_entries) == (1, 50)
    assert c.bfs_bytes == 3 * HEADER_BYTES + 4 * ID_BYTES


def test_partitions_cover_every_shard(graph: shardsim.Graph) -> None:
    for owner in (hash_partition(graph.users, 8), bfs_partition(graph, 8)):
        assert owner.min() == 0 and owner.max() == 7
        assert np.bincount(owner).min() > graph.users / 8 * 0.8


def test_cli_writes_table_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    md, table = tmp_path / "rows.md", tmp_path / "rows.csv"
    args = ["--users", "500", "--shards", "1,4", "--depths", "1,2", "--checks", "5"]
    assert main([*args, "--markdown", str(md), "--csv", str(table)]) == 0
    out = capsys.readouterr().out
    assert out == md.read_text()
    rows, sizing = out.split("\n\n")
    assert len(rows.splitlines()) == 2 + 4  # P in {1, 4} x D in {1, 2}
    assert len(sizing.splitlines()) == 2 + 4  # rates {10k, 100k} x D in {1, 2}
    assert len(table.read_text().splitlines()) == 1 + 4


def test_runs_as_a_module() -> None:
    args = ["--users", "300", "--shards", "1,2", "--depths", "1", "--checks", "3"]
    run = subprocess.run(
        [sys.executable, "-m", "netflag.devtools.shardsim", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.startswith("| users | partition | P | D |")
    assert "300 users" in run.stderr


def test_sizing_grows_with_the_rate(graph: shardsim.Graph) -> None:
    rows = simulate(graph, [1, 2, 4, 8, 16, 32, 64], [2], checks=20)
    small, big = shardsim.size_cluster(rows, [100, 10_000_000], shardsim.Costs())
    assert small.fits and small.P == 1 and small.gbit == 0  # one machine, no network
    assert big.P > 64 and not big.fits
    assert big.cores > small.cores * 100_000  # and more per check: messages
    assert big.latency_ms > small.latency_ms


def _stats(shards: list[dict], busy: dict, wall: float, ray: bool = True) -> dict:
    return {
        "shards": shards,
        "busy_seconds": busy,
        "checks": 1_000,
        "ray": ray,
        "seconds": {"load": 1.0, "total": 1.0 + wall},
    }


def _shard(cpu: float, busy: float, **counts: int) -> dict:
    counters = ("entries_read", "keys_read", "ids_sent", "entries_sent", "messages")
    return {
        "cpu_seconds": cpu,
        "busy_seconds": {"step": busy},
        **dict.fromkeys(counters, 0),
        **counts,
    }


def test_costs_measured_by_two_runs_price_each_term(tmp_path: Path) -> None:
    phases = dict.fromkeys(("writes", "begin", "step", "gather", "decide"), 0.0)
    one = _stats(
        [_shard(0.5, 0.4, entries_read=10_000_000, keys_read=5_000_000)],
        {**phases, "step": 0.2, "gather": 0.2},
        wall=0.41,
    )
    two = [
        _shard(
            0.35,
            0.3,
            entries_read=5_000_000,
            keys_read=2_500_000,
            ids_sent=4_000_000,
            entries_sent=25_000,
            messages=3_000,
        )
        for _ in range(2)
    ]
    many = _stats(two, {**phases, "step": 0.4, "gather": 0.16, "decide": 0.01}, wall=0.5)
    costs = measured_costs(one, many)
    # One shard: 0.2 s for 1e7 entries, 0.2 s for 5e6 keys, 0.01 s of 1,000 checks outside them.
    assert (costs.entry_ns, costs.read_ns, costs.check_us) == pytest.approx((20, 40, 10))
    # Two: 0.56 s of kernels less 0.2 + 0.2 s priced, over 8e6 ids; the decide over 50,000
    # purchases; the processes' CPU beyond their kernels (0.1 s) over 6,000 messages.
    assert (costs.id_ns, costs.gathered_ns) == pytest.approx((20, 200))
    assert costs.message_us == pytest.approx(100 / 6)
    assert costs.cores == Costs().cores
    with pytest.raises(ValueError, match="on Ray"):
        measured_costs(_stats(one["shards"], one["busy_seconds"], 0.41, ray=False), many)
    paths = tmp_path / "one.json", tmp_path / "many.json"
    for path, stats in zip(paths, (one, many), strict=True):
        path.write_bytes(orjson.dumps(stats))
    assert parse_args(["--costs-from", f"{paths[0]},{paths[1]}"]).costs_from == costs
    with pytest.raises(SystemExit):
        parse_args(["--costs-from", f"{paths[0]}"])
