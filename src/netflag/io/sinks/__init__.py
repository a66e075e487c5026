"""Sinks for live mode, one module each behind :class:`~netflag.io.sinks.base.Sink`.

Adding a backend means one module and one branch in :func:`open_sink`.
"""

from __future__ import annotations

from netflag.errors import InputError
from netflag.io.sinks.base import Position, Sink
from netflag.io.sinks.file import FileSink
from netflag.io.sinks.memory import ListSink
from netflag.io.sinks.stdout import StdoutSink

__all__ = ["FileSink", "ListSink", "Position", "Sink", "StdoutSink", "open_sink"]

REDIS_HINT = 'Redis needs the redis package: pip install "netflag[redis]"'


def open_sink(url: str) -> Sink:
    """``file:PATH`` (or a bare path), ``-`` for stdout, or ``redis://HOST:PORT/STREAM``."""
    if url == "-":
        return StdoutSink()
    if url.startswith("redis:"):
        try:
            from netflag.io.sinks.redis_streams import RedisSink
        except ModuleNotFoundError as error:
            if error.name != "redis":
                raise
            raise InputError(f"{url}: {REDIS_HINT}") from None
        return RedisSink(url)
    path = url.removeprefix("file:")
    if "://" in url or not path:
        raise InputError(f"{url}: unknown sink; use file:PATH, - or redis://HOST:PORT/STREAM")
    return FileSink(path)
