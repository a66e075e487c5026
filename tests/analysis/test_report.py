"""Report: every table pinned on the hand-made log, CSV/JSON files, the HTML page's text."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netflag.analysis.common import ZScore, format_timestamp, format_units, id_order
from netflag.analysis.logs import open_logs
from netflag.analysis.report_data import collect
from netflag.analysis.report_html import render_html
from netflag.analysis.report_tables import report_tables, series_granularity, size_bin
from netflag.cli import app
from netflag.cli.render import print_tables
from netflag.runtime.rejects import Rejects
from tests.small_log import F, P, write_log

runner = CliRunner()

# Batch and stream purchases alike count for "when does the shop earn most";
# ties rank earlier first; within one second, flags come by z-score, highest first.
EXPECTED = """\
count_by_second
rank,second,purchases,total
1,2017-06-13 10:00:01,2,30.00
2,2017-06-13 10:00:02,2,1030.00
3,2017-06-13 10:01:00,2,600.00

count_by_minute
rank,minute,purchases,total
1,2017-06-13 10:00,6,1105.50
2,2017-06-13 10:01,3,645.00

count_by_hour
rank,hour,purchases,total
1,2017-06-13 10:00,9,1750.50

amount_by_second
rank,second,purchases,total
1,2017-06-13 10:00:02,2,1030.00
2,2017-06-13 10:01:00,2,600.00
3,2017-06-13 10:01:59,1,45.00

amount_by_minute
rank,minute,purchases,total
1,2017-06-13 10:00,6,1105.50
2,2017-06-13 10:01,3,645.00

amount_by_hour
rank,hour,purchases,total
1,2017-06-13 10:00,9,1750.50

flags
timestamp,line,user,amount,mean,sd,threshold,z_score,network
2017-06-13 10:01:00,5,2,500.00,48.50,39.19,166.08,11.51,3
2017-06-13 10:01:00,1,1,100.00,30.16,8.36,55.27,8.34,2

top_anomalies
rank,z_score,line,timestamp,user,amount,mean,sd,threshold
1,11.51,5,2017-06-13 10:01:00,2,500.00,48.50,39.19,166.08
2,8.34,1,2017-06-13 10:01:00,1,100.00,30.16,8.36,55.27

flags_over_time
second,checked,flagged
2017-06-13 10:00:30,1,0
2017-06-13 10:01:00,2,2
2017-06-13 10:01:59,1,0

amount_over_time
second,purchases,total
2017-06-13 10:00:01,2,30.00
2017-06-13 10:00:02,2,1030.00
2017-06-13 10:00:03,1,40.50
2017-06-13 10:00:30,1,5.00
2017-06-13 10:01:00,2,600.00
2017-06-13 10:01:59,1,45.00

network_sizes
network,low,high,checked,flagged
2-3,2,3,4,2
"""


def tables_of(batch: Path, stream: Path, top: int = 3):
    data = collect(open_logs(batch, stream, Rejects()))
    return data, report_tables(data, top)


def test_every_table_pinned(small: tuple[Path, Path]) -> None:
    _, tables = tables_of(*small)
    assert "\n".join(f"{t.name}\n{t.csv_text()}" for t in tables) == EXPECTED


def test_top_zero_means_all(small: tuple[Path, Path]) -> None:
    _, tables = tables_of(*small, top=0)
    assert len(tables[0].rows) == 6  # every second with a purchase


def test_exact_helpers() -> None:
    assert format_units(10**30 + 5, 2) == "10000000000000000000000000000.05"
    assert format_timestamp(0) == "0001-01-01 00:00:00"
    assert sorted(["b", "2", "10", "02"], key=id_order) == ["02", "2", "10", "b"]
    # z = 1/sqrt(3) = 0.5773...: truncated, not rounded; ordering is exact
    assert ZScore(1, 3).text() == "0.57" and ZScore(-1, 3).text() == "-0.57"
    assert ZScore(10**20 + 1, 10**40).sort_key() > ZScore(10**20, 10**40).sort_key()
    assert [size_bin(n) for n in (0, 1, 2, 3, 4, 1023, 1024)] == [0, 1, 2, 2, 3, 10, 11]
    day = 736_492 * 86_400
    assert series_granularity([day, day + 119]) == "second"
    assert series_granularity([day, day + 120]) == "minute"
    assert series_granularity([day, day + 200 * 3_600]) == "hour"


def test_mixed_scales_sum_exactly(tmp_path: Path) -> None:
    batch = write_log(tmp_path / "b.json", ['{"D":"1", "T":"2"}'])
    stream = [P.format(t="00:00:00", u=1, a=a) for a in ('"0.1"', '"0.2"', "0.125", "1e2")]
    _, tables = tables_of(batch, write_log(tmp_path / "s.json", stream))
    assert tables[0].rows == [(1, "2017-06-13 00:00:00", 4, "100.425")]


def test_cli_json_and_files(small: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = runner.invoke(
        app, ["report", *map(str, small), "--top", "3", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert (body["checked"], body["flagged"]) == (4, 2)
    assert body["tables"]["top_anomalies"][0] == {
        "rank": 1,
        "z_score": "11.51",
        "line": 5,
        "timestamp": "2017-06-13 10:01:00",
        "user": "2",
        "amount": "500.00",
        "mean": "48.50",
        "sd": "39.19",
        "threshold": "166.08",
    }
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 23 and "report.html" in names and "flags.csv" in names
    assert (out / "flags.csv").read_text() == EXPECTED.split("\n\n")[6].partition("\n")[2] + "\n"
    assert json.loads((out / "network_sizes.json").read_text()) == body["tables"]["network_sizes"]
    assert result.stderr.splitlines() == [
        f"{small[1]}:4: not valid JSON: Expecting value (column 1)",
        result.stderr.splitlines()[1],
    ]
    assert "4 purchases checked, 2 flagged, 1 rejected, 23 files in" in result.stderr


def test_cli_tables_and_no_html(small: tuple[Path, Path], tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["report", *map(str, small), "--out", str(tmp_path / "r"), "--no-html"]
    )
    assert result.exit_code == 0
    assert "Top anomalies by z-score" in result.stdout and "11.51" in result.stdout
    assert not (tmp_path / "r" / "report.html").exists()


def test_terminal_tables_are_cut_and_say_so(
    small: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, tables = tables_of(*small)
    print_tables(tables[-2:], max_rows=4)  # amount_over_time has 6 rows, network_sizes 1
    shown = capsys.readouterr().out
    assert "2017-06-13 10:00:30" in shown and "2017-06-13 10:01:00" not in shown
    assert shown.count("more rows") == 1 and "2 more rows with --json or --out" in shown


def test_missing_plotly_is_one_line(
    small: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "plotly", None)  # import plotly -> ImportError
    result = runner.invoke(app, ["report", *map(str, small), "--out", str(tmp_path / "r")])
    assert (result.exit_code, result.stderr) == (
        2,
        'error: the HTML report needs plotly: pip install "netflag[report]"\n',
    )
    assert not (tmp_path / "r").exists()  # failed before doing any work


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    batch = write_log(
        tmp_path / "b.json",
        [
            '{"D":"1", "T":"2"}',
            F.format(t="00:00:00", a="<i>x</i>", b=2),
            P.format(t="00:00:01", u=2, a='"1"'),
            P.format(t="00:00:01", u=2, a='"3"'),
        ],
    )
    stream = write_log(tmp_path / "s.json", [P.format(t="00:00:02", u="<i>x</i>", a='"99"')])
    data, tables = tables_of(batch, stream)
    page = render_html(data, tables)
    assert data.flagged == 1
    assert "<i>x</i>" not in page and "&lt;i&gt;x&lt;/i&gt;" in page
    assert "<script src" not in page and "<link" not in page  # nothing to fetch
    assert page.count("class='chart'") == 6
    assert page == render_html(data, tables)  # deterministic
