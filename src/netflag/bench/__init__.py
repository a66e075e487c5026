"""``netflag bench``: generated workloads, each run in its own process, one table.

:mod:`~netflag.bench.child` holds what runs inside the measured process,
:mod:`~netflag.bench.suite` builds the workloads and collects the figures,
:mod:`~netflag.bench.plot` draws the scaling curves.
"""
