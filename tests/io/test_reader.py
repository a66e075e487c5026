"""numbered_lines: physical line numbers, BOM, CRLF, blank lines, and lines over the limit."""

from __future__ import annotations

import re
import tempfile
import tracemalloc
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from netflag.io.limits import MAX_LINE_BYTES, too_long
from netflag.io.reader import BOM, numbered_lines


def lines_of(folder: Path, data: bytes, **options: object) -> list[tuple[int, bytes]]:
    path = folder / "log.json"
    path.write_bytes(data)
    return list(numbered_lines(path, **options))  # type: ignore[arg-type]


def test_numbers_count_blank_lines_the_bom_goes_and_line_endings_stay(tmp_path: Path) -> None:
    data = BOM + b"a\r\n\n \t\r\nb\nc"
    assert lines_of(tmp_path, data) == [(1, b"a\r\n"), (4, b"b\n"), (5, b"c")]


def test_progress_hears_each_line_with_the_blank_lines_before_it(tmp_path: Path) -> None:
    heard: list[int] = []
    lines_of(tmp_path, BOM + b"a\n\n\nbc\n \n", on_bytes=heard.append)
    assert heard == [2, 5]


def test_a_line_over_the_limit_comes_out_cut_and_the_next_lines_keep_their_numbers(
    tmp_path: Path,
) -> None:
    long = b'{"x": "' + b"x" * (3 * MAX_LINE_BYTES) + b'"}\r\n'
    (one, a), (two, cut), (three, b) = lines_of(tmp_path, b"a\n" + long + b"\nb\n")
    assert (one, a, two, three, b) == (1, b"a\n", 2, 4, b"b\n")
    assert cut == long[: MAX_LINE_BYTES + 2] and too_long(cut)


def test_a_huge_line_is_never_held_whole(tmp_path: Path) -> None:
    path = tmp_path / "log.json"
    with path.open("wb") as handle:
        handle.write(b"a\n")
        for _ in range(16):
            handle.write(b"x" * MAX_LINE_BYTES)
        handle.write(b"\nb\n")
    tracemalloc.start()
    try:
        got = [(number, len(raw)) for number, raw in numbered_lines(path)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == [(1, 2), (2, MAX_LINE_BYTES + 2), (3, 2)]
    assert peak < 4 * MAX_LINE_BYTES  # the line is 16 MiB


def physical_lines(data: bytes) -> list[tuple[int, int, bytes]]:
    """``(number, end offset in data, line)`` of every line; a leading BOM is dropped."""
    skip = len(BOM) if data.startswith(BOM) else 0
    out, end = [], skip
    for number, line in enumerate(re.findall(rb"[^\n]*\n|[^\n]+$", data[skip:]), 1):
        end += len(line)
        out.append((number, end, line))
    return out


def expected_lines(data: bytes, limit: int) -> list[tuple[int, int, bytes]]:
    """The reader's contract, from the whole file: number, end offset and bytes of each line."""
    out = []
    for number, end, line in physical_lines(data):
        if too_long(line, limit):
            out.append((number, end, line[: limit + 2]))
        elif line.strip():
            out.append((number, end, line))
    return out


PIECES = [b"x", b"xyz", b" ", b"\r", b"\n", b"\r\n", b"\n\n", BOM, b"\t", b"{}"]


@given(
    data=st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join),
    limit=st.integers(1, 12),
    bom=st.booleans(),
)
def test_reading_in_chunks_matches_splitting_the_whole_file(
    data: bytes, limit: int, bom: bool
) -> None:
    data = BOM + data if bom else data
    heard: list[int] = []
    with tempfile.TemporaryDirectory() as folder:
        got = lines_of(Path(folder), data, on_bytes=heard.append, max_line_bytes=limit)
    expected = expected_lines(data, limit)
    assert got == [(number, raw) for number, _, raw in expected]
    skipped = len(BOM) if data.startswith(BOM) else 0
    assert sum(heard) == (expected[-1][1] - skipped if expected else 0)
