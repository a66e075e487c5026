"""What a flag leads to: explanations, actions, reports and parameter sweeps.

Pure library code on top of the engine and the replay pipeline: no typer, no
rich (the CLI in :mod:`netflag.cli.analysis` renders). Every number that
matters is exact; the rules are in docs/analysis.md.
"""
