"""Sources for live mode, one module each behind :class:`~netflag.io.sources.base.Source`.

Adding a backend means one module and one row in
:data:`netflag.io.urls.SCHEMES`, which :func:`open_source` and
:func:`~netflag.io.sinks.open_sink` read alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from netflag.io.sources.base import Lag, Line, Position, Source
from netflag.io.sources.file import FileSource, StdinSource
from netflag.io.sources.memory import ListSource
from netflag.io.urls import classify, open_backend

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


def open_source(
    url: str, role: str = "source", *, settings: Mapping[str, str] | None = None
) -> Source:
    """``-`` for stdin, ``file:PATH`` (or a bare path), or a URL of a scheme in
    :data:`~netflag.io.urls.SCHEMES`; ``role`` names it in errors (``SOURCE``).
    ``settings``: client settings for a scheme that takes them (``--kafka-config``'s)."""
    target = classify(url, role)
    if target.kind == "stdio":
        return StdinSource()
    if target.kind == "file":
        return FileSource(target.text)
    source: Source = open_backend(target, "source", settings)
    return source
