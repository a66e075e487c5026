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
from collections.abc import Iterable, Sequence
from importlib import import_module
from mmap import mmap
from types import ModuleType
from typing import Literal, Protocol, cast

from netflag.engine import pycore
from netflag.engine.history import SEQ_LIMIT

Kernel = Literal["compiled", "python"]


class Core(Protocol):
    """What both cores offer the engine (``pycore.Core`` is checked against it by mypy)."""

    @property
    def users(self) -> int: ...
    @property
    def max_units(self) -> int: ...
    def intern(self, name: str) -> int: ...
    def number(self, name: str) -> int | None: ...
    def name(self, number: int) -> str: ...
    def all_names(self) -> list[str]: ...
    def befriend(self, a: int, b: int) -> bool: ...
    def unfriend(self, a: int, b: int) -> bool: ...
    def friends(self, user: int) -> list[int]: ...
    def edges(self) -> int: ...
    def pack(self) -> None: ...
    def by_id(self, users: Iterable[int]) -> list[int]: ...
    def common(self, a: int, b: int) -> list[int]: ...
    def recommend(self, user: int, limit: int) -> list[tuple[int, int]]: ...
    def add(self, user: int, ts: int, seq: int, units: int) -> None: ...
    def rescale(self, factor: int) -> None: ...
    def tail(self, user: int) -> list[tuple[int, int, int]]: ...
    def newest_of(self, members: Iterable[int], count: int) -> list[tuple[int, int, int, int]]: ...
    def rings(self, user: int, radius: int) -> list[list[int]]: ...
    def check(self, user: int, strategy: int) -> tuple[int, int, int, str]: ...
    def feed(
        self,
        data: bytes | mmap,
        pos: int,
        end: int,
        line: int,
        seq: int,
        scale: int,
        max_id: int,
        max_line: int,
    ) -> tuple[int, int, int]: ...
    def load(
        self,
        user_ids: list[str],
        lo: Sequence[int],
        hi: Sequence[int],
        ts: Sequence[int],
        seq: Sequence[int],
        owner: Sequence[int],
        units: Sequence[int],
        below: int = SEQ_LIMIT,
    ) -> None: ...
    def export(self) -> tuple[Sequence[int], ...]: ...


def load_compiled(name: str) -> tuple[ModuleType | None, str]:
    """The compiled extension ``netflag.engine.<name>``, or None and why not (not built,
    or ``NETFLAG_PUREPYTHON`` set)."""
    try:
        if os.environ.get("NETFLAG_PUREPYTHON"):
            raise ImportError("NETFLAG_PUREPYTHON is set")
        return import_module(f"netflag.engine.{name}"), ""
    except ImportError as error:
        return None, str(error)


_compiled, MISSING = load_compiled("_core")
_told = False


def default_kernel() -> Kernel:
    """``compiled`` when the extension is built (and not switched off), else ``python``."""
    return "python" if _compiled is None else "compiled"


def units_limit(kernel: Kernel) -> int | None:
    """Amounts at or above this many units need the pure-Python core (None: no limit)."""
    return None if _compiled is None or kernel == "python" else int(_compiled.UNITS_LIMIT)


# The compiled core counts D and T in 32-bit ints (and T * units**2 in 128 bits).
COUNT_LIMIT = 1 << 31


def new_core(D: int, T: int, kernel: Kernel | None = None) -> tuple[Core, Kernel]:
    """A fresh core of the wanted kind (the default one when None).

    D or T too large for the compiled core (2**31 or more) get the Python core,
    as amounts too large for it do (see ``Engine.kernel``).
    """
    global _told
    kernel = kernel or default_kernel()
    if kernel == "compiled" and max(D, T) < COUNT_LIMIT:
        if _compiled is None:
            raise ImportError(f"the compiled core is not available: {MISSING}")
        return cast(Core, _compiled.Core(D, T)), kernel
    if _compiled is None and not _told and not os.environ.get("NETFLAG_PUREPYTHON"):
        _told = True
        sys.stderr.write(
            "netflag: the compiled core is not built, running the pure-Python engine"
            " (same results, several times slower); build it with a C++ compiler:"
            " pip install -e . (or python setup.py build_ext --inplace)\n"
        )
    return pycore.Core(D, T), "python"
