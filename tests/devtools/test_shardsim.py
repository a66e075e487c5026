"""The sharding simulation of docs/scaling.md counts what its protocol sends."""

from __future__ import annotations

import subprocess
import sys
from collections import deque
from pathlib import Path

import numpy as np
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
from netflag.devtools.shardsim.__main__ import main
from netflag.devtools.shardsim.counting import HEADER_BYTES, ID_BYTES
from netflag.devtools.shardsim.graph import _csr


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
