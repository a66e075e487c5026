"""Builds netflag's compiled core; everything else is in pyproject.toml.

The extension is optional: without a C++ compiler (or Cython) the install goes
on and netflag runs its pure-Python engine, saying so once on stderr.
``python setup.py build_ext --inplace`` builds it next to its source, which is
what ``run.sh`` does for a checkout run without installing.
"""

import os
from glob import glob

from setuptools import Extension, setup

# What the extensions are built from beside their .pyx: the files included, the C++ headers.
DEPENDS = sorted(glob("src/netflag/engine/_*.pxi") + glob("src/netflag/engine/_*.h"))
COMPILE, LINK = ["-O2", "-std=c++17"], []
# `scripts/build-core --sanitize` sets NETFLAG_SANITIZE=1 (and CC=clang) in a copy of the
# tree: ASan + UBSan, aborting at the first report, plus libFuzzer's coverage hooks (no-ops
# unless libFuzzer is loaded). -fno-wrapv undoes Python's -fwrapv, so that signed overflow
# is undefined again and UBSan reports it. The normal build never sees these flags.
if os.environ.get("NETFLAG_SANITIZE") == "1":
    LINK = ["-fsanitize=address,undefined,fuzzer-no-link", "-fno-sanitize-recover=all"]
    COMPILE = ["-O1", "-g", "-std=c++17", "-fno-omit-frame-pointer", "-fno-wrapv", *LINK]

try:
    from Cython.Build import cythonize
except ImportError:  # no Cython: no compiled core, the pure-Python engine runs
    extensions = []
else:
    extensions = cythonize(
        [
            Extension(
                f"netflag.engine.{name}",
                [f"src/netflag/engine/{name}.pyx"],
                include_dirs=["src/netflag/engine"],  # the C++ headers
                depends=DEPENDS,
                language="c++",
                extra_compile_args=COMPILE,
                extra_link_args=LINK,
                optional=True,
            )
            for name in ("_core", "_shard")  # the engine's core, a shard's kernels
        ],
        quiet=True,
    )

setup(ext_modules=extensions)
