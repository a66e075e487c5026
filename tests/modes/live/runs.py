"""Running ``netflag live`` as a user does, in a subprocess: start, kill, finish, compare."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

NETFLAG = [sys.executable, "-m", "netflag"]


def reasons(dead_letters: bytes) -> list[tuple[str, str]]:
    return [(r["reason"], r["raw"]) for r in map(json.loads, dead_letters.splitlines())]


def spawn(*args: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*NETFLAG, *map(str, args)], stderr=subprocess.PIPE)


def live_args(logs, source: str, work: Path, *more: object) -> list[object]:
    return ["live", logs["batch"], source, "--sink", f"file:{work / 'flags.json'}", *more,
            "--rejects", f"file:{work / 'rejects.json'}", "--state", work / "state",
            "--checkpoint-every", "150", "--checkpoint-seconds", "0.3", "-q"]  # fmt: skip


def checkpointed_since(log: Path, spawned: int) -> bool:
    """Whether a checkpoint (a mark in the journal's log) was written after ``spawned``."""
    stamps = []
    for path in log.glob("*.wal") if log.exists() else []:
        with contextlib.suppress(FileNotFoundError):  # a restart cuts the log meanwhile
            stamps.append(path.stat().st_mtime_ns)
    return max(stamps, default=0) > spawned


def finish(args: list[object], idle: float = 1.0) -> str:
    """Run to the end of the source (``idle`` seconds without a line); its stderr."""
    done = subprocess.run([*NETFLAG, *map(str, args), "--idle-timeout", str(idle)],
                          capture_output=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stderr.decode()


def feed_file(lines: list[bytes], path: Path, per_second: float) -> threading.Thread:
    """Append lines to ``path`` at a steady rate, in a thread, as a shop's log grows."""

    def run() -> None:
        with path.open("ab") as handle:
            for i in range(0, len(lines), 20):
                handle.write(b"".join(lines[i : i + 20]))
                handle.flush()
                time.sleep(20 / per_second)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
