"""The rows of the progress display, drawn (rich bars) or written (plain lines off a terminal)."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from netflag.cli import plain
from netflag.cli.bars import TIME_WIDTH, Bars
from netflag.cli.plain import Lines, time_text


def test_the_time_column_stays_put_while_the_counts_grow() -> None:
    """Issue 18: a finished row's "in 0.76 s" moved on each redraw as the next row counted."""
    bars = Bars()  # never started: the rows are rendered here, not on stderr
    bars.phase("load batch", 46_800_000, "bytes")
    bars.advance(46_800_000)
    bars.phase("check stream", 100_000, "events")
    places = set()
    for done in (0, 7, 4_321, 54_112, 100_000):
        bars.update(done, checked=done, flagged=done // 100)
        bars._push()  # as the next redraw would, without waiting for it
        console = Console(width=120, file=io.StringIO(), color_system=None)
        console.print(bars._bars.make_tasks_table(bars._bars.tasks))
        loaded, checking = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
        assert f"{done:,}/100,000 events" in checking
        places.add(loaded.index(" in "))
    assert len(places) == 1


@pytest.mark.parametrize(
    ("seconds", "finished", "done", "total"),
    [(0.76, True, 0, None), (59.99, True, 0, None), (3_723.0, True, 0, None),
     (1.0, False, 0, 10), (3_600.0, False, 1, 10), (75.0, False, 0, None)],
)  # fmt: skip
def test_time_texts_fit_the_fixed_width(
    seconds: float, finished: bool, done: int, total: int | None
) -> None:
    assert len(time_text(seconds, finished=finished, done=done, total=total)) <= TIME_WIDTH


def test_plain_lines_tell_a_phase_when_it_ends_and_every_few_seconds(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plain, "EVERY_SECONDS", 0.0)  # every report is "a few seconds" later
    with Lines() as lines:
        lines.phase("load batch", 2_000_000, "bytes")
        lines.advance(1_000_000)
        lines.phase("write checkpoint")
        lines.finish()
    said = capsys.readouterr().err.splitlines()
    rate = r"[0-9.]+ (bytes|[kMGTP]B)/s"
    assert len(said) == 3, said
    eta = r"eta [0-9]+:[0-9][0-9]"
    assert re.fullmatch(rf"netflag: load batch 50% 1\.0/2\.0 MB {rate} {eta}", said[0])
    assert re.fullmatch(rf"netflag: load batch 100% 2\.0/2\.0 MB {rate} in [0-9.]+ s", said[1])
    assert re.fullmatch(r"netflag: write checkpoint in [0-9.]+ s", said[2])


def test_plain_lines_never_claim_an_unfinished_phase_ended(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(KeyError), Lines() as lines:
        lines.phase("load batch", detail="column-wise, the whole file at once")
        lines.phase("build state", detail="from the columns")
        raise KeyError("a failure in the middle of the phase")
    (said,) = capsys.readouterr().err.splitlines()  # the load's line, none for the build
    assert re.fullmatch(r"netflag: load batch column-wise, the whole file at once in \S+ s", said)
