"""Sources for live mode, one module each behind :class:`~netflag.io.sources.base.Source`.

Adding a backend (Kafka, say) means one module and one branch in :func:`open_source`.
"""

from __future__ import annotations

from netflag.errors import InputError
from netflag.io.sources.base import Line, Position, Source
from netflag.io.sources.file import FileSource, StdinSource
from netflag.io.sources.memory import ListSource

__all__ = ["FileSource", "Line", "ListSource", "Position", "Source", "StdinSource", "open_source"]

REDIS_HINT = 'Redis needs the redis package: pip install "netflag[redis]"'


def open_source(url: str) -> Source:
    """``file:PATH`` (or a bare path), ``-`` for stdin, or ``redis://HOST:PORT/STREAM``."""
    if url == "-":
        return StdinSource()
    if url.startswith("redis:"):
        try:
            from netflag.io.sources.redis_streams import RedisSource
        except ModuleNotFoundError as error:
            if error.name != "redis":
                raise
            raise InputError(f"{url}: {REDIS_HINT}") from None
        return RedisSource(url)
    path = url.removeprefix("file:")
    if "://" in url or not path:
        raise InputError(f"{url}: unknown source; use file:PATH, - or redis://HOST:PORT/STREAM")
    return FileSource(path)
