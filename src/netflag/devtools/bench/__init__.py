"""``netflag bench``: generated workloads, each run in its own process, one table.

:mod:`~netflag.devtools.bench.child` holds what runs inside the measured process,
:mod:`~netflag.devtools.bench.suite` builds the workloads and collects the figures,
:mod:`~netflag.devtools.bench.plot` draws the scaling curves.
"""
