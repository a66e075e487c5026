"""``netflag bench`` scaling curves: checks per second against D, T and the number of users.

The curves are not table rows but points in :attr:`Results.curves`, drawn by
:mod:`netflag.devtools.bench.plot`. D and T vary on the checks workload with
its stream cut to ``curve_stream`` lines; users vary over workloads of
``lines_per_user`` batch lines a user (reaching ``xl_users`` with ``--xl``).
"""

from __future__ import annotations

from pathlib import Path

from netflag.devtools.bench.core import Workbench, child
from netflag.devtools.generate import Preset


class Curves(Workbench):
    """The three curves, each point one child process's checks per second."""

    def curves(self) -> None:
        batch, stream = self.workload("checks", self.sizes.checks, 2)
        limit = self.sizes.curve_stream
        short = self.data / f"stream-{limit}.json"
        if not short.exists():
            with stream.open("rb") as source:
                short.write_bytes(
                    b"".join(line for _, line in zip(range(limit), source, strict=False))
                )
        self.results.curves["D"] = [
            (D, self._rate(batch, short, D=D, T=50)) for D in self.sizes.D_values
        ]
        self.results.curves["T"] = [
            (T, self._rate(batch, short, D=3, T=T)) for T in self.sizes.T_values
        ]
        points = []
        for users in self.sizes.users + ((self.sizes.xl_users,) if self.xl_curve else ()):
            preset = Preset(
                users=users, batch_lines=users * self.sizes.lines_per_user, stream_lines=limit
            )
            b, s = self.workload("users", preset, 4)
            points.append((users, self._rate(b, s, D=3, T=50)))
        self.results.curves["users"] = points

    def _rate(self, batch: Path, stream: Path, *, D: int, T: int) -> float:
        self.say(f"curve point D={D} T={T} on {batch.parent.name}")
        _, _, out = child("checks", batch, stream, "--D", str(D), "--T", str(T))
        return float(out["checked"] / out["seconds"])
