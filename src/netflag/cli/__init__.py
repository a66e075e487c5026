"""The ``netflag`` command line: a thin shell that parses options and calls the library.

Every :class:`~netflag.errors.NetflagError` becomes one line on stderr and a
non-zero exit code; a traceback means a bug in netflag, never a user mistake.
Each module below registers its commands on the one typer ``app``.
"""

from netflag.cli import analysis, bench, live, replay  # noqa: F401  (register their commands)
from netflag.cli.app import app

__all__ = ["app"]
