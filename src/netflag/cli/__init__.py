"""The ``netflag`` command line: a thin shell that parses options and calls the library.

Every :class:`~netflag.errors.NetflagError` becomes one line on stderr and a
non-zero exit code; a traceback means a bug in netflag, never a user mistake.
Each module below registers its commands on the one typer ``app``.
"""

from netflag.cli import replay  # noqa: F401  (registers its commands)
from netflag.cli.app import app

__all__ = ["app"]
