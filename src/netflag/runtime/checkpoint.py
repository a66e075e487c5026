"""Live mode's checkpoints: marks in the state directory's journal (:mod:`netflag.runtime.journal`).

Live mode logs each line it takes from the source, then, at each checkpoint,
makes its sinks durable and appends a *mark*: a record with no lines whose
meta is a :class:`Checkpoint` (the run id, the source position, each sink's
position, the counters) and fsyncs the log. The mark vouches for every line
logged before it; lines after the last mark were never checkpointed and are
cut off at restart (the source gives them again). A checkpoint therefore
costs the lines since the last one, not the whole state; now and then (and
at a clean stop) a snapshot of the engine bounds how much log a restart
reads, and carries the same :class:`Checkpoint` as its ``extra``.

A *genesis* mark is written before a fresh run writes anything: the run id
and where each sink started, with ``batch_loaded`` false. A crash during the
batch load then resumes from it: the batch is loaded again and every sink
skips or trims what that run already wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netflag.engine import Params
from netflag.errors import CheckpointError

LEGACY = "checkpoint"  # the single-file checkpoint of netflag before the journal


@dataclass(slots=True)
class Checkpoint:
    """Where a live run stood at a mark: every position that goes with the state."""

    params: Params
    run: str
    batch_loaded: bool
    source: str
    source_position: dict[str, Any] | None
    sinks: list[tuple[str, dict[str, Any]]]
    counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_loaded": self.batch_loaded,
            "counts": self.counts,
            "params": self.params.to_json(),
            "run": self.run,
            "sinks": [[url, position] for url, position in self.sinks],
            "source": self.source,
            "source_position": self.source_position,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any], where: str) -> Checkpoint:
        try:
            return cls(
                Params.from_json(value["params"]),
                str(value["run"]),
                bool(value["batch_loaded"]),
                str(value["source"]),
                value["source_position"],
                [(str(url), position) for url, position in value["sinks"]],
                {str(k): int(v) for k, v in value["counts"].items()},
            )
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"{where}: checkpoint lacks live-mode fields") from None

    def refuse_other(self, where: str, params: Params, source: str, sinks: list[str]) -> None:
        """Refuse to resume with other parameters, another source or other outputs."""
        made = self.params
        if params != made:
            raise CheckpointError(
                f"{where} was made with {made.describe()}, not {params.describe()}:"
                " drop the options or remove the directory to start over"
            )
        if self.source != source:
            raise CheckpointError(f"{where} belongs to source {self.source}, not {source}")
        if [url for url, _ in self.sinks] != sinks:
            had = ", ".join(url for url, _ in self.sinks) or "none"
            have = ", ".join(sinks) or "none"
            raise CheckpointError(f"{where} was made with sinks {had}; this run has {have}")


def refuse_legacy(state: Path) -> None:
    """A state directory of the single-file format cannot be resumed: say so in one line."""
    if (state / LEGACY).exists() and not (state / "snapshot").exists():
        raise CheckpointError(
            f"{state} holds a checkpoint of an older netflag (not a netflag journal):"
            " remove it to start over"
        )
