"""Request bodies to event lines: exact text kept, one line an event, only non-JSON refused."""

from __future__ import annotations

import re

import pytest

from netflag.modes.serve.bodies import BodyError, event_lines


@pytest.mark.parametrize(
    ("body", "ndjson", "lines"),
    [
        (b'{"amount": 12.50}', False, [b'{"amount": 12.50}']),
        (b'  {"a":\r\n 1}\n', False, [b'{"a":   1}']),  # pretty-printed: breaks become spaces
        (b'[{"a": "\xc3\xa9"}, 7, "x"]', False, [b'{"a": "\xc3\xa9"}', b"7", b'"x"']),
        (b"[ ]", False, []),
        (b"\xef\xbb\xbf[1]", False, [b"1"]),
        (b'\xef\xbb\xbf{"a": 1}\r\n\n  \nnot json\n', True, [b'{"a": 1}', b"not json"]),
        (b"", True, []),
    ],
)
def test_events_keep_their_text(body: bytes, ndjson: bool, lines: list[bytes]) -> None:
    assert event_lines(body, ndjson=ndjson) == lines


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "Expecting value (character 1 of the body)"),
        (b"[1,]", "Expecting value (character 4 of the body)"),
        (b'{"a": 1} {"b": 2}', "extra data (character 10 of the body)"),
        (b"[1 2]", "expected ',' or ']' (character 4 of the body)"),
        (b"[" * 100_000, "nested too deeply"),
        (b"\xff", "body is not UTF-8"),
    ],
)
def test_a_body_that_is_not_json_is_refused_with_its_reason(body: bytes, reason: str) -> None:
    with pytest.raises(BodyError, match=re.escape(reason)):
        event_lines(body, ndjson=False)
