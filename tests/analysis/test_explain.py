"""Explain: pinned explanations on hand-made logs, agreement with replay, CLI errors."""

from __future__ import annotations

import json
import os
import tempfile
from fractions import Fraction
from pathlib import Path

from hypothesis import given, settings
from typer.testing import CliRunner

from netflag.analysis.explain import explain_end, explain_line
from netflag.analysis.logs import open_logs
from netflag.cli import app
from netflag.engine import Amount
from netflag.modes.replay import replay
from netflag.runtime.rejects import Rejects
from tests.logs import event_logs

OFFICIAL = Path(__file__).parents[2] / "insight_testsuite" / "tests" / "test_1" / "log_input"
runner = CliRunner()


def logs(batch: Path, stream: Path | None = None, **overrides: object):
    return open_logs(batch, stream, Rejects(), **overrides)


def test_official_example_explained() -> None:
    found = explain_line(logs(OFFICIAL / "batch_log.json", OFFICIAL / "stream_log.json"), 1)
    facts = found.to_json()
    assert facts["network"] == [
        {"distance": 1, "users": 1},
        {"distance": 2, "users": 0},
        {"distance": 3, "users": 0},
    ]
    assert [(p["user"], p["amount"]) for p in facts["baseline"]] == [
        ("1", "11.20"),
        ("1", "59.28"),
        ("1", "16.83"),
    ]
    # mean 29.1033..., sd 21.4601..., mean + 3 sd = 93.4838..., z = 1572.7266 / 21.4601 = 73.28...
    assert (facts["mean"], facts["sd"], facts["threshold"], facts["z_score"]) == (
        "29.10",
        "21.46",
        "93.48",
        "73.28",
    )
    assert facts["flagged"] is True


def test_small_log_line_1_pinned(small: tuple[Path, Path]) -> None:
    assert explain_line(logs(*small), 1).to_json() == {
        "user": "1",
        "amount": "100.00",
        "timestamp": "2017-06-13 10:01:00",
        "line": 1,
        "D": 2,
        "T": 3,
        "k": "3",
        "network": [{"distance": 1, "users": 1}, {"distance": 2, "users": 1}],
        "network_size": 2,
        "baseline": [  # newest first; 4's 1000 is at distance 3
            {"user": "3", "timestamp": "2017-06-13 10:00:03", "amount": "40.50"},
            {"user": "2", "timestamp": "2017-06-13 10:00:02", "amount": "30.00"},
            {"user": "3", "timestamp": "2017-06-13 10:00:01", "amount": "20.00"},
        ],
        "n": 3,
        "mean": "30.16",  # 30.1666...
        "sd": "8.36",  # sqrt(70.0555...) = 8.3699...
        "threshold": "55.27",  # 55.2765...
        "z_score": "8.34",  # 69.8333... / 8.3699... = 8.3433...
        "flagged": True,
        "reason": "flagged: amount > mean + 3 x sd",
    }


def test_late_purchase_and_new_friend_change_the_baseline(small: tuple[Path, Path]) -> None:
    found = explain_line(logs(*small), 5)
    # 1-4 joined at line 2; 4's late 5 (10:00:30) sorts between 10:00:03 and 10:01:00
    assert [(p.user, p.timestamp[11:], p.amount) for p in found.baseline] == [
        ("1", "10:01:00", "100.00"),
        ("4", "10:00:30", "5.00"),
        ("3", "10:00:03", "40.50"),
    ]
    assert found.network == (2, 1)
    assert (found.flagged, found.z.text() if found.z else None) == (True, "11.51")
    assert found.to_json()["amount"] == "500.00"


def test_not_flagged_and_too_few(small: tuple[Path, Path]) -> None:
    quiet = explain_line(logs(*small), 6)
    assert (quiet.flagged, quiet.reason()) == (False, "not flagged: amount <= mean + 3 x sd")
    # baseline 500, 100, 5: mean 201.66..., sd 214.49...; z = -0.7304...: truncated toward 0
    assert quiet.to_json()["z_score"] == "-0.73"
    stranger = explain_end(logs(*small), "9", Amount.from_text("3"))
    assert stranger.to_json()["network"] == [
        {"distance": 1, "users": 0},
        {"distance": 2, "users": 0},
    ]
    assert stranger.stats is None and stranger.z is None
    assert stranger.reason() == "not flagged: the network made 0 purchase(s), fewer than 2"


def test_explain_at_end_with_overrides_and_finer_amount(small: tuple[Path, Path]) -> None:
    found = explain_end(logs(*small, D=1, T=2, k="0.5"), "1", Amount.from_text("400.125"))
    assert found.params.k == Fraction(1, 2)
    assert [p.user for p in found.baseline] == ["2", "4"]  # friends 2 and 4 only (D=1)
    facts = found.to_json()
    assert (facts["amount"], facts["mean"], facts["sd"], facts["flagged"]) == (
        "400.125",
        "252.50",  # 2's 500 (10:01:00) and 4's 5 (10:00:30): the newest two
        "247.50",
        True,  # 400.125 > 252.50 + 0.5 x 247.50 = 376.25
    )
    assert facts["threshold"] == "376.25" and facts["z_score"] == "0.59"


@settings(max_examples=40)
@given(event_logs())
def test_explain_agrees_with_replay_on_every_stream_purchase(
    case: tuple[str, str, Fraction],
) -> None:
    batch_text, stream_text, k = case
    with tempfile.TemporaryDirectory() as folder:
        batch, stream = Path(folder, "b.json"), Path(folder, "s.json")
        batch.write_text(batch_text)
        stream.write_text(stream_text)
        flagged: list[bytes] = []
        replay(
            batch,
            stream,
            Path(folder, "o.json"),
            k=k,
            on_flag=lambda e, p, d, raw: flagged.append(raw),
        )
        explained = []
        for number, raw in enumerate(stream_text.splitlines(), 1):
            if '"purchase"' in raw:
                found = explain_line(logs(batch, stream, k=k), number)  # checks the engine agrees
                if found.flagged:
                    explained.append(raw.encode())
        assert [raw.rstrip() for raw in flagged] == explained


def invoke(*args: str | Path):
    return runner.invoke(app, ["explain", *(str(a) for a in args)])


def test_cli_json_and_table(small: tuple[Path, Path]) -> None:
    result = invoke(*small, "--line", "1", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == explain_line(logs(*small), 1).to_json()
    assert result.stderr == ""  # line 4 (bad) comes after line 1: never read
    table = invoke(*small, "--line", "5")
    assert table.exit_code == 0
    assert "flagged: amount > mean + 3 x sd" in table.stdout and "11.51" in table.stdout
    assert table.stderr == f"{small[1]}:4: not valid JSON: Expecting value (column 1)\n"
    end = invoke(small[0], "--user", "2", "--amount", "31", "--json")
    # after the batch: 3's 40.50, 4's 1000 (distance 2), 3's 20: mean 353.50
    assert json.loads(end.stdout)["mean"] == "353.50"


def test_cli_errors_are_one_line(small: tuple[Path, Path]) -> None:
    batch, stream = small
    cases = [
        (["--line", "2"], f"error: {stream}:2 is a befriend event; explain needs a purchase\n"),
        (["--line", "4"], f"error: {stream}:4: not valid JSON: Expecting value (column 1)\n"),
        (["--line", "99"], f"error: {stream}:99: no event on this line (blank or past the end)\n"),
    ]
    for options, message in cases:
        result = invoke(batch, stream, *options)
        assert (result.exit_code, result.stderr) == (2, message)
    assert invoke(batch, "--line", "1").stderr == "error: explain --line needs a stream log\n"
    for options in (
        ["--line", "1", "--user", "1"],
        ["--user", "1"],
        ["--user", "1", "--amount", "-4"],
    ):
        result = invoke(batch, stream, *options)
        assert result.exit_code == 2 and "Traceback" not in result.stderr
    missing = invoke(batch, Path(batch.parent, "nope.json"), "--line", "1")
    assert (
        missing.stderr
        == f"error: cannot read {batch.parent / 'nope.json'}: No such file or directory\n"
    )


def test_a_piped_batch_log_is_a_one_line_error(tmp_path: Path) -> None:
    """The analyses read the batch log twice: a pipe would silently lose its first line."""
    fifo = tmp_path / "batch.fifo"
    os.mkfifo(fifo)
    result = CliRunner().invoke(app, ["explain", str(fifo), "missing.json", "--line", "1"])
    assert result.exit_code == 2
    assert "is not a regular file" in result.stderr and "Traceback" not in result.stderr
