"""Sinks for live mode, one module each behind :class:`~netflag.io.sinks.base.Sink`.

Adding a backend means one module and one row in :data:`netflag.io.urls.SCHEMES`,
which :func:`open_sink` and :func:`~netflag.io.sources.open_source` read alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from netflag.io.sinks.base import Position, Sink
from netflag.io.sinks.file import FileSink
from netflag.io.sinks.memory import ListSink
from netflag.io.sinks.stdout import Screen, StdoutSink
from netflag.io.urls import classify, open_backend

__all__ = ["FileSink", "ListSink", "Position", "Screen", "Sink", "StdoutSink", "open_sink"]


def open_sink(
    url: str,
    role: str = "sink",
    *,
    screen: Screen | None = None,
    settings: Mapping[str, str] | None = None,
) -> Sink:
    """``-`` for stdout, ``file:PATH`` (or a bare path), or a URL of a scheme in
    :data:`~netflag.io.urls.SCHEMES`; ``role`` names it in errors (``--sink``).

    ``screen`` is the status line stdout shares a terminal with, if it does
    (:class:`~netflag.io.sinks.stdout.StdoutSink`); ``settings``: client settings for a
    scheme that takes them (``--kafka-config``'s).
    """
    target = classify(url, role)
    if target.kind == "stdio":
        return StdoutSink(screen)
    if target.kind == "file":
        return FileSink(target.text)
    sink: Sink = open_backend(target, "sink", settings)
    return sink
