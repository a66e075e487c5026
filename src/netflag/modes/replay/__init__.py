"""Replay mode: ``replay(batch, stream, out)``, what ``netflag replay`` and ``run.sh`` run."""

from netflag.modes.replay.run import ReplaySummary, check_inputs, replay

__all__ = ["ReplaySummary", "check_inputs", "replay"]
