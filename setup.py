"""Builds netflag's compiled core; everything else is in pyproject.toml.

The extension is optional: without a C++ compiler (or Cython) the install goes
on and netflag runs its pure-Python engine, saying so once on stderr.
``python setup.py build_ext --inplace`` builds it next to its source, which is
what ``run.sh`` does for a checkout run without installing.
"""

from glob import glob

from setuptools import Extension, setup

# What _core.pyx is built from beside itself: the files it includes, the C++ header.
DEPENDS = sorted(glob("src/netflag/engine/_*.pxi") + glob("src/netflag/engine/_*.h"))

try:
    from Cython.Build import cythonize
except ImportError:  # no Cython: no compiled core, the pure-Python engine runs
    extensions = []
else:
    extensions = cythonize(
        [
            Extension(
                "netflag.engine._core",
                ["src/netflag/engine/_core.pyx"],
                include_dirs=["src/netflag/engine"],  # _core_support.h
                depends=DEPENDS,
                language="c++",
                extra_compile_args=["-O2", "-std=c++17"],
                optional=True,
            )
        ],
        quiet=True,
    )

setup(ext_modules=extensions)
