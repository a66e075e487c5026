"""The file sink: replay's bytes, trimmed back to the checkpoint on resume, refused if shorter."""

from __future__ import annotations

from pathlib import Path

import pytest

from netflag.errors import CheckpointError, InputError
from netflag.io.sinks import FileSink, ListSink, StdoutSink, open_sink


def test_a_fresh_run_starts_the_file_empty_and_flush_gives_the_position(tmp_path: Path) -> None:
    path = tmp_path / "out" / "flags.json"
    path.parent.mkdir()
    path.write_bytes(b"old run\n")
    sink = FileSink(str(path))
    sink.resume(None, "run")
    sink.write(1, b"a\n")
    sink.write(2, b"bb\n")
    sink.push()
    assert path.read_bytes() == b"a\nbb\n"
    assert sink.flush() == {"bytes": 5, "count": 2}
    sink.close()


def test_resume_trims_what_was_written_after_the_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    sink = FileSink(str(path))
    sink.resume(None, "run")
    sink.write(1, b"a\n")
    checkpoint = sink.flush()
    sink.write(2, b"b\n")
    sink.write(3, b"half a li")  # a crash in the middle of a write
    sink.push()
    sink.close()
    again = FileSink(str(path))
    again.resume(checkpoint, "run")
    assert path.read_bytes() == b"a\n"
    again.write(1, b"a\n")  # already held: skipped
    again.write(2, b"b\n")
    again.write(3, b"c\n")
    assert again.flush() == {"bytes": 6, "count": 3}
    again.close()
    assert path.read_bytes() == b"a\nb\nc\n"


def test_a_file_shorter_than_its_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_bytes(b"a\n")
    with pytest.raises(CheckpointError, match="changed outside netflag"):
        FileSink(str(path)).resume({"bytes": 10, "count": 3}, "run")


def test_an_unwritable_path_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="cannot write"):
        FileSink(str(tmp_path / "file" / "flags.json")).resume(None, "run")


def test_stdout_skips_what_the_checkpoint_covers(capsysbinary) -> None:
    sink = StdoutSink()
    sink.resume({"count": 1}, "run")
    sink.write(1, b"a\n")
    sink.write(2, b"b\n")
    assert sink.flush() == {"count": 2}
    assert capsysbinary.readouterr().out == b"b\n"


def test_list_sink_trims_to_the_checkpoint() -> None:
    sink = ListSink()
    sink.resume(None, "run")
    for n in (1, 2, 3):
        sink.write(n, b"%d" % n)
    sink.resume({"count": 1}, "run")
    sink.write(2, b"2")
    assert sink.lines == [b"1", b"2"]
    with pytest.raises(CheckpointError):
        sink.resume({"count": 5}, "run")


@pytest.mark.parametrize(
    ("url", "problem"), [("ftp://x", "unknown scheme 'ftp:'"), ("file:", "no path after file:")]
)
def test_bad_sink_urls(url: str, problem: str) -> None:
    with pytest.raises(InputError, match=f"^sink '{url}': {problem}; use -, file:PATH, "):
        open_sink(url)
