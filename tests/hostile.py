"""Hypothesis strategies for hostile lines: what a fuzzer throws at the line parser."""

from __future__ import annotations

import re

from hypothesis import strategies as st

from netflag.io.limits import MAX_LINE_BYTES
from tests.logs import event_line

NUMBER_TRAPS = ["1" * 5_000, "-" + "9" * 400, "18446744073709551616", "-9223372036854775809",
                "1e999999999", "1E+400", "-0", "0." + "0" * 3_000 + "1", "1" * 300 + ".5",
                "123456789012345678901234567890", "1e-999"]  # fmt: skip
LONE_SURROGATES = ["\\ud800", "\\udfff", "\\ud83d", "\\ude00", "\\ud800\\ud800", "\\uDBFF"]
DUPLICATES = ['"event_type": "purchase"', '"event_type": "befriend"', '"id": "2"', '"id": 3',
              '"amount": "-5"', '"amount": 1.5', '"amount": null', '"id1": "1"', '"id2": "1"',
              '"timestamp": "2017-02-30 00:00:00"', '"timestamp": 5']  # fmt: skip
DEPTHS = [62, 63, 64, 65, 1_000, 1_025, 5_000]  # around MAX_DEPTH, orjson's 1024, the issue's


def nested(depth: int, opener: str = "{") -> bytes:
    """``depth`` levels of objects (``{``) or arrays (``[``) around a 1."""
    if opener == "{":
        return b'{"a":' * depth + b"1" + b"}" * depth
    return b"[" * depth + b"1" + b"]" * depth


BUY = '{"event_type":"purchase", "timestamp":"2017-06-13 11:33:05", "id": %s, "amount": "1"}'
# The issue's lines, each with (part of) the reason it is rejected for.
ISSUE_LINES = [
    (nested(5_000), "nested more than 64 levels"),
    (b'{"x": "' + b"x" * (2 * MAX_LINE_BYTES) + b'"}', "line is longer than 1,048,576 bytes"),
    ((BUY % ("1" * 5_000)).encode(), "id is longer than 256 characters"),
    ((BUY % '"\\ud800"').encode(), "lone surrogate"),
    (b'{"event_type":"purchase",\x00}', "not valid JSON"),
]


def with_field(line: bytes, field: bytes) -> bytes:
    """``line`` with ``, field`` added just before its closing brace."""
    return line[:-1] + b", " + field + b"}"


def _insert(draw: st.DrawFn, line: bytes, piece: bytes) -> bytes:
    at = draw(st.integers(0, len(line)))
    return line[:at] + piece + line[at:]


def _truncate(draw: st.DrawFn, line: bytes) -> bytes:
    return line[: draw(st.integers(1, max(1, len(line) - 1)))]


def _duplicate_key(draw: st.DrawFn, line: bytes) -> bytes:
    return with_field(line, draw(st.sampled_from(DUPLICATES)).encode())


def _deep_field(draw: st.DrawFn, line: bytes) -> bytes:
    depth, opener = draw(st.sampled_from(DEPTHS)), draw(st.sampled_from("{["))
    return with_field(line, b'"x": ' + nested(depth, opener))


def _deep_line(draw: st.DrawFn, line: bytes) -> bytes:
    return nested(draw(st.sampled_from(DEPTHS)), draw(st.sampled_from("{[")))


def _huge_number(draw: st.DrawFn, line: bytes) -> bytes:
    def number(match: re.Match[bytes]) -> bytes:
        return b'"%s": %s' % (match.group(1), draw(st.sampled_from(NUMBER_TRAPS)).encode())

    line = with_field(line, b'"x": 0')
    return re.sub(rb'"(amount|id|id1|x)": [^,}]+', number, line, count=draw(st.integers(0, 3)))


def _invalid_utf8(draw: st.DrawFn, line: bytes) -> bytes:
    return _insert(draw, line, bytes(b | 0x80 for b in draw(st.binary(min_size=1, max_size=3))))


def _nul_byte(draw: st.DrawFn, line: bytes) -> bytes:
    return _insert(draw, line, b"\x00")


def _lone_surrogate(draw: st.DrawFn, line: bytes) -> bytes:
    """An unpaired ``\\uD800``-style escape right after some quotes (inside strings or not)."""
    escape = draw(st.sampled_from(LONE_SURROGATES)).encode()
    return line.replace(b'"', b'"' + escape, draw(st.integers(1, 9)))


def _lone_surrogate_field(draw: st.DrawFn, line: bytes) -> bytes:
    escape = draw(st.sampled_from(LONE_SURROGATES)).encode()
    return with_field(line, b'"note": "a%sb"' % escape)


def _random_bytes(draw: st.DrawFn, line: bytes) -> bytes:
    return _insert(draw, line, draw(st.binary(min_size=1)))


def _byte_flip(draw: st.DrawFn, line: bytes) -> bytes:
    if not line:
        return bytes([draw(st.integers(0, 255))])
    at = draw(st.integers(0, len(line) - 1))
    return line[:at] + bytes([draw(st.integers(0, 255))]) + line[at + 1 :]


MUTATIONS = [_truncate, _duplicate_key, _deep_field, _deep_line, _huge_number,
             _invalid_utf8, _nul_byte, _lone_surrogate, _lone_surrogate_field, _random_bytes,
             _byte_flip]  # fmt: skip


@st.composite
def mutated_line(draw: st.DrawFn) -> bytes:
    """A valid event line broken in one or two of the ways of :data:`MUTATIONS`."""
    line = draw(event_line(5)).encode()
    for mutate in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=2)):
        line = mutate(draw, line)
    return line


def hostile_lines() -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, or a valid line mutated; may hold newlines, may even be valid."""
    return st.one_of(st.binary(min_size=1, max_size=300), mutated_line())
