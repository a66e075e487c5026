"""A disk that fills up: a 4 MiB tmpfs mounted for one test, and ballast to fill it with.

The writes then fail the way a full disk fails them (``ENOSPC``), from the
kernel, in whatever file happens to be written. Mounting needs root (CI runs as
root): elsewhere the fixture fails and says so, as a missing redis-server does.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SIZE = 4 << 20


@dataclass(frozen=True)
class SmallDisk:
    path: Path

    @property
    def ballast(self) -> Path:
        return self.path / "ballast"

    def free_bytes(self) -> int:
        info = os.statvfs(self.path)
        return info.f_bavail * info.f_frsize

    def fill(self, leave: int) -> None:
        """Take all but ``leave`` bytes of what is free."""
        with self.ballast.open("ab") as handle:
            handle.write(bytes(max(0, self.free_bytes() - leave)))

    def empty(self) -> None:
        """Give the ballast's space back."""
        self.ballast.unlink()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if made.returncode != 0:
        pytest.fail(f"cannot mount a {SIZE >> 20} MiB tmpfs (needs root): {made.stderr.strip()}")
    try:
        yield SmallDisk(mount)
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)
