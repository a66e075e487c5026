"""Replay end to end on files: parameters, bad lines, strict mode, output file."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netflag.errors import InputError, ParamsError, RejectedLine
from netflag.io.events import LineError, parse_event
from netflag.io.limits import MAX_LINE_BYTES
from netflag.io.reader import BOM
from netflag.modes.replay import replay
from netflag.runtime.rejects import Rejection
from tests import paths
from tests.hostile import ISSUE_LINES, hostile_lines
from tests.logs import event_logs

OFFICIAL = paths.OFFICIAL
BUY = (
    '{{"event_type":"purchase", "timestamp":"2017-06-13 11:33:0{s}", "id": "{u}", "amount": "{a}"}}'
)
FRIEND = (
    '{{"event_type":"befriend", "timestamp":"2017-06-13 11:33:00", "id1": "{a}", "id2": "{b}"}}'
)
BASE = [FRIEND.format(a=1, b=2), *(BUY.format(s=1, u=2, a=a) for a in ["10", "10", "30", "30"])]
SPIKE = BUY.format(s=2, u=1, a="50.01")
EXPECTED_SPIKE = SPIKE[:-1] + ', "mean": "20.00", "sd": "10.00"}\n'


def write(folder: Path, name: str, lines: list[str] | bytes) -> Path:
    path = folder / name
    path.write_bytes(lines if isinstance(lines, bytes) else "\n".join(lines).encode() + b"\n")
    return path


def run(tmp_path: Path, batch: list[str] | bytes, stream: list[str] | bytes, **options: object):
    out = tmp_path / "out" / "flagged.json"
    rejections: list[Rejection] = []
    summary = replay(
        write(tmp_path, "batch.json", batch),
        write(tmp_path, "stream.json", stream),
        out,
        on_reject=rejections.append,
        **options,  # type: ignore[arg-type]
    )
    return summary, out.read_text() if out.exists() else None, rejections


def test_official_example(tmp_path: Path) -> None:
    out = tmp_path / "flagged.json"
    summary = replay(
        OFFICIAL / "log_input/batch_log.json", OFFICIAL / "log_input/stream_log.json", out
    )
    expected = (OFFICIAL / "log_output/flagged_purchases.json").read_text()
    assert out.read_text() == expected.rstrip("\n") + "\n"
    assert (summary.events, summary.checked, summary.flagged, summary.rejected) == (7, 1, 1, 0)


def test_output_exists_and_is_empty_when_nothing_is_flagged(tmp_path: Path) -> None:
    summary, output, _ = run(tmp_path, ['{"D":"1", "T":"2"}', *BASE], [BUY.format(s=2, u=1, a="1")])
    assert output == "" and summary.checked == 1 and summary.flagged == 0


def test_flag(tmp_path: Path) -> None:
    _, output, _ = run(tmp_path, ['{"D":"1", "T":"4"}', *BASE], [SPIKE])
    assert output == EXPECTED_SPIKE


def test_overrides_beat_the_params_line(tmp_path: Path) -> None:
    # T=2 keeps only the two 30s: mean 30, sd 0, so 50.01 is still flagged but differently.
    _, output, _ = run(tmp_path, ['{"D":"1", "T":"4"}', *BASE], [SPIKE], T=2)
    assert output == SPIKE[:-1] + ', "mean": "30.00", "sd": "0.00"}\n'
    _, output, _ = run(tmp_path, ['{"D":"1", "T":"4"}', *BASE], [SPIKE], k="4")
    assert output == ""


def test_params_as_json_integers_and_bom_crlf_blank_lines(tmp_path: Path) -> None:
    batch = b"\xef\xbb\xbf" + "\r\n\r\n".join(['{"D": 1, "T": 4}', *BASE]).encode() + b"\r\n \r\n"
    stream = b"\n\t\n" + SPIKE.encode() + b"  \r\n"
    _, output, rejections = run(tmp_path, batch, stream)
    assert output == EXPECTED_SPIKE and rejections == []


def test_bad_lines_are_reported_counted_copied_and_skipped(tmp_path: Path) -> None:
    stream = ["not json", BUY.format(s=2, u=1, a="-5"), "", SPIKE, '{"event_type":"Purchase"}']
    rejects = tmp_path / "rejects.jsonl"
    summary, output, rejections = run(
        tmp_path, ['{"D":"1", "T":"4"}', *BASE], stream, rejects=rejects
    )
    assert output == EXPECTED_SPIKE
    assert [(r.line, r.source.endswith("stream.json")) for r in rejections] == [
        (1, True), (2, True), (5, True),
    ]  # fmt: skip
    assert str(rejections[1]).endswith(
        "stream.json:2: amount must be a non-negative decimal, got '-5'"
    )
    records = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["line"] for r in records] == [1, 2, 5] and records[0]["raw"] == "not json"
    assert summary.rejected == 3 and summary.events == 6


def test_bad_batch_line_is_rejected_with_its_line_number(tmp_path: Path) -> None:
    batch = ['{"D":"1", "T":"4"}', "", '{"event_type":"befriend"}', *BASE]
    _, output, rejections = run(tmp_path, batch, [SPIKE])
    assert output == EXPECTED_SPIKE
    assert [(r.line, r.reason) for r in rejections] == [(3, "missing field 'timestamp'")]


def test_strict_stops_at_the_first_bad_line_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(RejectedLine, match=r"stream.json:2: not valid JSON"):
        run(tmp_path, ['{"D":"1", "T":"4"}', *BASE], [SPIKE, "{oops"], strict=True)
    assert not (tmp_path / "out" / "flagged.json").exists()
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    ("first", "message"),
    [
        ('{"T":"4"}', r"batch.json:1: missing parameter D"),
        ('{"D":"0", "T":"4"}', r"batch.json:1: D must be an integer >= 1"),
        ('{"D":"1", "T":"1"}', r"batch.json:1: T must be an integer >= 2"),
        ('{"D":"x", "T":"4"}', r"batch.json:1: D must be"),
        ('{"D":1.5, "T":"4"}', r"batch.json:1: D must be"),
        (BASE[0], r"batch.json:1: no parameters line"),
        ("[1]", r"batch.json:1: no parameters line"),
    ],
)
def test_params_errors(tmp_path: Path, first: str, message: str) -> None:
    with pytest.raises(ParamsError, match=message):
        run(tmp_path, [first, *BASE], [SPIKE])


def test_empty_batch_needs_overrides(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="empty file"):
        run(tmp_path, b"", [SPIKE])
    summary, output, _ = run(tmp_path, b"\n\n", [SPIKE], D=1, T=2)
    assert output == "" and summary.checked == 1


def test_missing_params_line_is_fine_when_both_are_given(tmp_path: Path) -> None:
    _, output, _ = run(tmp_path, BASE, [SPIKE], D=1, T=4)
    assert output == EXPECTED_SPIKE


def test_unknown_params_keys_warn(tmp_path: Path) -> None:
    summary, output, _ = run(tmp_path, ['{"D":"1", "T":"4", "x": 1}', *BASE], [SPIKE])
    assert output == EXPECTED_SPIKE
    assert [w.rsplit("/", 1)[-1] for w in summary.warnings] == [
        "batch.json:1: ignored unknown parameter 'x'"
    ]


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read .*missing.json: No such file"):
        replay(tmp_path / "missing.json", tmp_path / "s.json", tmp_path / "o.json")
    write(tmp_path, "b.json", ['{"D":"1", "T":"2"}'])
    with pytest.raises(InputError, match=r"cannot read .*: Is a directory"):
        replay(tmp_path / "b.json", tmp_path, tmp_path / "o.json")
    assert not (tmp_path / "o.json").exists()


def test_summary_line(tmp_path: Path) -> None:
    summary, _, _ = run(tmp_path, ['{"D":"1", "T":"4"}', *BASE], [SPIKE, "x"], k="2.5")
    text = str(summary)
    assert text.startswith("6 events read, 1 purchase checked, 1 flagged, 1 rejected in ")
    assert text.endswith("s (D=1 T=4 k=2.5)")


def test_params_line_may_hold_k_and_the_option_wins(tmp_path: Path) -> None:
    # k=2: 50.01 > 20 + 2*10 either way; 40.5 only flags with k=2
    stream = [BUY.format(s=2, u=1, a="40.5")]
    summary, output, _ = run(tmp_path, ['{"D":"1", "T":"4", "k":"2"}', *BASE], stream)
    assert summary.params.k == 2 and output.endswith('"mean": "20.00", "sd": "10.00"}\n')
    summary, output, _ = run(tmp_path, ['{"D":"1", "T":"4", "k":"2"}', *BASE], stream, k="3")
    assert summary.params.k == 3 and output == ""
    with pytest.raises(ParamsError, match=r"batch.json:1: k must be"):
        run(tmp_path, ['{"D":"1", "T":"4", "k":"-1"}', *BASE], stream)


# --- hostile lines (issue 12) -------------------------------------------------------------


def test_hostile_lines_are_rejected_and_every_other_line_is_processed(tmp_path: Path) -> None:
    stream = b"\n".join([raw for raw, _ in ISSUE_LINES] + [SPIKE.encode()]) + b"\n"
    rejects = tmp_path / "rejects.jsonl"
    summary, output, rejections = run(
        tmp_path, ['{"D":"1", "T":"4"}', *BASE], stream, rejects=rejects
    )
    assert output == EXPECTED_SPIKE
    assert [r.line for r in rejections] == [1, 2, 3, 4, 5]
    for rejection, (_, reason) in zip(rejections, ISSUE_LINES, strict=True):
        assert reason in rejection.reason
    assert (summary.events, summary.rejected) == (6, 5)
    assert rejects.stat().st_size < 2 * MAX_LINE_BYTES  # the 2 MiB line is copied cut


def rejected(raw: bytes) -> bool:
    """Whether the reader's line ``raw`` (with its ending) is one the parser rejects."""
    try:
        parse_event(raw)
    except LineError:
        return True
    return False


# One physical, non-blank line that the parser rejects (a BOM would vanish on line 1).
HOSTILE_LINE = (
    hostile_lines()
    .map(lambda raw: raw.replace(b"\n", b" ") + b"\n")
    .filter(lambda raw: bool(raw.strip()) and not raw.startswith(BOM) and rejected(raw))
)


def mix(data: st.DataObject, lines: list[bytes], hostile: list[bytes], start: int) -> list[int]:
    """Insert the hostile lines among ``lines`` (not before ``start``); returns their numbers."""
    marked = [(line, False) for line in lines]
    for raw in hostile:
        marked.insert(data.draw(st.integers(start, len(marked))), (raw, True))
    lines[:] = [line for line, _ in marked]
    return [number for number, (_, bad) in enumerate(marked, 1) if bad]


@settings(max_examples=30)
@given(
    log=event_logs(),
    hostile=st.lists(HOSTILE_LINE, min_size=1, max_size=6),
    data=st.data(),
)
def test_hostile_lines_anywhere_cost_no_valid_line(log, hostile: list[bytes], data) -> None:
    batch_text, stream_text, k = log
    batch, stream = batch_text.encode().splitlines(True), stream_text.encode().splitlines(True)
    split = data.draw(st.integers(0, len(hostile)))
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "batch").write_bytes(b"".join(batch))
        (base / "stream").write_bytes(b"".join(stream))
        clean = replay(base / "batch", base / "stream", base / "clean.json", k=k)
        in_batch = mix(data, batch, hostile[:split], start=1)  # after the parameters line
        in_stream = mix(data, stream, hostile[split:], start=0)
        (base / "batch").write_bytes(b"".join(batch))
        (base / "stream").write_bytes(b"".join(stream))
        rejections: list[Rejection] = []
        summary = replay(
            base / "batch", base / "stream", base / "out.json", k=k, on_reject=rejections.append
        )
        assert (base / "out.json").read_bytes() == (base / "clean.json").read_bytes()
    assert [(Path(r.source).name, r.line) for r in rejections] == [
        *(("batch", n) for n in in_batch),
        *(("stream", n) for n in in_stream),
    ]
    assert (summary.events, summary.checked, summary.flagged) == (
        clean.events,
        clean.checked,
        clean.flagged,
    )
    assert summary.rejected == len(hostile)
