"""netflag: flag purchases far above what the buyer's social network usually spends.

The engine (:mod:`netflag.engine`) decides; :mod:`netflag.io` reads and writes
logs; :func:`replay` runs a batch log and a stream log through both.
"""

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
from netflag.errors import CheckpointError, InputError, NetflagError, ParamsError, RejectedLine
from netflag.replay import Rejection, ReplaySummary, replay

__version__ = "0.1.0"

__all__ = [
    "Amount",
    "Baseline",
    "Befriend",
    "CheckpointError",
    "Decision",
    "Engine",
    "EngineState",
    "Event",
    "InputError",
    "NetflagError",
    "Params",
    "ParamsError",
    "Purchase",
    "RejectedLine",
    "Rejection",
    "ReplaySummary",
    "Unfriend",
    "__version__",
    "replay",
]
