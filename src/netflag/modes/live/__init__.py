"""Live mode: a batch log (or a checkpoint), then a source's events as they arrive, to sinks.

``Live(batch, source, LiveOutputs([sink]), LiveOptions(state=DIR)).run()``; see
:mod:`netflag.modes.live.run`.
"""

from netflag.modes.live.run import Live, LiveOptions, LiveOutputs
from netflag.modes.live.status import LiveStatus, LiveSummary

__all__ = ["Live", "LiveOptions", "LiveOutputs", "LiveStatus", "LiveSummary"]
