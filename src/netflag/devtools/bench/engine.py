"""``netflag bench`` rows of the engine alone: checks per second, a snapshot's load, the oracle.

Each is timed inside one child process (:mod:`netflag.devtools.bench.child`)
around the work itself, so imports and the batch load are not counted; the
child reports its figures as JSON and the process's peak memory comes with it.
"""

from __future__ import annotations

from netflag.devtools.bench.core import Row, Workbench, child, describe


class EngineRows(Workbench):
    """Checked purchases per second at each D, loading a checkpoint, the reference engine."""

    def checks(self) -> None:
        batch, stream = self.workload("checks", self.sizes.checks, 2)
        for D in self.sizes.check_D:
            seconds, peak, out = child("checks", batch, stream, "--D", str(D))
            rate = out["checked"] / out["seconds"]
            self.results.rows.append(
                Row(
                    f"checks D={D} T=50, {describe(self.sizes.checks)}",
                    out["events"],
                    out["seconds"],
                    checks_per_second=rate,
                    peak_mib=peak,
                    note=f"{out['checked']} checked, {out['flagged']} flagged",
                ).against("checks D=6" if D >= 5 else "checks")
            )

    def snapshot(self) -> None:
        """Loading a checkpoint of the medium state: map the file, rebuild the engine."""
        batch, stream = self.workload("medium", self.sizes.medium, 1)
        _, peak, out = child("snapshot", batch, stream)
        self.results.rows.append(
            Row(
                f"snapshot load (map + engine), {describe(self.sizes.medium)} state",
                out["kept"],
                out["seconds"],
                peak_mib=peak,
                note=f"{out['bytes'] / 2**20:.1f} MiB file, median of {out['runs']}",
            ).against("snapshot")
        )

    def reference(self) -> None:
        batch, stream = self.workload("reference", self.sizes.reference, 3)
        _, _, out = child("reference", batch, stream)
        speedup = out["reference_seconds"] / out["engine_seconds"]
        same = "identical output" if out["identical"] else "OUTPUT DIFFERS"
        self.results.rows.append(
            Row(
                f"reference engine (BFS+sort+Fraction), {describe(self.sizes.reference)}",
                self.sizes.reference.stream_lines,
                out["reference_seconds"],
                note=f"engine {speedup:.0f}x faster, {same}",
            )
        )
