"""The batch loaders (compiled fast path, columnar, per line) give the same state and rejects."""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from netflag.engine import EngineState
from netflag.runtime.batch import load_batch
from netflag.runtime.rejects import Rejection, Rejects
from tests.logs import event_logs

P = '{"event_type":"purchase", "timestamp":"2017-06-13 11:33:01", '
# Lines the columnar path must hand to the per-line parser, or reject identically.
ODD_LINES = [
    "",
    "   ",
    "not json",
    P + '"id": "1", "amount": 12.50}',
    P + '"id": 7, "amount": "1.5"}',
    '{"timestamp":"2017-06-13 11:33:02", "event_type":"purchase", "id": "2", "amount": "3"}',
    P + '"id": "1", "amount": "1", "x": 1}',
    '{"event_type":"purchase", "timestamp":"2017-02-30 11:33:01", "id": "1", "amount": "1"}',
    '{"event_type":"purchase", "timestamp":"2017-06-13 23:59:60", "id": "1", "amount": "1"}',
    '{"event_type":"purchase", "timestamp":"0000-06-13 11:33:01", "id": "1", "amount": "1"}',
    '{"event_type":"purchase", "timestamp":"2017-06-13 24:00:00", "id": "1", "amount": "1"}',
    P + '"id": "1", "amount": "-1"}',
    P + '"id": "", "amount": "1"}',
    P + '"id": "\\u0031", "amount": "2"}',
    P + '"id": "1", "id": "2", "amount": "2"}',
    P + '"id": "3", "amount": "1234567890123.5"}',
    P + '"id": "3", "amount": "0.1250"}',
    P + '"id": "4", "amount": "4"}',
    '{"event_type":"befriend", "timestamp":"2017-06-13 11:33:01", "id1": "5", "id2": "5"}',
    '{"event_type":"befriend", "timestamp":"2017-06-13 11:33:01", "id1": 5, "id2": "6"}',
    '{"event_type":"unfriend", "timestamp":"2017-06-13 11:33:01", "id1": "6", "id2": "5"}  ',
    '{"event_type":"Purchase", "timestamp":"2017-06-13 11:33:01", "id": "1", "amount": "1"}',
    '\t{ "event_type" : "befriend" , "timestamp" : "2017-06-13 11:33:09" , '
    '"id1" : "8" , "id2" : "1" }',
    # Near the canonical shape: each must leave the fast paths or mean the same there.
    P + '"id": "é", "amount": "2"}',
    P + '"id": "a\x7fb", "amount": "2"}',
    P + '"id": "a\\"b", "amount": "2"}',
    P + '"id": "1", "amount": "5."}',
    P + '"id": "1", "amount": ".5"}',
    P + '"id": "1", "amount": "007.50"}',
    P + '"id": "1", "amount": "0.000"}',
    P + '"id": "1", "amount": "999999999999.999"}',
    P + '"id": "1", "amount": "2"} ',
    P + '"id": "1", "amount": "2"}}',
    P + '"id": "1",  "amount": "2"}',
    '{"event_type":"purchase", "timestamp":"2016-02-29 00:00:00", "id": "1", "amount": "1"}',
    '{"event_type":"purchase", "timestamp":"2100-02-29 00:00:00", "id": "1", "amount": "1"}',
    '{"event_type":"purchase", "timestamp":"9999-12-31 23:59:59", "id": "1", "amount": "1"}',
    '{"event_type":"purchase", "timestamp":"2017-6-13 11:33:01", "id": "1", "amount": "1"}',
    '{"event_type":"befriend", "timestamp":"2017-06-13 11:33:01", "id1": "1", "id2": "2", }',
    '{"event_type":"unfriend", "timestamp":"2017-06-13 11:33:01", "id1": "x", "id2": "y"}',
    P + '"id": "' + "i" * 256 + '", "amount": "2"}',  # the longest id
    P + '"id": "' + "i" * 257 + '", "amount": "2"}',  # one over: rejected
]


def load(text: bytes, bulk: bool | None) -> tuple[EngineState, int, list[tuple[int, str]]]:
    seen: list[Rejection] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "batch.json"
        path.write_bytes(text)
        engine, applied, _ = load_batch(path, Rejects(report=seen.append), bulk=bulk)
    return engine.state(), applied, [(r.line, r.reason) for r in seen]


@given(
    log=event_logs(),
    odd=st.lists(st.tuples(st.integers(0, 60), st.sampled_from(ODD_LINES)), max_size=8),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_bulk_equals_per_line(
    log: tuple[str, str, Fraction], odd: list[tuple[int, str]], crlf: bool, bom: bool
) -> None:
    batch, stream, _ = log
    lines = batch.splitlines() + stream.splitlines()  # more events, same shape
    for position, line in odd:
        lines.insert(min(position + 1, len(lines)), line)
    text = ("\r\n" if crlf else "\n").join(lines).encode()
    if bom:
        text = b"\xef\xbb\xbf" + text
    per_line = load(text, bulk=False)
    assert load(text, bulk=True) == per_line
    assert load(text, bulk=None) == per_line  # the compiled core's fast path


@given(
    stamp=st.tuples(
        *(
            st.integers(lo, hi)
            for lo, hi in [(0, 9999), (0, 13), (0, 32), (0, 25), (0, 61), (0, 61)]
        )
    ),  # fmt: skip
    amount=st.from_regex(r"[0-9]{1,13}(\.[0-9]{0,4})?", fullmatch=True),
)
def test_fast_path_reads_timestamps_and_amounts_as_the_parser_does(
    stamp: tuple[int, ...], amount: str
) -> None:
    y, mo, d, h, mi, s = stamp
    when = f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}"
    text = (
        '{"D":"1", "T":"2"}\n'
        '{"event_type":"purchase", "timestamp":"2017-06-13 11:33:01", "id": "a", "amount": "1"}\n'
        f'{{"event_type":"purchase", "timestamp":"{when}", "id": "b", "amount": "{amount}"}}\n'
    ).encode()
    assert load(text, bulk=None) == load(text, bulk=False)


def test_fine_amounts_fall_back_to_the_per_line_path() -> None:
    text = b'{"D":"1", "T":"2"}\n' + ODD_LINES[16].encode() + b"\n"
    state, applied, rejects = load(text, bulk=True)
    assert (state.scale, applied, rejects) == (3, 1, [])


def test_unreadable_for_polars_falls_back() -> None:
    text = b'{"D":"1", "T":"2"}\n{"event_type":"purchase", "id": "\xff"}\n\x00\n'
    assert load(text, bulk=True) == load(text, bulk=False)


def test_a_line_over_the_limit_is_rejected_alike_by_every_loader() -> None:
    long = P + '"id": "' + "x" * (1 << 20) + '", "amount": "2"}'
    text = f'{{"D":"1", "T":"2"}}\n{ODD_LINES[4]}\n{long}\n{ODD_LINES[5]}\n'.encode()
    per_line = load(text, bulk=False)
    assert per_line[2][0][0] == 3 and "longer than" in per_line[2][0][1]
    assert load(text, bulk=None) == per_line


def test_a_blank_line_over_the_limit_is_rejected_alike_by_every_loader() -> None:
    blank = " " * ((1 << 20) + 5)
    text = f'{{"D":"1", "T":"2"}}\n{ODD_LINES[4]}\n{blank}\r\n{ODD_LINES[5]}\n'.encode()
    per_line = load(text, bulk=False)
    assert [line for line, _ in per_line[2]] == [3]
    assert load(text, bulk=None) == per_line
    assert load(text, bulk=True) == per_line
