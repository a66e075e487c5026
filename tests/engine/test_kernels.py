"""The compiled core is built and chosen; without it the pure-Python twin runs and says so."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from netflag.engine import Engine, Params, _core, default_kernel

ROOT = Path(__file__).parent.parent.parent
# Hides the compiled core from the import system, as on a machine that could not build it.
HIDE = """
import importlib.abc, sys
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "netflag.engine._core":
            raise ImportError("hidden by the test")
sys.meta_path.insert(0, Hide())
"""


def run_replay(tmp_path: Path, prelude: str, **env: str) -> subprocess.CompletedProcess[str]:
    out = tmp_path / f"out-{len(list(tmp_path.iterdir()))}.json"
    code = prelude + "\nfrom netflag.cli import app\napp()"
    args = ["replay", "log_input/batch_log.json", "log_input/stream_log.json", str(out)]
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )


def test_the_compiled_core_is_built_and_the_default() -> None:
    """CI builds it (scripts/build-core): a missing build is a failure here, not a skip."""
    assert default_kernel() == "compiled"
    assert Engine(Params(3, 50)).kernel == "compiled"
    built = Path(_core.__file__)
    engine = ROOT / "src" / "netflag" / "engine"
    # The globs scripts/build-core watches: _core.pyx, every file it includes, the header.
    sources = [*engine.glob("_core*.pyx"), *engine.glob("_*.pxi"), *engine.glob("_*.h")]
    included = re.findall(r'^include "(\w+\.pxi)"$', (engine / "_core.pyx").read_text(), re.M)
    assert {"_core.pyx", "_core_support.h", *included} <= {source.name for source in sources}
    for source in sources:
        assert built.stat().st_mtime >= source.stat().st_mtime, (
            f"stale: run scripts/build-core ({source.name})"
        )


def test_without_the_compiled_core_the_python_engine_runs_and_says_so_once(
    tmp_path: Path,
) -> None:
    compiled = run_replay(tmp_path, "")
    missing = run_replay(tmp_path, HIDE)
    assert "compiled core is not built" not in compiled.stderr
    assert missing.stderr.count("the compiled core is not built, running the pure-Python") == 1
    forced = run_replay(tmp_path, "", NETFLAG_PUREPYTHON="1")
    assert "compiled core" not in forced.stderr  # asked for: nothing to warn about
    outputs = sorted(tmp_path.iterdir())
    assert len(outputs) == 3
    assert outputs[0].read_bytes() == outputs[1].read_bytes() == outputs[2].read_bytes()
    assert outputs[0].read_bytes().count(b"\n") == 14


def test_counts_beyond_32_bits_run_on_the_python_core(tmp_path: Path) -> None:
    """D or T of 2**31 or more are valid parameters the compiled core cannot hold."""
    assert Engine(Params(3, 2**31)).kernel == "python"
    assert Engine(Params(2**31, 50), kernel="compiled").kernel == "python"
    out = tmp_path / "out.json"
    logs = "insight_testsuite/tests/test_1/log_input"
    args = ["replay", f"{logs}/batch_log.json", f"{logs}/stream_log.json", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "netflag", *args, "--T", str(3 * 10**9)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert out.read_bytes().endswith(b'"amount": "1601.83", "mean": "29.10", "sd": "21.46"}\n')
