"""What the fuzzer (and the sanitizer run) found: each a test that failed before its fix."""

from __future__ import annotations

import json
from array import array
from dataclasses import replace
from typing import Any

import pytest

from netflag import __version__
from netflag.engine import Amount, Engine, Params, Purchase, snapshot
from netflag.errors import CheckpointError
from tests.fuzz.targets import check_snapshot, snapshot_bytes


def _parts(blob: bytes) -> tuple[dict[str, Any], bytes]:
    """A snapshot's head (as JSON data) and its column bytes."""
    rest = blob[snapshot.FIRST_LINE :]
    end = rest.index(b"\n")
    start = -(-(snapshot.FIRST_LINE + end + 1) // snapshot.ALIGN) * snapshot.ALIGN
    return json.loads(rest[:end]), blob[start:]


def _rebuilt(head: dict[str, Any], body: bytes) -> bytes:
    """A snapshot laid out as the writer lays one out, checksum included, from its parts."""
    text = json.dumps(head, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    rest = text + bytes(-(snapshot.FIRST_LINE + len(text)) % snapshot.ALIGN) + body
    return snapshot_bytes(rest)


def _purchases() -> bytes:
    engine = Engine(Params(2, 5))
    for n in range(3):
        engine.apply(Purchase(n, "a", Amount(100 + n, 2)), check=False)
    return snapshot.dump(engine.state(), version=__version__)


def test_the_rebuilt_snapshot_of_an_unchanged_head_is_the_snapshot() -> None:
    blob = _purchases()
    assert _rebuilt(*_parts(blob)) == blob


def test_a_misaligned_column_is_refused_not_read_at_an_odd_address() -> None:
    # Found by scripts/fuzz snapshot (UBSan: load of misaligned address for 'const int64_t'
    # in Core.load): a head moving the ts column one byte on, its bytes moved alike.
    head, body = _parts(_purchases())
    ts = next(column for column in head["columns"] if column["name"] == "ts")
    start, size = ts["offset"], ts["bytes"]
    moved = body[:start] + b"\0" + body[start : start + size] + body[start + size + 1 :]
    ts["offset"] = start + 1
    with pytest.raises(CheckpointError, match="'ts' is not aligned to 64 bytes"):
        snapshot.load(_rebuilt(head, moved), version=__version__)


@pytest.mark.parametrize(("field", "value"), [("offset", -64), ("bytes", -8)])
def test_a_column_placed_before_the_body_is_refused(field: str, value: int) -> None:
    # A negative offset sliced the column from the end of the file instead.
    head, body = _parts(_purchases())
    column = next(column for column in head["columns"] if column["name"] == "units")
    column[field] = value
    with pytest.raises(CheckpointError, match="'units' has no place in the file"):
        snapshot.load(_rebuilt(head, body), version=__version__)


def test_the_fuzz_check_takes_a_valid_snapshot() -> None:
    check_snapshot(_purchases()[snapshot.FIRST_LINE :])


def test_a_head_nested_thousands_deep_is_malformed_not_a_recursion_error() -> None:
    # Found by review while fuzzing: json.loads raises RecursionError, which escaped.
    with pytest.raises(CheckpointError, match="snapshot is malformed"):
        snapshot.load(snapshot_bytes(b"[" * 100_000 + b"\n"), version=__version__)


def test_a_users_column_nested_thousands_deep_is_invalid_not_a_recursion_error() -> None:
    head, _ = _parts(_purchases())
    head["columns"] = [{"bytes": 100_000, "name": "users", "offset": 0, "type": "json"}]
    with pytest.raises(CheckpointError, match=r"content is invalid \(nested too deep\)"):
        snapshot.load(_rebuilt(head, b"[" * 100_000), version=__version__)


@pytest.mark.parametrize("extra", [None, [1], "x"])
def test_a_head_without_an_extra_object_is_invalid(extra: object) -> None:
    # Found by review: a missing "extra" was a KeyError after the checks, and a list one
    # reached the journal, whose `"seq" in extra` then meant something else.
    head, body = _parts(_purchases())
    if extra is None:
        del head["extra"]
    else:
        head["extra"] = extra
    with pytest.raises(CheckpointError, match="snapshot content is invalid"):
        snapshot.load(_rebuilt(head, body), version=__version__)


@pytest.mark.parametrize("kernel", ["compiled", "python"])
def test_a_sequence_number_past_48_bits_is_refused_by_both_cores(kernel: str) -> None:
    # Found by scripts/fuzz snapshot (2026-12-06, 746 runs in): a seq of 8027793262296068909.
    # The Python twin keys purchases by ts << 48 | seq, so such a seq spilled into the
    # timestamp and it refused the order that the compiled core, comparing (ts, seq),
    # took: the cores disagreed on the same state.
    loaded = snapshot.load(_purchases(), version=__version__)
    state = loaded.state
    seqs = list(state.seq)
    seqs[-1] = 1 << 48
    bad = replace(state, seq=array("q", seqs))
    with pytest.raises(ValueError, match="numbered at or past the state's next number"):
        Engine.from_state(bad, kernel=kernel)  # type: ignore[arg-type]


@pytest.mark.parametrize("kernel", ["compiled", "python"])
def test_a_purchase_numbered_past_next_seq_is_refused_by_both_cores(kernel: str) -> None:
    # Found by scripts/fuzz snapshot (2026-12-06, 238,026 runs in): next_seq below a kept
    # purchase's seq, so the next purchase took a number already kept, and the cores
    # ordered the tie each its own way.
    state = snapshot.load(_purchases(), version=__version__).state
    behind = replace(state, next_seq=max(state.seq))
    with pytest.raises(ValueError, match="numbered at or past the state's next number"):
        Engine.from_state(behind, kernel=kernel)  # type: ignore[arg-type]
    Engine.from_state(replace(state, next_seq=max(state.seq) + 1), kernel=kernel)
