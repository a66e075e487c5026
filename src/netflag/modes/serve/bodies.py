"""Request bodies to event lines: a JSON object, a JSON array of them, or NDJSON.

Each event keeps its exact text (``"amount": 12.50`` stays 12.50), because its
flag echoes that text as replay does. A JSON body is split into its elements
without re-encoding them; line breaks inside an element (pretty-printed JSON)
become spaces, so every event is one line of the service's log. Whether each
line is a valid event is the pipeline's call (a bad one is *rejected*, with
SPEC's reason); only a body that is not JSON at all is refused here.

>>> event_lines(b'[{"a": 1.50},\\n {"b":\\n 2}]', ndjson=False)
[b'{"a": 1.50}', b'{"b":  2}']
>>> event_lines(b'{"a": 1}\\r\\n\\n  \\n{"b": 2}\\n', ndjson=True)
[b'{"a": 1}', b'{"b": 2}']
"""

from __future__ import annotations

import json

_BREAKS = bytes.maketrans(b"\r\n", b"  ")
_BOM = b"\xef\xbb\xbf"
_DECODER = json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=str)


class BodyError(ValueError):
    """The body cannot be split into events; ``str(error)`` is the one-line reason."""


def event_lines(body: bytes, *, ndjson: bool) -> list[bytes]:
    """The body's events, one line each (no line endings), in order."""
    if body.startswith(_BOM):
        body = body[len(_BOM) :]
    if ndjson:
        lines = (line.rstrip(b"\r").strip(b" \t") for line in body.split(b"\n"))
        return [line for line in lines if line]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BodyError(f"body is not UTF-8 (byte {error.start + 1})") from None
    start = len(body) - len(body.lstrip(b" \t\r\n"))
    if body[start : start + 1] != b"[":
        _decode_one(text, start)
        return [_one_line(body.strip(b" \t\r\n"))]
    return _array_elements(body, text, start)


def _array_elements(body: bytes, text: str, start: int) -> list[bytes]:
    """The raw bytes of each element of the top-level array at ``start``."""
    # json works on str offsets; the body's bytes are cut at the same places once
    # ASCII-only text is checked (else offsets are mapped through the encoding).
    ascii_only = body.isascii()
    elements: list[bytes] = []
    pos = _skip(text, start + 1)
    if text.startswith("]", pos):
        _expect_end(text, pos + 1)
        return elements
    while True:
        end = _decode_one(text, pos, whole=False)
        raw = body[pos:end] if ascii_only else text[pos:end].encode("utf-8")
        elements.append(_one_line(raw))
        pos = _skip(text, end)
        if text.startswith(",", pos):
            pos = _skip(text, pos + 1)
            continue
        if text.startswith("]", pos):
            _expect_end(text, pos + 1)
            return elements
        raise BodyError(f"not valid JSON: expected ',' or ']' {_at(pos)}")


def _decode_one(text: str, pos: int, *, whole: bool = True) -> int:
    try:
        _, end = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as error:
        raise BodyError(f"not valid JSON: {error.msg} {_at(error.pos)}") from None
    except RecursionError:
        raise BodyError(f"not valid JSON: nested too deeply {_at(pos)}") from None
    if whole:
        _expect_end(text, end)
    return int(end)


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _expect_end(text: str, pos: int) -> None:
    pos = _skip(text, pos)
    if pos != len(text):
        raise BodyError(f"not valid JSON: extra data {_at(pos)}")


def _at(pos: int) -> str:
    """Where in the body, worded as an event's reason says where in its line."""
    return f"(character {pos + 1} of the body)"


def _one_line(raw: bytes) -> bytes:
    return raw.translate(_BREAKS) if b"\n" in raw or b"\r" in raw else raw
