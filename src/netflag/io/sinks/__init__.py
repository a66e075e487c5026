"""Sinks for live mode, one module each behind :class:`~netflag.io.sinks.base.Sink`.

Adding a backend means one module and one branch in :func:`open_sink`.
"""

from __future__ import annotations

from netflag.io.sinks.base import Position, Sink
from netflag.io.sinks.file import FileSink
from netflag.io.sinks.memory import ListSink
from netflag.io.sinks.stdout import StdoutSink
from netflag.io.urls import classify, redis_backend

__all__ = ["FileSink", "ListSink", "Position", "Sink", "StdoutSink", "open_sink"]


def open_sink(url: str) -> Sink:
    """``file:PATH`` (or a bare path), ``-`` for stdout, or ``redis://HOST:PORT/STREAM``."""
    kind, path = classify(url, "sink")
    if kind == "stdio":
        return StdoutSink()
    if kind == "redis":
        sink: Sink = redis_backend(url, "netflag.io.sinks.redis_streams").RedisSink(url)
        return sink
    return FileSink(path)
