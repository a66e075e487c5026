"""``python -m netflag`` runs the command line."""

from netflag.cli import app

app(prog_name="netflag")
