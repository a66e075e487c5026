"""netflag: flag purchases far above what the buyer's social network usually spends.

The engine (:mod:`netflag.engine`) decides; :mod:`netflag.io` reads and writes
logs; :mod:`netflag.runtime` takes one line through both, and :func:`replay`
runs a batch log and a stream log through it. Names are imported on first
use, so ``netflag --help`` does not pay for the engine. The layers, and what
each may import, are mapped at the top of docs/design.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from netflag.version import __version__

_HOMES = {
    **dict.fromkeys(
        ["Amount", "Baseline", "Befriend", "Decision", "Engine", "EngineState", "Event",
         "Params", "Purchase", "Unfriend"],
        "netflag.engine",
    ),
    **dict.fromkeys(
        ["CheckpointError", "InputError", "NetflagError", "ParamsError", "RejectedLine"],
        "netflag.errors",
    ),
    "Rejection": "netflag.runtime.rejects",
    **dict.fromkeys(["ReplaySummary", "replay"], "netflag.modes.replay"),
}  # fmt: skip

__all__ = [
    "Amount", "Baseline", "Befriend", "CheckpointError", "Decision", "Engine", "EngineState",
    "Event", "InputError", "NetflagError", "Params", "ParamsError", "Purchase", "RejectedLine",
    "Rejection", "ReplaySummary", "Unfriend", "__version__", "replay",
]  # fmt: skip

if TYPE_CHECKING:
    from netflag.engine import (
        Amount,
        Baseline,
        Befriend,
        Decision,
        Engine,
        EngineState,
        Event,
        Params,
        Purchase,
        Unfriend,
    )
    from netflag.errors import (
        CheckpointError,
        InputError,
        NetflagError,
        ParamsError,
        RejectedLine,
    )
    from netflag.modes.replay import ReplaySummary, replay
    from netflag.runtime.rejects import Rejection


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'netflag' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value
