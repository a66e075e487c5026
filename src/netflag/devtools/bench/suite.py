"""The benchmark suite: every family of ``netflag bench`` rows on one set of workloads.

:class:`Suite` is the one object the CLI drives: each of its steps (a method
named after what it measures) comes from a family module, :mod:`.replay`,
:mod:`.engine`, :mod:`.modes` and :mod:`.curves`, and all of them share the
workloads and the :class:`Results` of :mod:`.core`, whose names this module
exports too.
"""

from __future__ import annotations

from netflag.devtools.bench.core import (
    FULL,
    QUICK,
    TARGETS,
    Measured,
    Results,
    Row,
    Sizes,
    cells,
    child,
    describe,
    replay_process,
    run_measured,
)
from netflag.devtools.bench.curves import Curves
from netflag.devtools.bench.engine import EngineRows
from netflag.devtools.bench.modes import ModeRows
from netflag.devtools.bench.replay import ReplayRows

__all__ = [
    "FULL",
    "QUICK",
    "TARGETS",
    "Measured",
    "Results",
    "Row",
    "Sizes",
    "Suite",
    "cells",
    "child",
    "describe",
    "replay_process",
    "run_measured",
]


class Suite(ReplayRows, EngineRows, ModeRows, Curves):
    """Builds workloads under ``data`` (reused between runs) and measures them.

    The steps: ``replay_vs_floor``, ``startup``, ``large`` and ``xl`` (whole
    processes); ``checks``, ``snapshot`` and ``reference`` (the engine alone);
    ``live``, ``serve`` and ``workers`` (the other modes); ``curves``.
    """
