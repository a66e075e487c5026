"""``netflag live --log-format json``: every stderr line is one JSON object a log stack can take.

Each record has time, level, logger and message, and carries its numbers as
fields; the numbers must agree with what the run really did (the flags file,
replay's rejects).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netflag.cli import app
from netflag.cli.logs import LogFormat, Stderr
from netflag.devtools.generate import Preset, generate
from netflag.io.sinks import ListSink
from netflag.io.sources import ListSource
from netflag.modes.live import Live, LiveOptions, LiveOutputs
from netflag.modes.replay import replay
from netflag.runtime.rejects import Rejection

NETFLAG = [sys.executable, "-m", "netflag"]
HEAD = ("time", "level", "logger", "message")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A generated log with three bad stream lines, and what replay makes of it."""
    folder = tmp_path_factory.mktemp("logs")
    made = generate(folder, Preset(users=200, batch_lines=2_000, stream_lines=1_500), seed=3)
    lines = made.stream_path.read_bytes().splitlines(keepends=True)
    for at in (10, 500, 1_000):
        lines.insert(at, b'{"event_type":"purchase", "id": "1"}\n')
    stream = folder / "stream.json"
    stream.write_bytes(b"".join(lines))
    rejected: list[Rejection] = []
    summary = replay(made.batch_path, stream, folder / "expected.json", on_reject=rejected.append)
    assert summary.flagged > 5
    return {
        "batch": made.batch_path,
        "stream": stream,
        "lines": lines,
        "flags": (folder / "expected.json").read_bytes(),
        "reasons": [r.reason for r in rejected],
        "batch_events": summary.events - (len(lines) - len(rejected)),
    }


def parse(stderr: str) -> list[dict[str, object]]:
    """Every line is a JSON object with the four head keys, in order, and a real UTC time."""
    records = [json.loads(line) for line in stderr.splitlines()]
    for record in records:
        assert tuple(record)[:4] == HEAD, record
        when = datetime.fromisoformat(str(record["time"]).replace("Z", "+00:00"))
        assert when.utcoffset() == timedelta(0)
    return records


def test_json_logs_parse_and_carry_the_numbers(logs, tmp_path: Path) -> None:
    out = tmp_path / "flags.json"
    done = subprocess.run(
        [*NETFLAG, "live", logs["batch"], f"file:{logs['stream']}", "--sink", f"file:{out}",
         "--state", tmp_path / "state", "--log-format", "json", "-v", "--idle-timeout", "0.5"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == logs["flags"]
    records = parse(done.stderr)
    by_level = {level: [r for r in records if r["level"] == level] for level in ("info", "warning")}
    assert len(by_level["info"]) + len(by_level["warning"]) == len(records)

    loaded = [r for r in records if str(r["message"]).startswith("loaded ")]
    assert len(loaded) == 1 and loaded[0]["events"] == logs["batch_events"]
    warned = by_level["warning"]
    assert [r["reason"] for r in warned] == logs["reasons"]
    assert all(str(r["source"]).startswith(f"{logs['stream']}:") for r in warned)
    checkpoints = [r for r in records if str(r["message"]).startswith("checkpoint at")]
    assert checkpoints and isinstance(checkpoints[-1]["position"], dict)
    assert checkpoints[-1]["position"]["line"] == len(logs["lines"])
    # The message says the position in words; the field keeps it as data (issue 18).
    size, count = logs["stream"].stat().st_size, len(logs["lines"])
    assert checkpoints[0]["message"] == "checkpoint at the start of the source"
    assert checkpoints[0]["position"] is None
    assert checkpoints[-1]["message"] == f"checkpoint at line {count:,} (byte {size:,})"
    assert checkpoints[-1]["position"]["offset"] == size

    stopped = records[-1]
    assert stopped["message"] == "stopped" and stopped["logger"] == "netflag.live"
    assert stopped["flags"] == logs["flags"].count(b"\n")
    assert stopped["rejected"] == len(logs["reasons"]) == 3
    assert stopped["handled"] == len(logs["lines"])
    assert (stopped["D"], stopped["T"], stopped["k"]) == (3, 50, "3")


def test_verbose_text_logs_say_positions_in_words(logs, tmp_path: Path) -> None:
    """Issue 18: ``checkpoint at None``, ``checkpoint at {'inode': ..., 'offset': ...}``."""
    args = ["live", str(logs["batch"]), f"file:{logs['stream']}", "--sink", f"file:{tmp_path}/f",
            "--state", str(tmp_path / "state"), "-v", "--idle-timeout", "0.2"]  # fmt: skip
    size, count = logs["stream"].stat().st_size, len(logs["lines"])
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.stderr
    said = first.stderr.splitlines()
    at = [line for line in said if line.startswith("checkpoint at")]
    assert at[0] == "checkpoint at the start of the source"
    assert at[-1] == f"checkpoint at line {count:,} (byte {size:,})"
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.stderr
    resumed = [line for line in again.stderr.splitlines() if line.startswith("resumed")]
    events = count - len(logs["reasons"])  # the stream's events, bad lines not counted
    assert resumed == [
        f"resumed from file:{logs['stream']} at line {count:,} (byte {size:,})"
        f" ({events:,} events so far)"
    ]
    for line in [*said, *again.stderr.splitlines()]:
        assert "None" not in line and "{" not in line, line


def test_progress_never_draws_bars_into_json_logs(logs, tmp_path: Path) -> None:
    done = subprocess.run(
        [*NETFLAG, "live", logs["batch"], f"file:{logs['stream']}", "--sink", f"file:{tmp_path}/f",
         "--state", tmp_path / "state", "--log-format", "json", "--progress",
         "--idle-timeout", "0.5"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert parse(done.stderr)[-1]["message"] == "stopped"


def test_status_records_carry_rate_lag_and_checkpoint_age(logs, capsys, monkeypatch) -> None:
    out = Stderr(LogFormat.json, terminal=False)
    logger = logging.getLogger("netflag")  # as `netflag live` sets it up
    monkeypatch.setattr(logger, "handlers", [out.handler()])
    monkeypatch.setattr(logger, "propagate", False)
    monkeypatch.setattr(logger, "level", logging.INFO)
    options = LiveOptions(on_status=out.status, status_seconds=0)
    source = ListSource(logs["lines"], name=str(logs["stream"]))
    summary = Live(logs["batch"], source, LiveOutputs([ListSink()]), options).run()
    out.summary(summary)
    records = parse(capsys.readouterr().err)
    statuses = [r for r in records if r["message"] == "status"]
    assert len(statuses) >= 2
    fields = ("events", "events_per_s", "flags", "rejected", "lag", "lag_unit", "checkpoint_age_s")
    for status in statuses:
        assert tuple(status)[4:] == fields
        assert status["lag_unit"] == "lines" and 0 <= status["lag"] <= len(logs["lines"])
        assert status["events_per_s"] >= 0 and status["checkpoint_age_s"] >= 0
    assert [s["events"] for s in statuses] == sorted(s["events"] for s in statuses)
    assert statuses[-1]["lag"] == 0 and statuses[-1]["events"] == summary.events
    assert statuses[-1]["flags"] == summary.flagged == logs["flags"].count(b"\n")
    assert records[-1]["message"] == "stopped" and records[-1]["events"] == summary.events
    warned = [r["reason"] for r in records if r["level"] == "warning"]
    assert warned == logs["reasons"]


def test_an_error_is_one_json_record_with_its_exit_code(tmp_path: Path) -> None:
    done = subprocess.run(
        [*NETFLAG, "live", tmp_path / "missing.json", "-", "--log-format", "json"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    (record,) = parse(done.stderr)
    assert record["level"] == "error" and record["exit_code"] == 2
    assert str(record["message"]).startswith(f"cannot read {tmp_path / 'missing.json'}")
