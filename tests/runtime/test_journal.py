"""The write-ahead journal: records come back whole, torn tails are cut, snapshots truncate."""

from __future__ import annotations

from pathlib import Path

import pytest

from netflag.engine import Engine, Params
from netflag.errors import CheckpointError, InputError
from netflag.runtime import journal as journal_module
from netflag.runtime.journal import LOG, Journal, read_lines

VERSION = "test"


def opened(path: Path) -> tuple[Journal, list[tuple[int, list[bytes], dict[str, object]]]]:
    journal = Journal(path, VERSION)
    recovery = journal.recover()
    return journal, [(r.first, r.lines, r.meta) for r in recovery.records]


def test_records_come_back_in_order_with_their_meta(tmp_path: Path) -> None:
    journal, records = opened(tmp_path)
    assert records == []
    assert journal.append([b"a", b"b"], {"key": "k1"}) == 1
    assert journal.append([b"c"]) == 3
    journal.sync()
    journal.close()
    journal, records = opened(tmp_path)
    assert records == [(1, [b"a", b"b"], {"key": "k1"}), (3, [b"c"], {})]
    assert journal.seq == 3
    journal.close()


def test_a_torn_tail_is_cut_and_appending_goes_on(tmp_path: Path) -> None:
    journal, _ = opened(tmp_path)
    journal.append([b"one"])
    journal.append([b"two", b"three"])
    journal.sync()
    journal.close()
    segment = next((tmp_path / LOG).iterdir())
    whole = segment.read_bytes()
    segment.write_bytes(whole[:-4])  # the second record loses its end
    journal = Journal(tmp_path, VERSION)
    recovery = journal.recover()
    assert [r.lines for r in recovery.records] == [[b"one"]]
    assert recovery.dropped > 0
    assert journal.append([b"again"]) == 2
    journal.sync()
    journal.close()
    journal, records = opened(tmp_path)
    assert [(first, lines) for first, lines, _ in records] == [(1, [b"one"]), (2, [b"again"])]
    journal.close()


def test_a_corrupt_record_before_the_last_segment_is_an_error(tmp_path: Path) -> None:
    journal, _ = opened(tmp_path)
    journal.append([b"one"])
    journal.roll()
    journal.append([b"two"])
    journal.sync()
    journal.close()
    first = sorted((tmp_path / LOG).iterdir())[0]
    first.write_bytes(first.read_bytes().replace(b"one", b"ONE"))
    with pytest.raises(CheckpointError, match="corrupt record"):
        Journal(tmp_path, VERSION).recover()


def test_a_snapshot_drops_the_log_it_covers(tmp_path: Path) -> None:
    engine = Engine(Params.of(1, 2))
    journal, _ = opened(tmp_path)
    journal.append([b"one", b"two"])
    seq = journal.roll()
    journal.save_snapshot(engine.state(), seq, {"note": "x"})
    journal.append([b"three"])
    journal.sync()
    assert [p.name for p in (tmp_path / LOG).iterdir()] == [f"{3:020d}.wal"]
    assert list(read_lines(tmp_path, VERSION)) == [(3, b"three")]
    journal.close()
    journal = Journal(tmp_path, VERSION)
    recovery = journal.recover()
    assert recovery.seq == 2
    assert recovery.snapshot is not None and recovery.snapshot.extra["note"] == "x"
    assert [(r.first, r.lines) for r in recovery.records] == [(3, [b"three"])]
    journal.close()


def test_one_process_at_a_time(tmp_path: Path) -> None:
    journal, _ = opened(tmp_path)
    with pytest.raises(InputError, match="in use by another netflag process"):
        Journal(tmp_path, VERSION).recover()
    journal.close()


def test_keep_holds_the_whole_log_and_recovery_skips_what_the_snapshot_covers(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path, VERSION, keep=True)
    journal.recover()
    journal.append([b"one", b"two"])
    journal.save_snapshot(Engine(Params.of(1, 2)).state(), journal.roll(), {})
    journal.append([b"three"])
    journal.sync()
    journal.close()
    assert [line for _, line in read_lines(tmp_path, VERSION)] == [b"one", b"two", b"three"]
    journal, records = opened(tmp_path)
    assert [(first, lines) for first, lines, _ in records] == [(3, [b"three"])]
    journal.close()


def logged_with_a_mark(path: Path) -> None:
    """Events 1-2, a mark after them (live mode's checkpoint), event 3 past the mark."""
    journal, _ = opened(path)
    journal.append([b"one", b"two"])
    journal.append([], {"mark": 1})
    journal.append([b"three"])
    journal.sync()
    journal.close()


def test_marks_without_lines_come_back_and_truncate_cuts_after_one(tmp_path: Path) -> None:
    logged_with_a_mark(tmp_path)
    journal, records = opened(tmp_path)
    assert records == [(1, [b"one", b"two"], {}), (3, [], {"mark": 1}), (3, [b"three"], {})]
    journal.truncate(2)
    assert journal.append([b"again"]) == 3
    journal.sync()
    journal.close()
    journal, records = opened(tmp_path)
    assert records == [(1, [b"one", b"two"], {}), (3, [], {"mark": 1}), (3, [b"again"], {})]
    journal.close()


class Crash(Exception):
    """A kill -9 at this point of a call."""


@pytest.mark.parametrize("at", ["unlink", "fsync"])
def test_a_crash_anywhere_in_truncate_leaves_no_gap_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: str
) -> None:
    """Live mode cuts back to its last mark on every start, after recovery opened a new
    segment past the old end: killed between the cut and that segment's removal, the
    next start found "the log jumps from event 2 to 4"."""
    logged_with_a_mark(tmp_path)
    journal, _ = opened(tmp_path)  # the new, empty segment 4
    assert (tmp_path / LOG / f"{4:020d}.wal").exists()

    def crash(*_: object) -> None:
        raise Crash

    target = (Path, "unlink") if at == "unlink" else (journal_module.os, "fsync")
    monkeypatch.setattr(*target, crash)
    with pytest.raises(Crash):
        journal.truncate(2)
    monkeypatch.undo()
    journal.close()
    journal, records = opened(tmp_path)  # whichever step the kill hit: whole, no gap
    assert records[:2] == [(1, [b"one", b"two"], {}), (3, [], {"mark": 1})]
    journal.truncate(2)
    journal.close()
    journal, records = opened(tmp_path)
    assert records == [(1, [b"one", b"two"], {}), (3, [], {"mark": 1})]
    journal.close()


def test_an_empty_last_segment_past_a_cut_is_dropped(tmp_path: Path) -> None:
    """What the interrupted cut above left in a directory: the start goes on."""
    journal, _ = opened(tmp_path)
    journal.append([b"one", b"two"])
    journal.sync()
    journal.close()
    (tmp_path / LOG / f"{9:020d}.wal").touch()
    journal, records = opened(tmp_path)
    assert records == [(1, [b"one", b"two"], {})] and journal.seq == 2
    assert not (tmp_path / LOG / f"{9:020d}.wal").exists()
    journal.close()


def test_lines_holding_line_breaks_come_back_whole(tmp_path: Path) -> None:
    journal, _ = opened(tmp_path)
    journal.append([b'{"a":\n1}', b"", b"x\r\ny"])
    journal.sync()
    journal.close()
    journal, records = opened(tmp_path)
    assert records == [(1, [b'{"a":\n1}', b"", b"x\r\ny"], {})]
    journal.close()


def test_a_bad_record_with_whole_ones_after_it_is_corruption_not_a_torn_tail(
    tmp_path: Path,
) -> None:
    journal, _ = opened(tmp_path)
    journal.append([b"one"])
    journal.append([b"two"])
    journal.sync()
    journal.close()
    segment = next((tmp_path / LOG).iterdir())
    segment.write_bytes(segment.read_bytes().replace(b"one", b"ONE"))
    with pytest.raises(CheckpointError, match="corrupt record at byte 0"):
        Journal(tmp_path, VERSION).recover()


def test_segments_wholly_behind_the_snapshot_are_not_read(tmp_path: Path) -> None:
    journal = Journal(tmp_path, VERSION, keep=True)
    journal.recover()
    journal.append([b"one"])
    journal.save_snapshot(Engine(Params.of(1, 2)).state(), journal.roll(), {})
    journal.append([b"two"])
    journal.sync()
    journal.close()
    first = sorted((tmp_path / LOG).iterdir())[0]
    first.write_bytes(b"damaged beyond repair")  # archived, covered by the snapshot
    journal, records = opened(tmp_path)
    assert [(r[0], r[1]) for r in records] == [(2, [b"two"])]
    journal.close()
