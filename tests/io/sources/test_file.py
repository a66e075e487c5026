"""Following a file like tail -F: growth, half-written lines, rotation, truncation; stdin."""

from __future__ import annotations

import itertools
import os
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netflag.errors import InputError
from netflag.io.limits import MAX_LINE_BYTES
from netflag.io.reader import BOM
from netflag.io.sources import FileSource, Lag, ListSource, StdinSource, open_source
from netflag.io.sources.file import _Lines
from tests.io.test_reader import PIECES, expected_lines


@pytest.fixture
def follow():
    """``follow(path, position=None)``: a resumed FileSource, closed after the test."""
    opened: list[FileSource] = []

    def make(path: Path, position: dict | None = None) -> FileSource:
        source = FileSource(str(path))
        opened.append(source)
        source.resume(position)
        return source

    yield make
    for source in opened:
        source.close()


def drain(source, polls: int = 3, limit: int = 100) -> list[tuple[dict, bytes]]:
    out: list[tuple[dict, bytes]] = []
    for _ in range(polls):
        out += source.poll(0.01, limit)
    return out


def test_lines_blank_lines_bom_and_positions(tmp_path: Path, follow) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"\xef\xbb\xbfa\r\n\n  \nb\n")
    source = follow(path)
    got = drain(source)
    inode = path.stat().st_ino
    assert got == [
        ({"inode": inode, "offset": 6, "line": 1}, b"a\r\n"),
        ({"inode": inode, "offset": 12, "line": 4}, b"b\n"),
    ]
    assert source.describe(got[1][0]) == f"{path}:4"
    assert source.lag() == Lag(0, "bytes")


def test_a_half_written_line_waits_for_its_newline(tmp_path: Path, follow) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"one\ntw")
    source = follow(path)
    assert [raw for _, raw in drain(source)] == [b"one\n"]
    with path.open("ab") as handle:
        handle.write(b"o\nthree\n")
    assert [raw for _, raw in drain(source)] == [b"two\n", b"three\n"]


def test_limit_and_resume_at_a_position_read_each_line_once(tmp_path: Path, follow) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"".join(b"line %d\n" % i for i in range(10)))
    source = follow(path)
    first = source.poll(0.01, 4)
    assert len(first) == 4
    source.close()
    again = follow(path, first[-1][0])
    rest = drain(again)
    assert [raw for _, raw in first + rest] == [b"line %d\n" % i for i in range(10)]
    assert rest[0][0]["line"] == 5


def test_rotation_reads_the_old_file_to_its_end_then_the_new_one(tmp_path: Path, follow) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"a\nb\n")
    source = follow(path)
    assert len(drain(source)) == 2
    with path.open("ab") as handle:
        handle.write(b"c\nlast-without-newline")
    path.rename(tmp_path / "s.json.1")
    assert [raw for _, raw in drain(source)] == [b"c\n"]  # the last line may still grow
    path.write_bytes(b"d\n")
    got = drain(source)
    assert [raw for _, raw in got] == [b"last-without-newline", b"d\n"]
    assert got[1][0] == {"inode": path.stat().st_ino, "offset": 2, "line": 1}


def test_truncation_starts_over(tmp_path: Path, follow) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"aaaa\nbbbb\n")
    source = follow(path)
    assert len(drain(source)) == 2
    path.write_bytes(b"c\n")  # same inode, shorter: copytruncate-style rotation
    assert [raw for _, raw in drain(source)] == [b"c\n"]


def test_resume_after_a_rotation_while_stopped_reads_the_new_file(tmp_path: Path, follow) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"a\nb\n")
    source = follow(path)
    position = drain(source)[-1][0]
    source.close()
    path.rename(tmp_path / "old")
    path.write_bytes(b"new\n")
    again = follow(path, position)
    assert [raw for _, raw in drain(again)] == [b"new\n"]


def test_a_missing_file_is_waited_for(tmp_path: Path, follow) -> None:
    path = tmp_path / "later.json"
    source = follow(path)
    assert source.poll(0.01, 10) == []
    path.write_bytes(b"x\n")
    assert [raw for _, raw in drain(source)] == [b"x\n"]


def test_a_directory_is_a_one_line_error(tmp_path: Path, follow) -> None:
    with pytest.raises(InputError, match="cannot read"):
        follow(tmp_path)


def test_reject_records_match_replays_rejects_file(tmp_path: Path, follow) -> None:
    source = FileSource("s.json")
    record = source.reject_record({"inode": 1, "offset": 9, "line": 3}, "bad", b"x\r\n")
    assert record == b'{"file":"s.json","line":3,"reason":"bad","raw":"x"}\n'


def test_stdin_to_its_end_and_resume_skips_what_was_covered(monkeypatch) -> None:
    pipes = []

    def feed(data: bytes) -> StdinSource:
        read, write = os.pipe()
        os.write(write, data)
        os.close(write)
        pipes.append(os.fdopen(read))
        monkeypatch.setattr(sys, "stdin", pipes[-1])
        return StdinSource()

    source = feed(b"a\n\nb\nc")
    source.resume(None)
    got = drain(source)
    assert got == [({"offset": 2, "line": 1}, b"a\n"), ({"offset": 5, "line": 3}, b"b\n"),
                   ({"offset": 6, "line": 4}, b"c")]  # fmt: skip
    assert source.finished
    again = feed(b"a\n\nb\nc")
    again.resume(got[0][0])
    assert [raw for _, raw in drain(again)] == [b"b\n", b"c"]
    for pipe in pipes:
        pipe.close()


def test_list_source() -> None:
    source = ListSource([b"a", b"b", b"c"])
    source.resume({"index": 1})
    assert source.poll(0, 10) == [({"index": 2}, b"b"), ({"index": 3}, b"c")]
    assert source.finished


@pytest.mark.parametrize(
    ("url", "kind"),
    [("-", StdinSource), ("file:x.json", FileSource), ("x.json", FileSource)],
)
def test_open_source(url: str, kind: type) -> None:
    assert isinstance(open_source(url), kind)


@pytest.mark.parametrize("url", ["ftp://host/topic", "file:", "redis://host:port/s"])
def test_bad_source_urls_are_one_line_errors(url: str) -> None:
    with pytest.raises(InputError) as error:
        open_source(url)
    assert "\n" not in str(error.value)


# --- lines over the limit (issue 12) -------------------------------------------------------


def test_a_line_over_the_limit_is_handed_on_cut_with_its_true_end(tmp_path: Path, follow) -> None:
    path = tmp_path / "s.json"
    long = b'{"x": "' + b"x" * (3 * MAX_LINE_BYTES) + b'"}\n'
    path.write_bytes(b"a\n" + long + b"b\n")
    got = drain(follow(path), polls=200)
    inode = path.stat().st_ino
    assert got == [
        ({"inode": inode, "offset": 2, "line": 1}, b"a\n"),
        ({"inode": inode, "offset": 2 + len(long), "line": 2}, long[: MAX_LINE_BYTES + 2]),
        ({"inode": inode, "offset": 4 + len(long), "line": 3}, b"b\n"),
    ]


def test_a_huge_line_is_never_held_whole(tmp_path: Path, follow) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"a\n" + b"x" * (16 * MAX_LINE_BYTES) + b"\nb\n")
    source = follow(path)
    tracemalloc.start()
    try:
        got = [(position["line"], len(raw)) for position, raw in drain(source, polls=300)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == [(1, 2), (2, MAX_LINE_BYTES + 2), (3, 2)]
    assert peak < 4 * MAX_LINE_BYTES  # the line is 16 MiB


@given(
    data=st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join),
    cuts=st.lists(st.integers(0, 60), max_size=8),
    limit=st.integers(1, 12),
    bom=st.booleans(),
)
def test_any_chunking_gives_the_readers_lines_with_their_end_offsets(
    data: bytes, cuts: list[int], limit: int, bom: bool
) -> None:
    """What a followed file yields, however its bytes arrive, is what replay's reader yields."""
    data = BOM + data if bom else data
    lines = _Lines(max_line_bytes=limit)
    got: list[tuple[int, int, bytes]] = []
    for start, end in itertools.pairwise([0, *sorted(cuts), len(data)]):
        lines.buffer += data[start:end]
        got += lines.take(1_000)
        assert len(lines.buffer) <= limit + 2 + len(BOM)  # never more than a line's head
    got += lines.take(1_000, final=True)
    assert got == expected_lines(data, limit)


def test_a_long_line_is_read_in_one_poll_not_one_chunk_per_poll(tmp_path: Path, follow) -> None:
    """Idling between the chunks of a line would let one hostile line stall the whole run."""
    path = tmp_path / "s.json"
    path.write_bytes(b"x" * (3 * MAX_LINE_BYTES) + b"\nb\n")
    got = follow(path).poll(0.0, 100)
    assert [(position["line"], len(raw)) for position, raw in got] == [
        (1, MAX_LINE_BYTES + 2),
        (2, 2),
    ]


def test_positions_in_words(tmp_path: Path) -> None:
    """For the log's ``checkpoint at ...`` (issue 18: it printed the position's dict)."""
    path = tmp_path / "s.json"
    path.write_bytes(b"a\n" * 1_000)
    source = FileSource(str(path))
    source.resume(None)
    *_, (position, _) = source.poll(1.0, 1_000)
    assert source.position_text(position) == "line 1,000 (byte 2,000)"
    assert source.position_text(None) == "the start of the source"
    source.close()
    assert StdinSource().position_text({"offset": 92_158, "line": 1_000}) == (
        "line 1,000 (byte 92,158)"
    )
    listed = ListSource([b"a", b"b"])
    assert listed.position_text({"index": 2}) == "line 2"
    assert listed.position_text(None) == "the start of the source"
