"""What every mode drives: one line's path, the batch load, the durable log, checkpoints.

- :mod:`~netflag.runtime.batch`: the batch log's parameters line and the engine it builds;
- :mod:`~netflag.runtime.pipeline`: raw line -> event -> decision -> flag line -> outputs;
- :mod:`~netflag.runtime.rejects`: what happens to a bad line;
- :mod:`~netflag.runtime.actions`: what a flag leads to (feed audience, recommendations);
- :mod:`~netflag.runtime.journal`: a write-ahead log of event lines with engine snapshots;
- :mod:`~netflag.runtime.checkpoint`: live mode's positions, as marks in that log;
- :mod:`~netflag.runtime.progress`: the phases a long run announces (drawn by the CLI).

It knows no surface: nothing here imports a mode, the analyses or the CLI.
"""
