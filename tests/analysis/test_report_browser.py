"""The HTML report in a real headless Chromium: no console errors, and charts that hold data.

Chromium is required: a missing browser fails with the command that installs
it (``.ci/run`` installs it), it is never skipped.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from typer.testing import CliRunner

from netflag.cli import app
from tests.analysis.browser import Browser, group_alive, stop_group

BUNDLED = Path(__file__).parents[2] / "log_input"
CHARTS = {  # chart id -> traces it draws
    "chart-amount": 2,
    "chart-flags-over-time": 2,
    "chart-top-anomalies": 1,
    "chart-flags": 2,
    "chart-network-sizes": 2,
    "chart-busiest-seconds": 1,
}
# For each plotly chart: its traces' point counts, and what plotly drew in SVG.
INSPECT = """
Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => ({
  id: plot.id,
  points: plot.data.map(trace => (trace.x || []).length),
  svg: plot.querySelectorAll('svg.main-svg').length,
  drawn: plot.querySelectorAll('g.trace .point').length,
}))
"""


def test_the_error_detector_works(tmp_path: Path) -> None:
    """The negative control: a page that logs an error and throws must be caught."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<html><body><p id='p'>here</p><script>"
        "console.error('broken on purpose'); undefinedFunction();"
        "</script></body></html>"
    )
    with Browser() as browser:
        browser.open(page)
        assert browser.evaluate("document.getElementById('p').textContent") == "here"
    assert browser.errors[0] == "console.error: broken on purpose"
    assert browser.errors[1].startswith("uncaught: ReferenceError: undefinedFunction")


def test_report_renders_offline_with_data(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        [
            "report",
            str(BUNDLED / "batch_log.json"),
            str(BUNDLED / "stream_log.json"),
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    with Browser() as browser:
        browser.open(out / "report.html")
        charts = browser.evaluate(INSPECT)
        fetched = browser.evaluate(
            "performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(url => !url.startsWith('file:') && !url.startsWith('data:'))"
        )
        tables = browser.evaluate("document.querySelectorAll('table').length")
    assert browser.errors == []
    assert fetched == []  # opens offline: nothing but the file itself
    assert tables == 11
    assert [chart["id"] for chart in charts] == list(CHARTS)
    for chart in charts:
        assert len(chart["points"]) == CHARTS[chart["id"]], chart
        assert all(n > 0 for n in chart["points"]), chart
        assert chart["svg"] >= 1 and chart["drawn"] >= sum(chart["points"]) // 2, chart
    top = next(chart for chart in charts if chart["id"] == "chart-top-anomalies")
    assert top["points"] == [10]  # --top 10 anomalies from the bundled 14 flags


# --- closing (issue 12): the profile goes only once every Chromium process has exited ------


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def process_tree(root: int) -> set[int]:
    """``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(Path(entry, "stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:  # gone meanwhile
            continue
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += children.get(pid, [])
    return tree


def test_closing_waits_for_chromium_and_all_its_helpers(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><p id='p'>here</p></body></html>")
    with Browser() as browser:
        browser.open(page)
        tree = process_tree(browser.pid)
        profile = browser.profile
        assert len(tree) > 2 and profile.is_dir()
    assert [pid for pid in tree if running(pid)] == []
    assert not profile.exists()


def test_a_group_is_stopped_only_once_its_last_process_has_exited(tmp_path: Path) -> None:
    """As Chromium's storage service, a helper finishes writing after the main process died."""
    late = tmp_path / "written-late"
    helper = f'trap "sleep 0.5; touch {late}; exit" TERM; sleep 60 & wait'
    leader = subprocess.Popen(
        ["bash", "-c", f"bash -c '{helper}' & exec sleep 60"], start_new_session=True
    )
    while len(process_tree(leader.pid)) < 3:  # the leader, the helper and its sleep
        assert leader.poll() is None
        time.sleep(0.01)
    stop_group(leader)
    assert late.exists()  # stop_group returned after the helper's last write
    assert not group_alive(leader.pid) and leader.returncode is not None
