"""Sources for live mode, one module each behind :class:`~netflag.io.sources.base.Source`.

Adding a backend (Kafka, say) means one module and one branch in :func:`open_source`.
"""

from __future__ import annotations

from netflag.io.sources.base import Lag, Line, Position, Source
from netflag.io.sources.file import FileSource, StdinSource
from netflag.io.sources.memory import ListSource
from netflag.io.urls import classify, redis_backend

__all__ = [
    "FileSource",
    "Lag",
    "Line",
    "ListSource",
    "Position",
    "Source",
    "StdinSource",
    "open_source",
]


def open_source(url: str) -> Source:
    """``file:PATH`` (or a bare path), ``-`` for stdin, or ``redis://HOST:PORT/STREAM``."""
    kind, path = classify(url, "source")
    if kind == "stdio":
        return StdinSource()
    if kind == "redis":
        source: Source = redis_backend(url, "netflag.io.sources.redis_streams").RedisSource(url)
        return source
    return FileSource(path)
