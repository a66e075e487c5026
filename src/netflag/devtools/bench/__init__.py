"""``netflag bench``: generated workloads, each run in its own process, one table.

:mod:`~netflag.devtools.bench.suite` is the suite the command drives, composed of
one module per family of rows: :mod:`~netflag.devtools.bench.replay` (whole
processes), :mod:`~netflag.devtools.bench.engine` (the engine alone),
:mod:`~netflag.devtools.bench.modes` (live, serve, Ray workers) and
:mod:`~netflag.devtools.bench.curves` (the scaling curves), all on
:mod:`~netflag.devtools.bench.core` (sizes, rows, results, child processes).
:mod:`~netflag.devtools.bench.child` holds what runs inside the measured process,
:mod:`~netflag.devtools.bench.plot` draws the scaling curves.
"""
