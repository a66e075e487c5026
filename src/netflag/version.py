"""netflag's version: one place, below every layer (snapshots and checkpoints record it)."""

__version__ = "0.1.0"
