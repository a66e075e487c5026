"""The URL forms that name a live source or sink, read the same way for both.

Accepted, for a source as for a sink: ``-`` (standard input or output),
``file:PATH`` or a bare path, and ``SCHEME://HOST...`` for each scheme of
:data:`SCHEMES`, the one table that says which module opens a source or a
sink of that scheme (imported only when used, since each needs its own
package). Anything else that begins like a URL (``ftp:/x``, ``redis:/host``)
is refused in one line rather than taken for a file name: a file whose name
really starts with ``xyz:`` is written ``file:xyz:...`` or ``./xyz:...``.

>>> [(t.kind, t.text) for t in map(classify, ["-", "file:a:b", "./ftp:x", "redis://h/s"])]
[('stdio', '-'), ('file', 'a:b'), ('file', './ftp:x'), ('redis', 'redis://h/s')]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType
from typing import Any, Literal

from netflag.errors import InputError


@dataclass(frozen=True, slots=True)
class Scheme:
    """A network backend: the form of its URLs, what opens a source, a sink and a producer
    of it (``module:name``, each called with the URL), the package they import and what to
    install when it is missing. ``settings``: whether they take client settings (the
    ``--kafka-config`` file's), as their second argument."""

    form: str
    source: str
    sink: str
    producer: str
    package: str
    hint: str
    settings: bool = False


SCHEMES: dict[str, Scheme] = {
    "redis": Scheme(
        "redis://HOST[:PORT]/STREAM",
        source="netflag.io.sources.redis_streams:RedisSource",
        sink="netflag.io.sinks.redis_streams:RedisSink",
        producer="netflag.io.producers.redis:produce",
        package="redis",
        hint='Redis needs the redis package: pip install "netflag[redis]"',
    ),
    "kafka": Scheme(
        "kafka://HOST:PORT/TOPIC",
        source="netflag.io.sources.kafka:KafkaSource",
        sink="netflag.io.sinks.kafka:KafkaSink",
        producer="netflag.io.producers.kafka:produce",
        package="confluent_kafka",
        hint='Kafka needs the confluent-kafka package: pip install "netflag[kafka]"',
        settings=True,
    ),
}
Side = Literal["source", "sink", "producer"]
LOOKS_LIKE_A_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def forms() -> str:
    """The accepted forms, for messages.

    >>> forms()
    '-, file:PATH, PATH, redis://HOST[:PORT]/STREAM or kafka://HOST:PORT/TOPIC'
    """
    *first, last = ["-", "file:PATH", "PATH", *(scheme.form for scheme in SCHEMES.values())]
    return f"{', '.join(first)} or {last}"


@dataclass(frozen=True, slots=True)
class Target:
    """What a URL names: ``kind`` is ``stdio``, ``file`` (``text`` is then the path) or a
    scheme of :data:`SCHEMES` (``text`` is the whole URL)."""

    kind: str
    text: str


def classify(url: str, role: str = "source or sink") -> Target:
    """Read ``url`` as one of the accepted forms, or refuse it in one line naming ``role``
    (``--sink``, ``SOURCE``...) and the forms that would do."""

    def refuse(problem: str) -> InputError:
        return InputError(f"{role} {url!r}: {problem}; use {forms()}")

    if url == "-":
        return Target("stdio", url)
    if not url:
        raise refuse("empty")
    if url.startswith("file:"):
        path = url.removeprefix("file:")
        if not path:
            raise refuse("no path after file:")
        if path.startswith("//"):
            raise refuse(f"file: takes a path, not a host: write file:/{path.lstrip('/')}")
        return Target("file", path)
    found = LOOKS_LIKE_A_SCHEME.match(url)
    if found is None:
        return Target("file", url)
    name = found.group(1).lower()
    scheme = SCHEMES.get(name)
    rest = url[found.end() :]
    if scheme is None:
        path = "" if rest.startswith("//") else f" (for a file of that name: file:{url} or ./{url})"
        raise refuse(f"unknown scheme {found.group(0)!r}{path}")
    if not rest.startswith("//") or rest[2:].startswith("/") or len(rest) == 2:
        raise refuse(f"a {name}: URL needs //HOST")
    return Target(name, url)


def backend(target: Target, side: Side) -> Callable[..., Any]:
    """What opens ``target`` as a ``side`` (a class, or the producer's function), imported
    now; or say what to install."""
    scheme = SCHEMES[target.kind]
    module, _, name = getattr(scheme, side).partition(":")
    opener: Callable[..., Any] = getattr(_import(target.text, module, scheme), name)
    return opener


def open_backend(target: Target, side: Side, settings: Mapping[str, str] | None) -> Any:
    """``target`` opened as a ``side``, with the client ``settings`` if its scheme takes them."""
    opener = backend(target, side)
    if SCHEMES[target.kind].settings:
        return opener(target.text, settings)
    return opener(target.text)


def _import(url: str, module: str, scheme: Scheme) -> ModuleType:
    try:
        return import_module(module)
    except ModuleNotFoundError as error:
        if error.name != scheme.package:
            raise
        raise InputError(f"{url}: {scheme.hint}") from None
