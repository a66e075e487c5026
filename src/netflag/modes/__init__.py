"""The ways to run netflag, each a folder and a thin shell over :mod:`netflag.runtime`.

- :mod:`netflag.modes.replay`: a batch log and a stream log in, a flags file out;
- :mod:`netflag.modes.live`: a batch log, then a live source's events, to sinks, exactly once;
- :mod:`netflag.modes.serve`: the HTTP service over one engine and a durable log.

No mode imports another: what two of them share lives in the runtime below them.
"""
