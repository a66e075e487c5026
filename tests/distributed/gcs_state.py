"""Print a Ray cluster's nodes and netflag's actors as JSON: ``python -m`` this ADDRESS.

It reads the GCS tables (Ray's own ``ray._private.state``, which needs no
dashboard and no driver) in a process of its own, so the tests' process never
joins the cluster or loads its token. Dead actors stay in the table: a run's
workers can be looked up after it ended.
"""

from __future__ import annotations

import json
import sys

from ray._private.state import GlobalState
from ray._raylet import GcsClientOptions


def main(address: str) -> None:
    state = GlobalState()
    options = GcsClientOptions.create(
        address, None, allow_cluster_id_nil=True, fetch_cluster_id_if_nil=False
    )
    state._initialize_global_state(options)
    nodes = [
        {"id": node["NodeID"], "alive": node["Alive"], "socket": node["RayletSocketName"]}
        for node in state.node_table()
    ]
    actors = [
        {"id": actor_id, "job": actor["JobID"], "node": actor["Address"]["NodeID"],
         "state": actor["State"], "pid": actor["Pid"], "class": actor["ActorClassName"]}
        for actor_id, actor in state.actor_table(None).items()
        if actor["ActorClassName"] in ("Worker", "ShardNode")
    ]  # fmt: skip
    json.dump({"nodes": nodes, "actors": actors}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
