"""A plain ``netflag replay`` loads only what one process needs: start-up time counts.

``netflag bench`` holds its start-up to 0.15 s of CPU; the shards' modules and
numpy took 0.12 s more when the CLI imported them for every replay.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests import paths


def test_a_plain_replay_imports_neither_numpy_nor_the_shards(tmp_path: Path) -> None:
    logs = paths.OFFICIAL / "log_input"
    args = [str(logs / "batch_log.json"), str(logs / "stream_log.json"), str(tmp_path / "o")]
    script = (
        "import runpy, sys\n"
        f"sys.argv = ['netflag', 'replay', *{args!r}]\n"
        "try:\n    runpy.run_module('netflag', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "loaded = [m for m in sys.modules if m == 'numpy' or m.startswith('netflag.engine.shard')"
        " or m in ('netflag.modes.replay.sharded', 'netflag.distributed.nodes')]\n"
        "sys.stderr.write(f'loaded: {sorted(loaded)}\\n')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and "loaded: []" in done.stderr, done.stderr
