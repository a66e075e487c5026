"""The differential checks the fuzzer drives (scripts/fuzz) and the corpus replay runs.

Each check takes arbitrary bytes and raises (an AssertionError, or whatever broke) when
two ways of reading them disagree; under the sanitized build ASan and UBSan also abort on
any memory error or undefined behaviour the bytes reach in the compiled core.

- :func:`check_feed`: the bytes are a batch log (after a parameters line, or with D and T
  given instead). Loaded through the compiled core's fast path over the mapped file
  (``netflag.io.batchfeed.feed_file``, also in chunks of a few bytes), and line by line
  (``parse_event`` + ``Engine.apply``) on either core, the engine state, the count of
  events, the rejects (line and reason) and any error must be the same. The core's
  parser also reads them from a buffer of exactly their length, so that ASan sees a read
  past the end, which a mapped file's zero-filled last page would hide.
- :func:`check_snapshot`: the bytes are a snapshot after its first line (which is made
  to match, so the checksum passes and the content is what gets tried), or a whole
  snapshot when they start with its magic word. Loading must give a one-line
  ``CheckpointError``, or a state that both cores refuse alike (``ValueError`` and kin,
  which every caller turns into a ``CheckpointError``) or load alike and then decide
  alike.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

from netflag import __version__
from netflag.engine import Amount, Befriend, Engine, EngineState, Params, Purchase, snapshot
from netflag.errors import CheckpointError, NetflagError
from netflag.io import batchfeed
from netflag.io.events import LineError, parse_event
from netflag.io.limits import MAX_ID_CHARS, MAX_LINE_BYTES
from netflag.runtime.batch import load_batch
from netflag.runtime.rejects import Rejects

PARAMS = b'{"D":"2", "T":"3"}\n'
KERNELS = ("compiled", "python")
# What Engine.from_state may raise for columns it will not take; callers make it a
# CheckpointError (netflag.modes.live.resume, netflag.modes.serve.snapshots).
REFUSED = (IndexError, KeyError, TypeError, ValueError)


def _exact(data: bytes) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """A copy of ``data`` in a heap block of exactly its size (ASan: a read past it is caught;
    a bytes object would hide a one-byte overread behind its terminating NUL)."""
    return np.frombuffer(data, dtype=np.uint8).copy()


Outcome = tuple[object, ...]


def _load(path: Path, *, bulk: bool | None, kernel: str, D: int | None, T: int | None) -> Outcome:
    seen: list[tuple[int | None, str]] = []
    try:
        engine, applied, warnings = load_batch(
            path,
            Rejects(report=lambda r: seen.append((r.line, r.reason))),
            D=D,
            T=T,
            bulk=bulk,
            kernel=kernel,  # type: ignore[arg-type]
        )
    except NetflagError as error:
        return type(error).__name__, str(error)
    return engine.state(), applied, seen, warnings


@contextmanager
def _chunks(size: int) -> Iterator[None]:
    """feed_file hands the map to the core ``size`` bytes at a time (4 MiB normally)."""
    normal = batchfeed.CHUNK
    batchfeed.CHUNK = size
    try:
        yield
    finally:
        batchfeed.CHUNK = normal


def check_feed(data: bytes, folder: Path | None = None) -> None:
    """The fast path and the per-line parser read ``data`` (a batch log's events) alike.

    The log is ``data`` after a parameters line, or (for an odd length: the data picks, so
    a replay runs what the fuzzer ran) ``data`` alone with D and T given, where a first
    line without ``event_type`` is the parameters line and is skipped.
    """
    text, D, T = (data, 2, 3) if len(data) % 2 else (PARAMS + data, None, None)
    with tempfile.TemporaryDirectory(dir=folder) as where:
        path = Path(where) / "batch.json"
        path.write_bytes(text)
        expected = _load(path, bulk=False, kernel="python", D=D, T=T)
        assert _load(path, bulk=False, kernel="compiled", D=D, T=T) == expected
        assert _load(path, bulk=None, kernel="compiled", D=D, T=T) == expected
        with _chunks(1 + len(data) % 23):
            assert _load(path, bulk=None, kernel="compiled", D=D, T=T) == expected
    _feed_exact(text)


def _feed_exact(text: bytes) -> None:
    """The core's parser over ``text`` in a buffer of exactly its length, lines it leaves
    applied (or skipped) as feed_file does: for the sanitizers, not for the result."""
    engine = Engine(Params(2, 3), kernel="compiled")
    buffer, size = _exact(text), len(text)
    pos = line = 0
    while pos < size:
        pos, line = engine.feed(
            buffer, pos, size, line, max_id=MAX_ID_CHARS, max_line=MAX_LINE_BYTES
        )
        if pos < size:
            end = text.find(b"\n", pos)
            after = size if end < 0 else end + 1
            with suppress(LineError):
                engine.apply(parse_event(text[pos:after]), check=False)
            pos, line = after, line + 1


def _first_line(rest: bytes) -> bytes:
    digest = hashlib.sha256(rest).hexdigest()
    return f"{snapshot.MAGIC} {snapshot.FORMAT} {digest}\n".encode()


def snapshot_bytes(data: bytes) -> bytes:
    """The snapshot ``data`` stands for: itself if it starts like one, else a valid
    first line (magic, format, checksum) before it."""
    if data.startswith(snapshot.MAGIC.encode()):
        return data
    return _first_line(data) + data


def check_snapshot(data: bytes, folder: Path | None = None) -> None:
    """A mutated snapshot is refused in one line, or loads alike on both cores."""
    blob = snapshot_bytes(data)
    try:
        loaded = snapshot.load(_exact(blob), version=__version__)
    except CheckpointError as error:
        assert "\n" not in str(error), str(error)
        with tempfile.TemporaryDirectory(dir=folder) as where:
            path = Path(where) / "snapshot"
            path.write_bytes(blob)
            try:
                snapshot.load_file(path, version=__version__)
            except CheckpointError as again:
                assert str(again).replace(str(path), "snapshot") == str(error)
            else:
                raise AssertionError("the mapped file loads, the same bytes do not") from None
        return
    outcomes = [_restore(loaded.state, kernel) for kernel in KERNELS]
    assert outcomes[0] == outcomes[1], outcomes


def _restore(state: EngineState, kernel: str) -> object:
    """What an engine restored from ``state`` holds and decides, or that it was refused."""
    try:
        engine = Engine.from_state(state, kernel=kernel)  # type: ignore[arg-type]
    except REFUSED:
        return "refused"
    users = list(state.users)
    decisions = []
    for user in users[:3]:
        decision = engine.apply(Purchase(0, user, Amount(1, 0)))
        decisions.append(None if decision is None else (decision.flagged, decision.baseline))
    if len(users) >= 2:
        engine.apply(Befriend(0, users[0], users[-1]))
    return engine.state(), decisions
