"""Which kernels run a shard: the compiled ``_shard.Shard`` when built, else its Python twin.

As with the engine's core (:mod:`netflag.engine.kernels`), the two have the
same methods, messages, results and counters; ``kernel="python"`` or
``NETFLAG_PUREPYTHON=1`` picks the twin, and the property tests run both. A
compiled shard keeps amounts below ``UNITS_LIMIT`` units (a baseline's sums
then fit 128 bits); a shard about to keep a larger one moves to the twin
between epochs (:func:`to_python`), and a compiled shard receiving such amounts
sums them by the twin's rule.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import cast

import numpy as np

from netflag.engine.kernels import COUNT_LIMIT, Kernel, load_compiled
from netflag.engine.shard import Shard
from netflag.engine.shard_snapshot import shard_columns, shard_from_columns

# What a shard counts as it runs: traffic, then work (see Shard.__init__).
COUNTERS = ("messages", "ids_sent", "entries_sent", "entries_read", "ids_received", "keys_read")

_compiled, MISSING = load_compiled("_shard")
_told = False


def new_shard(index: int, count: int, D: int, T: int, kernel: Kernel | None = None) -> Shard:
    """An empty shard: compiled unless ``kernel`` is ``python``, it is not built, or D or T
    is too large for it (the twin, typed as :class:`Shard`, has the same methods).

    ``kernel="compiled"`` without the build is an ImportError; by default a missing
    build is said once on stderr (a Ray actor's reaches the driver's), as for the core.
    """
    global _told
    if kernel == "compiled" and _compiled is None:
        raise ImportError(f"the compiled shard kernels are not available: {MISSING}")
    if kernel != "python" and _compiled is not None and max(D, T) < COUNT_LIMIT:
        return cast(Shard, _compiled.Shard(index, count, D, T))
    if (
        kernel is None
        and _compiled is None
        and not _told
        and not os.environ.get("NETFLAG_PUREPYTHON")
    ):
        _told = True
        sys.stderr.write(
            f"netflag: the compiled shard kernels are not built ({MISSING}), shards run"
            " their pure-Python twin (same results, tens of times slower); build them with"
            " a C++ compiler: pip install -e . (or python setup.py build_ext --inplace)\n"
        )
    return Shard(index, count, D, T)


def kernel_of(shard: Shard) -> Kernel:
    return "python" if isinstance(shard, Shard) else "compiled"


def units_limit(shard: Shard) -> int | None:
    """Amounts at or past this many units do not fit ``shard`` (None: no limit)."""
    return None if isinstance(shard, Shard) else int(cast(ModuleType, _compiled).UNITS_LIMIT)


def columns_of(shard: Shard) -> dict[str, np.ndarray]:
    """The shard's state between epochs as arrays: :func:`shard_columns`' on either kernel."""
    return shard_columns(shard) if isinstance(shard, Shard) else shard.export()


def shard_of(
    index: int, count: int, D: int, T: int, columns: dict[str, np.ndarray], kernel: Kernel | None
) -> Shard:
    """The shard :func:`columns_of` saved, on ``kernel`` when its amounts fit it."""
    shard = new_shard(index, count, D, T, kernel)
    if isinstance(shard, Shard):
        return shard_from_columns(index, count, D, T, columns)
    try:
        shard.load(columns)
    except OverflowError:
        return shard_from_columns(index, count, D, T, columns)
    return shard


def to_python(shard: Shard) -> Shard:
    """The same shard on the Python twin (between epochs), its counters kept."""
    if isinstance(shard, Shard):
        return shard
    twin = shard_from_columns(shard.index, shard.count, shard.D, shard.T, columns_of(shard))
    for name in COUNTERS:
        setattr(twin, name, getattr(shard, name))
    return twin
