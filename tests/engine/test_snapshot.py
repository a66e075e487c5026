"""Snapshots: exact round trip, same bytes for the same state, and every bad file refused."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from netflag.engine import Engine, EngineState, Params, snapshot
from netflag.errors import CheckpointError
from netflag.generate import Preset, generate
from netflag.io.events import parse_event
from netflag.replay import Rejects, load_batch

VERSION = "0.1.0"


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[bytes]]:
    folder = tmp_path_factory.mktemp("logs")
    made = generate(folder, Preset(users=150, batch_lines=1_500, stream_lines=600), seed=5)
    return made.batch_path, made.stream_path.read_bytes().splitlines()


@pytest.fixture
def engine(logs: tuple[Path, list[bytes]]) -> Engine:
    loaded, _, _ = load_batch(logs[0], Rejects(), k="2.5")
    return loaded


def test_round_trip_gives_the_same_state_and_the_same_bytes(engine: Engine) -> None:
    state = engine.state()
    data = snapshot.dump(state, version=VERSION, extra={"where": [1, "x"]})
    loaded = snapshot.load(data, version=VERSION)
    assert loaded.state == state
    assert loaded.extra == {"where": [1, "x"]}
    assert loaded.state.params.k == Fraction(5, 2)
    again = Engine.from_state(loaded.state).state()
    assert snapshot.dump(again, version=VERSION, extra={"where": [1, "x"]}) == data


def test_a_restored_engine_decides_exactly_like_the_original(
    engine: Engine, logs: tuple[Path, list[bytes]]
) -> None:
    restored = Engine.from_state(snapshot.load(snapshot.dump(engine.state(), version=VERSION),
                                               version=VERSION).state)  # fmt: skip
    flags = 0
    for line in logs[1]:
        event = parse_event(line)
        a, b = engine.apply(event), restored.apply(event)
        assert a == b
        flags += bool(a and a.flagged)
    assert flags > 0
    assert restored.state() == engine.state()


def test_an_empty_engine_and_odd_ids_round_trip() -> None:
    state = EngineState(Params(1, 2, Fraction(0)), ("é", "0x\u2028"), ((0, 1),), (), 0, 7)
    assert snapshot.load(snapshot.dump(state, version=VERSION), version=VERSION).state == state


def test_the_format_is_documented_lines(engine: Engine) -> None:
    first, header, body, end = snapshot.dump(engine.state(), version=VERSION).split(b"\n")
    assert first.startswith(b"netflag-snapshot 1 ") and len(first.split()[2]) == 64
    assert header.startswith(b'{"extra":{},"netflag":"0.1.0","params":{"D":3,"T":50,"k":"5/2"}')
    assert body.startswith(b'{"edges":[') and end == b""


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d[: len(d) // 2], "corrupt or truncated"),
        (lambda d: d[:-1], "corrupt or truncated"),
        (lambda d: d.replace(b'"seq":', b'"seq":1', 1), "corrupt or truncated"),
        (lambda d: d[:300] + bytes([d[300] ^ 1]) + d[301:], "corrupt or truncated"),
        (lambda d: b"", "not a netflag snapshot"),
        (lambda d: b"PK\x03\x04 zip file", "not a netflag snapshot"),
        (lambda d: d.replace(b"netflag-snapshot 1 ", b"netflag-snapshot 2 ", 1), "format 2"),
    ],
)
def test_damaged_snapshots_are_refused(engine: Engine, damage, message: str) -> None:
    data = snapshot.dump(engine.state(), version=VERSION)
    with pytest.raises(CheckpointError, match=message):
        snapshot.load(damage(data), version=VERSION, where="state/checkpoint")


def test_another_netflag_version_is_refused(engine: Engine) -> None:
    data = snapshot.dump(engine.state(), version="0.0.9")
    with pytest.raises(CheckpointError, match="written by netflag 0.0.9, this is 0.1.0"):
        snapshot.load(data, version="0.1.0")


def test_a_well_formed_but_inconsistent_body_is_refused(engine: Engine) -> None:
    """Even with a valid checksum, content that cannot be an engine state is refused."""
    import hashlib

    good = snapshot.dump(engine.state(), version=VERSION)
    first, rest = good.split(b"\n", 1)
    for bad in [rest.replace(b'"edges":[', b'"edges":[-1,', 1),
                rest.replace(b'"sizes":[', b'"sizes":[9', 1),
                rest.replace(b'"users":[', b'"users":["",', 1)]:  # fmt: skip
        data = b"netflag-snapshot 1 " + hashlib.sha256(bad).hexdigest().encode() + b"\n" + bad
        with pytest.raises(CheckpointError, match="content is invalid"):
            snapshot.load(data, version=VERSION)
