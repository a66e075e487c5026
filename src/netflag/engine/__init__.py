"""The exact detection engine: graph, recent purchases, the flag rule. No I/O."""

from netflag.engine.detector import Decision, Engine, Strategy
from netflag.engine.events import Befriend, Event, Purchase, Unfriend
from netflag.engine.kernels import Kernel, default_kernel
from netflag.engine.money import Amount, AmountError, Baseline
from netflag.engine.params import Params
from netflag.engine.state import EngineState

__all__ = [
    "Amount",
    "AmountError",
    "Baseline",
    "Befriend",
    "Decision",
    "Engine",
    "EngineState",
    "Event",
    "Kernel",
    "Params",
    "Purchase",
    "Strategy",
    "Unfriend",
    "default_kernel",
]
