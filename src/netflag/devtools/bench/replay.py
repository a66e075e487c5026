"""``netflag bench`` rows of whole processes: replay against the parse floor, start-up, presets.

Each figure is a fresh ``python -m netflag`` process timed from start to exit,
so it includes the interpreter, the imports and the batch load: what a user
of the command waits for.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from netflag.devtools.bench.child import FLOOR_SCRIPT
from netflag.devtools.bench.core import Row, Workbench, describe, replay_process, run_measured
from netflag.devtools.generate import PRESETS


class ReplayRows(Workbench):
    """Replay end to end (against the orjson floor, and on the large and xl presets), start-up."""

    def replay_vs_floor(self) -> None:
        batch, stream = self.workload("medium", self.sizes.medium, 1)
        events = self.sizes.medium.batch_lines + self.sizes.medium.stream_lines
        floors, replays, peaks = [], [], []
        for _ in range(self.repeat):
            floors.append(
                run_measured([sys.executable, "-c", FLOOR_SCRIPT, str(batch), str(stream)]).seconds
            )
            seconds, peak = replay_process(batch, stream)
            replays.append(seconds)
            peaks.append(peak)
        floor = statistics.median(floors)
        replay = statistics.median(replays)
        shape = describe(self.sizes.medium)
        self.results.rows.append(Row(f"parse floor (orjson per line), {shape}", events, floor))
        self.results.rows.append(
            Row(
                f"netflag replay end to end, {shape}",
                events,
                replay,
                peak_mib=max(peaks),
                floor_ratio=replay / floor,
            ).against("replay")
        )

    def startup(self) -> None:
        """Process CPU time of `netflag --help` and of a 20-line replay (medians)."""
        batch, stream = self.workload("medium", self.sizes.medium, 1)
        tiny = self.data / "tiny"
        tiny.mkdir(parents=True, exist_ok=True)
        for source, target, count in (
            (batch, "batch_log.json", 12),
            (stream, "stream_log.json", 8),
        ):
            with source.open("rb") as lines:
                (tiny / target).write_bytes(b"".join(next(lines) for _ in range(count)))
        with tempfile.TemporaryDirectory() as folder:
            out = str(Path(folder) / "out.json")
            commands = {
                "netflag --help": ["--help"],
                "netflag replay, 20 lines": [
                    "replay",
                    str(tiny / "batch_log.json"),
                    str(tiny / "stream_log.json"),
                    out,
                    "--quiet",
                ],
            }
            for label, args in commands.items():
                runs = [
                    run_measured([sys.executable, "-m", "netflag", *args])
                    for _ in range(max(5, self.repeat))
                ]
                cpu = statistics.median(run.cpu for run in runs)
                self.results.rows.append(
                    Row(
                        f"start-up: {label} (process CPU time)",
                        20 if "replay" in label else 0,
                        cpu,
                        peak_mib=max(run.peak_mib for run in runs),
                        note=f"wall {statistics.median(run.seconds for run in runs):.3f} s",
                    ).against("startup")
                )

    def large(self) -> None:
        self._preset("large", 5)

    def xl(self) -> None:
        self._preset("xl", 6)

    def _preset(self, name: str, seed: int) -> None:
        preset = PRESETS[name]
        batch, stream = self.workload(name, preset, seed)
        seconds, peak = replay_process(batch, stream)
        self.results.rows.append(
            Row(
                f"netflag replay end to end, {describe(preset)}",
                preset.batch_lines + preset.stream_lines,
                seconds,
                peak_mib=peak,
            ).against(name)
        )
