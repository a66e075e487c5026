"""``python -m netflag.devtools.shardsim``: build graphs, simulate, print the tables.

Progress and timings go to stderr, the markdown tables to stdout (and to
``--markdown``, every row to ``--csv``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import orjson

from netflag.devtools.shardsim.counting import Row, simulate
from netflag.devtools.shardsim.graph import pa_graph
from netflag.devtools.shardsim.measured import measured_costs
from netflag.devtools.shardsim.report import markdown, sizing_markdown, write_csv
from netflag.devtools.shardsim.sizing import Costs, size_cluster


def _ints(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers: {text!r}")
    return values


def _names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    bad = [name for name in names if name not in ("hash", "bfs")]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"partitions are hash and bfs: {text!r}")
    return names


def _stats_pair(text: str) -> Costs:
    """Two ``--stats`` files (``ONE.json,MANY.json``) as the unit costs they measure."""
    paths = [Path(part) for part in text.split(",")]
    if len(paths) != 2:
        raise argparse.ArgumentTypeError(f"expected ONE.json,MANY.json: {text!r}")
    try:
        one, many = (orjson.loads(path.read_bytes()) for path in paths)
        return measured_costs(one, many)
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"{text}: cannot price costs ({error})") from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m netflag.devtools.shardsim",
        description="Messages and bytes per check of a sharded netflag, simulated.",
    )
    parser.add_argument("--users", type=_ints, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--shards", type=_ints, default=[1, 2, 4, 8, 16, 32, 64])
    parser.add_argument("--depths", type=_ints, default=[1, 2, 3])
    parser.add_argument("--checks", type=int, default=300, help="buyers sampled per graph")
    parser.add_argument("--T", type=int, default=50)
    parser.add_argument("--kept", type=float, default=20.0, help="mean kept purchases per user")
    parser.add_argument(
        "--partitions",
        type=_names,
        default=["hash"],
        help="hash and/or bfs (locality-aware: breadth-first order cut in P ranges)",
    )
    parser.add_argument(
        "--bfs-max-users",
        type=int,
        default=1_000_000,
        help="run the bfs partition only on graphs up to this size",
    )
    parser.add_argument(
        "--rates",
        type=_ints,
        default=[10_000, 100_000],
        help="checked purchases per second to size a cluster for (hash partition rows)",
    )
    parser.add_argument(
        "--costs-from",
        type=_stats_pair,
        metavar="ONE.json,MANY.json",
        help="size the cluster with unit costs measured by two `netflag replay --stats` runs on"
        " Ray, --shards 1 and --shards P > 1 on the same logs (default: the assumed costs)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", type=Path, help="write every row here")
    parser.add_argument("--markdown", type=Path, help="write the table here")
    args = parser.parse_args(argv)
    if args.checks < 1 or args.T < 2:
        parser.error("--checks must be >= 1 and --T >= 2")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rows: list[Row] = []
    started = time.perf_counter()
    for users in args.users:
        t0 = time.perf_counter()
        graph = pa_graph(users, args.seed)
        t1 = time.perf_counter()
        parts = [p for p in args.partitions if p == "hash" or users <= args.bfs_max_users]
        new = simulate(
            graph, args.shards, args.depths, args.checks, args.T, args.kept, parts, args.seed
        )
        t2 = time.perf_counter()
        deg = graph.degree()
        print(
            f"# {users:,} users, {graph.edges:,} friendships (mean degree {deg.mean():.1f},"
            f" max {deg.max():,}): graph {t1 - t0:.1f} s, simulation {t2 - t1:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        rows.extend(new)
        del graph
    table = markdown(rows)
    costs = args.costs_from or Costs()
    print(f"# costs: {costs}", file=sys.stderr)
    sizes = size_cluster([r for r in rows if r.partition == "hash"], args.rates, costs)
    table += "\n" + sizing_markdown(sizes)
    print(table, end="")
    print(f"# total {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.csv:
        write_csv(rows, args.csv)
    if args.markdown:
        args.markdown.write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
