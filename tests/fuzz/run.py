"""The coverage-guided fuzzer (atheris, i.e. libFuzzer) over one check of tests/fuzz/targets.py.

Run it through scripts/fuzz, which builds the sanitized core and preloads ASan with
libFuzzer: ``NETFLAG_FUZZ=feed|snapshot python tests/fuzz/run.py [libFuzzer options]
CORPUS...`` (the check is named in the environment, which libFuzzer's merge and fork
children inherit, not in the arguments it reads as corpus folders).
Coverage is the compiled core's (its clang instrumentation) plus the Python code that
reads bytes: netflag.io, the batch loader and the snapshot loader (atheris instruments
their bytecode at import). The engine's Python twin is left out: instrumented, it would
slow every run several times over, and the property tests cover it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

INSTRUMENTED = ["netflag.io", "netflag.runtime.batch", "netflag.engine.snapshot"]
with atheris.instrument_imports(include=INSTRUMENTED):
    from tests.fuzz import targets

CHECKS = {"feed": targets.check_feed, "snapshot": targets.check_snapshot}


def main() -> None:
    check = CHECKS[os.environ["NETFLAG_FUZZ"]]

    def one(data: bytes) -> None:
        check(data)

    # libFuzzer's merge runs its own command line again through the shell: argv[0] must
    # be a command, not this file.
    atheris.Setup([f"{sys.executable} {Path(__file__).resolve()}", *sys.argv[1:]], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
