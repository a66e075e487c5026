"""Sweep: grid syntax, a pinned hand-made sweep, and equality with separate replays."""

from __future__ import annotations

import json
import re
import tempfile
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from typer.testing import CliRunner

from netflag.analysis.logs import open_logs
from netflag.analysis.sweep import (
    Setting,
    SweepResult,
    grid,
    parse_counts,
    parse_multipliers,
    sweep,
)
from netflag.cli import app
from netflag.errors import ParamsError
from netflag.io.output import flagged_line
from netflag.modes.replay import replay
from netflag.runtime.rejects import Rejects
from tests.logs import event_logs
from tests.small_log import F, P, write_log

BUNDLED = Path(__file__).parents[2] / "log_input"
runner = CliRunner()

# Path 1 - 2 - 3 - 4. Line 1: 1 buys 50 -> flagged at D=1 (2's 10, 10: sd 0), and at
# D=2, T=3 only for k < 0.2357 (100, 10, 10: mean 40, sd 42.43). Line 2: 4 buys 2000 ->
# flagged wherever its network made 2 purchases (D >= 2).
SWEEP_BATCH = [
    '{"D":"2", "T":"3"}',
    *(F.format(t="00:00:00", a=a, b=b) for a, b in ((1, 2), (2, 3), (3, 4))),
    P.format(t="00:00:01", u=2, a='"10"'),
    P.format(t="00:00:01", u=2, a='"10"'),
    P.format(t="00:00:02", u=3, a='"100"'),
    P.format(t="00:00:03", u=4, a='"1000"'),
]
SWEEP_STREAM = [P.format(t="00:00:10", u=1, a='"50"'), P.format(t="00:00:11", u=4, a='"2000"')]


def run_sweep(
    batch: Path, stream: Path, Ds: str, Ts: str, ks: str, walk_above: int | None = None
) -> SweepResult:
    logs = open_logs(batch, stream, Rejects())
    assert logs.written is not None
    default = Setting(logs.written.D, logs.written.T, Fraction(3))
    found = parse_counts(Ds, "D", 1), parse_counts(Ts, "T", 2), parse_multipliers(ks)
    return sweep(logs, grid(*found), default, walk_above=walk_above)


def replay_text(batch: Path, stream: Path, setting: Setting, folder: Path) -> str:
    out = folder / "replayed.json"
    replay(batch, stream, out, D=setting.D, T=setting.T, k=setting.k)
    return out.read_text()


def sweep_text(result: SweepResult, stream: Path, setting: Setting) -> str:
    raw = {n: line for n, line in enumerate(stream.read_bytes().splitlines(keepends=True), 1)}
    return b"".join(
        flagged_line(raw[f.line], f.baseline.mean_text(), f.baseline.sd_text())
        for f in result.flags[setting]
    ).decode()


def test_grid_syntax() -> None:
    assert parse_counts("1..4", "D", 1) == [1, 2, 3, 4]
    assert parse_counts(" 200, 10,50,10 ", "T", 2) == [10, 50, 200]
    assert parse_counts("1..2,5", "D", 1) == [1, 2, 5]
    assert parse_multipliers("3, 2.5,0,3") == [Fraction(0), Fraction(5, 2), Fraction(3)]
    for text in ("0..2", "3..1", "a", "", "1..x"):
        with pytest.raises(ParamsError):
            parse_counts(text, "D", 1)
    with pytest.raises(ParamsError, match="k must be"):
        parse_multipliers("2,-1")
    with pytest.raises(ParamsError, match="at most 10,000"):
        grid(range(1, 101), range(2, 102), [Fraction(1), Fraction(2)])


def test_pinned_sweep(tmp_path: Path) -> None:
    batch = write_log(tmp_path / "b.json", SWEEP_BATCH)
    stream = write_log(tmp_path / "s.json", SWEEP_STREAM)
    result = run_sweep(batch, stream, "1..3", "2,3", "0,3")
    rows = {
        (r.setting.D, r.setting.T, str(r.setting.k)): (r.flags, r.overlap, r.added, r.missed)
        for r in result.rows()
    }
    assert rows == {
        (1, 2, "0"): (1, 0, 1, 1),
        (1, 2, "3"): (1, 0, 1, 1),
        (1, 3, "0"): (1, 0, 1, 1),
        (1, 3, "3"): (1, 0, 1, 1),
        (2, 2, "0"): (1, 1, 0, 0),
        (2, 2, "3"): (1, 1, 0, 0),
        (2, 3, "0"): (2, 1, 1, 0),
        (2, 3, "3"): (1, 1, 0, 0),
        (3, 2, "0"): (1, 1, 0, 0),
        (3, 2, "3"): (1, 1, 0, 0),
        (3, 3, "0"): (1, 1, 0, 0),
        (3, 3, "3"): (1, 1, 0, 0),
    }
    assert [r.is_default for r in result.rows()].index(True) == 7
    assert result.lines(Setting(2, 3, Fraction(0))) == [1, 2]
    assert result.checked == 2
    for setting in result.settings:
        assert sweep_text(result, stream, setting) == replay_text(batch, stream, setting, tmp_path)


def test_equals_separate_replays_on_the_bundled_log(tmp_path: Path) -> None:
    batch, stream = BUNDLED / "batch_log.json", BUNDLED / "stream_log.json"
    result = run_sweep(batch, stream, "1..3", "10,50", "2,3")
    counts = {s: len(result.flags[s]) for s in result.settings}
    assert counts[result.default] == 14  # the bundled replay's 14 flags
    for setting in [
        Setting(1, 10, Fraction(2)),
        Setting(2, 50, Fraction(3)),
        Setting(3, 10, Fraction(2)),
        Setting(3, 50, Fraction(3)),
    ]:
        expected = replay_text(batch, stream, setting, tmp_path)
        assert sweep_text(result, stream, setting) == expected, setting
        assert expected.count("\n") == counts[setting] > 0


@settings(max_examples=60)
@given(event_logs())
def test_every_setting_equals_its_replay_on_random_logs(case: tuple[str, str, Fraction]) -> None:
    batch_text, stream_text, _ = case
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        batch, stream = folder / "b.json", folder / "s.json"
        batch.write_text(batch_text)
        stream.write_text(stream_text)
        # the heap way (small networks), the walk way, the two mixed, and T = 2 alone
        # (so the walk's index sees many evictions)
        runs = [("2,3,5", 99), ("2,3,5", 0), ("2,3,5", 2), ("2", 0)]
        for Ts, walk_above in runs:
            result = run_sweep(batch, stream, "1..3", Ts, "0,2.5,3", walk_above)
            for setting in result.settings:
                expected = replay_text(batch, stream, setting, folder)
                assert sweep_text(result, stream, setting) == expected, (setting, walk_above)


def test_cli(tmp_path: Path) -> None:
    batch = write_log(tmp_path / "b.json", SWEEP_BATCH)
    stream = write_log(tmp_path / "s.json", SWEEP_STREAM)
    result = runner.invoke(
        app, ["sweep", str(batch), str(stream), "--D", "1..2", "--T", "3", "--k", "0,3", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["default"] == {"D": 2, "T": 3, "k": "3", "flags": 1}
    assert [(s["D"], s["k"], s["flags"], s["added"], s["default"]) for s in body["settings"]] == [
        (1, "0", 1, 1, False),
        (1, "3", 1, 1, False),
        (2, "0", 2, 1, False),
        (2, "3", 1, 0, True),
    ]
    assert result.stderr.startswith("netflag: 4 settings, 2 purchases checked in one pass")
    table = runner.invoke(app, ["sweep", str(batch), str(stream), "--k", "2.5"])
    assert table.exit_code == 0 and re.search(r"default: D=2 T=3 k=3, 1 flag\b", table.stdout)
    bad = runner.invoke(app, ["sweep", str(batch), str(stream), "--D", "2..1"])
    assert (bad.exit_code, bad.stderr) == (2, "error: D: '2..1' is not a range low..high\n")


def test_without_parameters_line_the_grid_gives_the_default(tmp_path: Path) -> None:
    batch = write_log(tmp_path / "b.json", SWEEP_BATCH[1:])
    stream = write_log(tmp_path / "s.json", SWEEP_STREAM)
    args = ["sweep", str(batch), str(stream), "--json"]
    missing = runner.invoke(app, args)
    assert missing.exit_code == 2 and "no parameters line" in missing.stderr
    ok = runner.invoke(app, [*args, "--D", "1,3", "--T", "2"])
    assert json.loads(ok.stdout)["default"] == {"D": 1, "T": 2, "k": "3", "flags": 1}
