"""Size a sharded netflag on paper: messages and bytes per check, simulated.

Nothing here runs netflag. It generates a friendship graph (the preferential
attachment of :mod:`netflag.devtools.generate`, vectorised with numpy so that 10 million
users take a minute), deals its users to P shards, and replays the protocol of
``docs/scaling.md`` for a sample of buyers, counting what would cross the
network:

- **BFS rounds.** Round r (1..D) expands the frontier (users at distance r-1)
  on the shards that own it. Each shard sends every neighbour id it does not
  own to the owner, at most once per (check, round, sending shard, id), and
  never an id it already sent in an earlier round of the same check (it is
  visited by then). A logical message is one (check, round, sender,
  receiver) with at least one id. Owners drop ids already visited; the rest
  are the next frontier. Ids owned by the sender cost no message.
- **Top-T gather.** After round D every shard that owns a member (a user at
  distance 1..D) with kept purchases sends the buyer's home shard its members'
  T newest purchases (fewer if they hold fewer); the home shard's own are
  local. A member keeps ``min(T, Poisson(kept))`` purchases.

The network does not depend on P, so each buyer's breadth-first search runs
once, to the largest D, and every (partition, P, D) is counted from it. Run
``python -m netflag.devtools.shardsim --help`` for the options; the figures in
``docs/scaling.md`` come from this package.

The package follows the steps: :mod:`.graph` builds the graph,
:mod:`.partition` deals it to shards, :mod:`.counting` counts each check,
:mod:`.sizing` turns the counts into a cluster, :mod:`.report` writes the
tables and ``__main__`` is the command.
"""

from __future__ import annotations

from netflag.devtools.shardsim.counting import Row, bfs_layers, simulate, simulate_check
from netflag.devtools.shardsim.graph import Graph, pa_graph
from netflag.devtools.shardsim.partition import bfs_partition, bfs_rank, hash_partition
from netflag.devtools.shardsim.sizing import Costs, Sizing, size_cluster

__all__ = [
    "Costs",
    "Graph",
    "Row",
    "Sizing",
    "bfs_layers",
    "bfs_partition",
    "bfs_rank",
    "hash_partition",
    "pa_graph",
    "simulate",
    "simulate_check",
    "size_cluster",
]
