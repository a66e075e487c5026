"""The ``netflag`` command line: a thin shell that parses options and calls the library.

Every :class:`~netflag.errors.NetflagError` becomes one line on stderr and a
non-zero exit code; a traceback means a bug in netflag, never a user mistake.
Each module below registers its commands on the one typer ``app``.
"""

from netflag.cli.app import app

# Import order is the order of `netflag --help`: the main job first.
# isort: off
from netflag.cli import replay  # noqa: E402, F401  (each import registers its commands)
from netflag.cli import analysis, live  # noqa: E402, F401
from netflag.cli import serve  # noqa: E402, F401
from netflag.cli import bench  # noqa: E402, F401

# isort: on

__all__ = ["app"]
