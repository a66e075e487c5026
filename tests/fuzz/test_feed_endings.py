"""feed_file over a mapped file that ends where a reader could run past it.

A file's last line has no newline to stop a scan: the fast path must stop at the end of
the map (which is padded with zeros to a page, so a read past the end would find bytes,
not a fault), and the line must mean what it means line by line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.targets import PARAMS, _load, check_feed

BUY = b'{"event_type":"purchase", "timestamp":"2017-06-13 11:33:01", "id": "1", "amount": "16.83"}'
CUT_UTF8 = '{"event_type":"purchase", "timestamp":"2017-06-13 11:33:01", "id": "é'.encode()[:-1]


@pytest.mark.parametrize(
    ("ending", "events", "reason"),
    [
        (BUY, 2, None),  # a whole canonical line, no newline
        (BUY + b"\r", 2, None),  # a lone carriage return
        (BUY[:-1], 1, "not valid JSON"),  # one byte short of canonical
        (BUY.replace(b'"16.83"', b'"16.'), 1, "not valid JSON"),  # inside the amount
        (CUT_UTF8, 1, "not valid UTF-8 (byte 69)"),  # half a two-byte UTF-8 sequence
        (b'{"event_type":"purchase", "id": "\\u00', 1, "Invalid \\uXXXX escape"),
        (b'{"event_type":"purchase", "id": "\\', 1, "Unterminated string"),
    ],
)
def test_the_last_line_without_a_newline_means_what_it_means_line_by_line(
    tmp_path: Path, ending: bytes, events: int, reason: str | None
) -> None:
    data = BUY + b"\n" + ending
    check_feed(data, tmp_path)  # the fast path, in chunks too, equals parse_event + apply
    path = tmp_path / "batch.json"
    path.write_bytes(PARAMS + data)
    _, applied, rejects, _ = _load(path, bulk=None, kernel="compiled", D=None, T=None)
    assert applied == events
    if reason is None:
        assert rejects == []
    else:
        assert [line for line, _ in rejects] == [3] and reason in str(rejects[0][1])


@pytest.mark.parametrize("size", [4095, 4096, 4097, 8192])
def test_a_canonical_line_that_ends_the_file_at_a_page_boundary_is_read_whole(
    tmp_path: Path, size: int
) -> None:
    # Blank lines pad the file so its last byte is the last of a page, or just past one.
    pad = size - len(PARAMS) - len(BUY)
    data = b"\n" * pad + BUY
    assert len(PARAMS + data) == size
    check_feed(data, tmp_path)
    path = tmp_path / "batch.json"
    path.write_bytes(PARAMS + data)
    _, applied, rejects, _ = _load(path, bulk=None, kernel="compiled", D=None, T=None)
    assert (applied, rejects) == (1, [])
