"""Snapshots: exact round trip, same bytes for the same state, and every bad file refused."""

from __future__ import annotations

import hashlib
import json
import mmap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from netflag.devtools.generate import Preset, generate
from netflag.engine import Engine, EngineState, Params, snapshot
from netflag.errors import CheckpointError
from netflag.io.events import parse_event
from netflag.runtime.batch import load_batch
from netflag.runtime.rejects import Rejects

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
    state = EngineState(
        Params(1, 2, Fraction(0)), ["é", "0x\u2028"], [0], [1], [], [], [], [], 0, 7
    )
    assert snapshot.load(snapshot.dump(state, version=VERSION), version=VERSION).state == state


def test_amounts_beyond_int64_round_trip() -> None:
    big = 10**30
    state = EngineState(Params(1, 2), ["a"], [], [], [5], [0], [0], [big], 2, 1)
    loaded = snapshot.load(snapshot.dump(state, version=VERSION), version=VERSION).state
    assert loaded == state and list(loaded.units) == [big]
    assert Engine.from_state(loaded).kernel == "python"


def test_the_format_is_a_head_then_aligned_columns(engine: Engine) -> None:
    data = snapshot.dump(engine.state(), version=VERSION)
    first, rest = data.split(b"\n", 1)
    assert first.startswith(b"netflag-snapshot 2 ") and len(first.split()[2]) == 64
    header = json.loads(rest.split(b"\n", 1)[0])
    assert header["params"] == {"D": 3, "T": 50, "k": "5/2"}
    columns = {c["name"]: c for c in header["columns"]}
    assert [c["type"] for c in header["columns"]] == ["json", "i", "i", "q", "q", "i", "q"]
    assert all(c["offset"] % 64 == 0 for c in columns.values())
    assert columns["ts"]["bytes"] == 8 * len(engine.state().ts)


def test_a_file_loads_as_views_of_its_map(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "checkpoint"
    path.write_bytes(snapshot.dump(engine.state(), version=VERSION, extra={"n": 1}))
    loaded = snapshot.load_file(path, version=VERSION)
    assert isinstance(loaded.state.ts, memoryview) and isinstance(loaded.state.ts.obj, mmap.mmap)
    assert loaded.state == engine.state() and loaded.extra == {"n": 1}
    for name in ("edge_lo", "edge_hi", "ts", "seq", "owner", "units"):  # aligned in memory
        column = getattr(loaded.state, name)
        address = np.frombuffer(column, dtype=column.format).__array_interface__["data"][0]
        assert address % 64 == 0, name


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d[: len(d) // 2], "corrupt or truncated"),
        (lambda d: d[:-1], "corrupt or truncated"),
        (lambda d: d.replace(b'"next_seq":', b'"next_seq":1', 1), "corrupt or truncated"),
        (lambda d: d[:300] + bytes([d[300] ^ 1]) + d[301:], "corrupt or truncated"),
        (lambda d: d[:-70] + bytes([d[-70] ^ 1]) + d[-69:], "corrupt or truncated"),
        (lambda d: b"", "not a netflag snapshot"),
        (lambda d: b"PK\x03\x04 zip file", "not a netflag snapshot"),
        (lambda d: d.replace(b"netflag-snapshot 2 ", b"netflag-snapshot 1 ", 1), "format 1"),
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


def resign(rest: bytes) -> bytes:
    """A snapshot with a valid checksum around whatever ``rest`` holds."""
    return b"netflag-snapshot 2 " + hashlib.sha256(rest).hexdigest().encode() + b"\n" + rest


def test_a_well_formed_but_inconsistent_head_is_refused(engine: Engine) -> None:
    """Even with a valid checksum, a head that cannot describe a state is refused."""
    rest = snapshot.dump(engine.state(), version=VERSION).split(b"\n", 1)[1]
    for bad in [rest.replace(b'"next_seq":', b'"next_seq":-', 1),
                rest.replace(b'"offset":0', b'"offset":99999999', 1),
                rest.replace(b'"name":"ts"', b'"name":"tz"', 1),
                rest.replace(b'["', b'["",', 1)]:  # fmt: skip
        with pytest.raises(CheckpointError, match="content is invalid"):
            snapshot.load(resign(bad), version=VERSION)


@pytest.mark.parametrize("kernel", ["compiled", "python"])
@pytest.mark.parametrize(
    "columns",
    [
        ([-1], [1], [], [], [], []),  # an edge to no one
        ([1], [0], [], [], [], []),  # not lo < hi
        ([0, 0], [1, 1], [], [], [], []),  # an edge twice
        ([], [], [5, 4], [0, 1], [0, 1], [1, 1]),  # not sorted by key
        ([], [], [5], [0], [7], [1]),  # an unknown buyer
        ([], [], [1, 2, 3], [0, 1, 2], [0, 0, 0], [1, 1, 1]),  # more than T a user
    ],
)
def test_inconsistent_columns_cannot_build_an_engine(kernel: str, columns: tuple) -> None:
    state = EngineState(Params(1, 2), ["a", "b"], *columns, scale=0, next_seq=9)
    loaded = snapshot.load(snapshot.dump(state, version=VERSION), version=VERSION).state
    with pytest.raises(ValueError):
        Engine.from_state(loaded, kernel=kernel)  # type: ignore[arg-type]
