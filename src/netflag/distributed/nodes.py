"""Where the shard nodes run, and what the driver asks of all of them at once.

:class:`RayNodes` makes each :class:`~netflag.distributed.shards.ShardNode` a
Ray actor; :class:`LocalNodes` keeps them in this process (tests, and runs
without a pool). :func:`submit_epoch` lays out one epoch as calls: every
shard's ``begin`` (writes, then round 1), D - 1 ``step`` rounds, ``gather``,
``decide``. Each call's result is one message array per shard, and the next
call of shard d takes the d-th message of every shard. On Ray those arrays go
from actor to actor through the object store, never through the driver, and
the data dependencies alone keep each shard's calls in order; the driver only
fetches the ``decide`` sums. Then the whole-state operations: load the batch,
save and restore every shard.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from netflag.distributed.ray_pool import WorkerPool, describe_failure
from netflag.distributed.shards import ShardNode
from netflag.engine import Params
from netflag.engine.kernels import Kernel
from netflag.engine.shard_messages import Box, Writes
from netflag.errors import CheckpointError, InputError
from netflag.io.reader import numbered_lines, read_once
from netflag.io.sinks.file import fsync_dir
from netflag.runtime.batch import read_params
from netflag.runtime.rejects import Rejection, Rejects


class Nodes(Protocol):
    """Where the shard nodes run: :meth:`call` starts a method, :meth:`get` waits for results."""

    count: int

    def call(self, shard: int, method: str, *args: Any, parts: bool = False) -> Any:
        """Start ``method`` on node ``shard``; a handle on its result (``parts``: one per
        shard, the result being a list of ``count`` messages)."""

    def get(self, handles: list[Any]) -> list[Any]:
        """The results behind ``handles``, in order."""


class LocalNodes:
    """The nodes as plain objects in this process: calls run at once, in order."""

    def __init__(self, count: int, D: int, T: int, kernel: Kernel | None = None) -> None:
        self.count = count
        self.nodes = [ShardNode(index, count, D, T, kernel) for index in range(count)]

    def call(self, shard: int, method: str, *args: Any, parts: bool = False) -> Any:
        result = getattr(self.nodes[shard], method)(*args)
        return [result] if parts and self.count == 1 else result

    def get(self, handles: list[Any]) -> list[Any]:
        return handles


class RayNodes:
    """The nodes as Ray actors: calls return object refs, and messages stay in the object store."""

    def __init__(
        self, ray: Any, actors: list[Any], fail: Callable[[BaseException], Exception]
    ) -> None:
        self.ray = ray
        self.actors = actors
        self.count = len(actors)
        self._fail = fail  # a RayError -> the one-line error to raise instead

    def call(self, shard: int, method: str, *args: Any, parts: bool = False) -> Any:
        remote = getattr(self.actors[shard], method)
        if not parts:
            return remote.remote(*args)
        refs = remote.options(num_returns=self.count).remote(*args)
        return refs if self.count > 1 else [refs]

    def get(self, handles: list[Any]) -> list[Any]:
        try:
            return list(self.ray.get(handles))
        except self.ray.exceptions.RayError as error:
            raise self._fail(error) from None


def submit_epoch(
    nodes: Nodes, D: int, scale: int, writes: Sequence[Writes], checks: Box, after: list[Any]
) -> list[Any]:
    """Start one epoch on every node; handles on each node's :meth:`ShardNode.decide` sums.

    ``checks`` is ``(2, C)``: each check's seq and buyer key, in stream order;
    ``after`` the previous epoch's handles (or Nones).
    """
    count = nodes.count
    parts = [
        nodes.call(s, "begin", scale, writes[s], checks, after[s], parts=True) for s in range(count)
    ]
    for _ in range(D - 1):
        parts = [nodes.call(d, "step", *_column(parts, d), parts=True) for d in range(count)]
    parts = [nodes.call(d, "gather", *_column(parts, d), parts=True) for d in range(count)]
    return [nodes.call(d, "decide", *_column(parts, d)) for d in range(count)]


def _column(parts: list[Any], shard: int) -> list[Any]:
    """What shard ``shard`` receives: the message every shard addressed to it."""
    return [sent[shard] for sent in parts]


def checks_box(seqs: list[int], buyers: list[int]) -> Box:
    """The epoch's checks as the ``(2, C)`` array :meth:`Shard.begin` takes."""
    return np.array([seqs, buyers], dtype=np.int64).reshape(2, len(seqs))


def shard_nodes(
    count: int, params: Params, pool: WorkerPool | None, kernel: Kernel | None = None
) -> Nodes:
    """``count`` empty shard nodes: actors of ``pool``, or objects in this process without
    one; each runs ``kernel`` (the compiled one when built, by default)."""
    if pool is None:
        return LocalNodes(count, params.D, params.T, kernel)
    actors = pool.spawn(ShardNode, [(s, count, params.D, params.T, kernel) for s in range(count)])
    return RayNodes(pool.ray, actors, describe_failure)


def refuse_pipe(batch: Path) -> None:
    """Every shard reads the batch log itself: a pipe, read once, cannot serve them all."""
    if read_once(batch):
        raise InputError(f"{batch}: --shards reads the batch log once on each shard: give a file")


def load_batch_on(nodes: Nodes, batch: Path, params: Params, rejects: Rejects) -> tuple[int, int]:
    """Every node loads its users from ``batch``; its bad lines go to ``rejects``.

    Returns the events applied and the shards' common decimal scale.
    """
    refuse_pipe(batch)
    first = next(numbered_lines(batch), None)
    _, is_params_line, _ = read_params(str(batch), first, params.D, params.T, params.k)
    skip = first[0] if first is not None and is_params_line else None
    where = str(batch.resolve())  # a Ray actor's working folder is not ours
    loaded = nodes.get([nodes.call(s, "load", where, skip) for s in range(nodes.count)])
    for line, reason, raw in loaded[0][2]:
        rejects(Rejection(str(batch), line, reason, raw))
    return loaded[0][0], max(each[1] for each in loaded)


def save_shards(nodes: Nodes, folder: Path) -> dict[str, Any]:
    """Every node's state into ``folder`` (made here), durably: the manifest that names them."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [f"shard-{s}.npz" for s in range(nodes.count)]
    digests = nodes.get(
        [nodes.call(s, "save", str((folder / name).resolve())) for s, name in enumerate(files)]
    )
    fsync_dir(folder)
    return {"count": nodes.count, "folder": folder.name, "files": files, "sha256": digests}


def restore_shards(nodes: Nodes, parent: Path, manifest: dict[str, Any]) -> None:
    """Every node takes the state :func:`save_shards` wrote; CheckpointError if it cannot."""
    try:
        count, files, digests = manifest["count"], manifest["files"], manifest["sha256"]
        folder = parent / str(manifest["folder"])
    except (KeyError, TypeError):
        raise CheckpointError(f"{parent}: the checkpoint's shard manifest is incomplete") from None
    if count != nodes.count:
        raise CheckpointError(
            f"{parent}: the checkpoint holds {count} shards, not {nodes.count}: run with"
            f" --shards {count}"
        )
    paths = [str((folder / name).resolve()) for name in files]
    nodes.get([nodes.call(s, "restore", paths[s], digests[s]) for s in range(count)])
