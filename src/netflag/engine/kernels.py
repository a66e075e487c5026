"""Which core runs the engine: the compiled one (``_core``) when built, else its twin.

Like msgpack's ``_cmsgpack``/``fallback`` pair: :mod:`netflag.engine._core`
(Cython) and :mod:`netflag.engine.pycore` (pure Python) have the same class,
methods and results. ``NETFLAG_PUREPYTHON=1`` forces the pure-Python one (the
test suite runs every property against both). A missing build is said once on
stderr, since a user who expected the compiled speed must know why it is slow.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from types import ModuleType
from typing import Any, Literal

from netflag.engine import pycore

Kernel = Literal["compiled", "python"]
_compiled: ModuleType | None
try:
    if os.environ.get("NETFLAG_PUREPYTHON"):
        raise ImportError("NETFLAG_PUREPYTHON is set")
    _compiled = import_module("netflag.engine._core")
except ImportError as error:
    _compiled = None
    MISSING = str(error)
else:
    MISSING = ""
_told = False


def default_kernel() -> Kernel:
    """``compiled`` when the extension is built (and not switched off), else ``python``."""
    return "python" if _compiled is None else "compiled"


def units_limit(kernel: Kernel) -> int | None:
    """Amounts at or above this many units need the pure-Python core (None: no limit)."""
    return None if _compiled is None or kernel == "python" else int(_compiled.UNITS_LIMIT)


# The compiled core counts D and T in 32-bit ints (and T * units**2 in 128 bits).
COUNT_LIMIT = 1 << 31


def new_core(D: int, T: int, kernel: Kernel | None = None) -> tuple[Any, Kernel]:
    """A fresh core of the wanted kind (the default one when None).

    D or T too large for the compiled core (2**31 or more) get the Python core,
    as amounts too large for it do (see ``Engine.kernel``).
    """
    global _told
    kernel = kernel or default_kernel()
    if kernel == "compiled" and max(D, T) < COUNT_LIMIT:
        if _compiled is None:
            raise ImportError(f"the compiled core is not available: {MISSING}")
        return _compiled.Core(D, T), kernel
    if _compiled is None and not _told and not os.environ.get("NETFLAG_PUREPYTHON"):
        _told = True
        sys.stderr.write(
            "netflag: the compiled core is not built, running the pure-Python engine"
            " (same results, several times slower); build it with a C++ compiler:"
            " pip install -e . (or python setup.py build_ext --inplace)\n"
        )
    return pycore.Core(D, T), "python"
