"""The URL forms that name a live source or sink, read the same way for both."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Literal

from netflag.errors import InputError

REDIS_HINT = 'Redis needs the redis package: pip install "netflag[redis]"'


def classify(url: str, role: str) -> tuple[Literal["stdio", "redis", "file"], str]:
    """``-`` (stdin or stdout), ``redis://HOST:PORT/STREAM``, or ``file:PATH`` / a bare path.

    Returns the kind and, for files, the path.
    """
    if url == "-":
        return "stdio", url
    if url.startswith("redis:"):
        return "redis", url
    path = url.removeprefix("file:")
    if "://" in url or not path:
        raise InputError(f"{url}: unknown {role}; use file:PATH, - or redis://HOST:PORT/STREAM")
    return "file", path


def redis_backend(url: str, module: str) -> ModuleType:
    """Import a Redis-backed module, or say which extra to install."""
    try:
        return import_module(module)
    except ModuleNotFoundError as error:
        if error.name != "redis":
            raise
        raise InputError(f"{url}: {REDIS_HINT}") from None
