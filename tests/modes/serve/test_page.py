"""The service's page (``GET /``) in a real headless Chromium, against the real server.

It loads with nothing fetched from elsewhere, fills its tiles from ``/v1/stats``,
lists the latest flags, and shows a flag posted after it loaded (over SSE). A
token-protected service makes it ask for the token. Chromium is required, as for
the report's browser test (``tests/analysis/browser.py``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.analysis.browser import Browser
from tests.modes.serve.conftest import Logs, ServerFactory
from tests.modes.serve.server import Server

NDJSON = {"Content-Type": "application/x-ndjson"}
KEEP = 50  # rows the page keeps
TOKEN = "page-token-0123456789abcdef"  # noqa: S105 (a test token)
ROWS = """Array.from(document.querySelectorAll('#flags tr')).map(row =>
  [row.dataset.seq, ...Array.from(row.cells).map(cell => cell.textContent)])"""
TILES = "['events', 'checked', 'flagged', 'rate', 'rejected', 'users'].map(id => $(id).textContent)"
ALIGNED = """Array.from(document.querySelectorAll('thead th')).map(cell =>
  getComputedStyle(cell).textAlign)"""


def navigate(browser: Browser, url: str) -> None:
    browser.call("Page.navigate", url=url)
    wait_for(browser, "document.readyState === 'complete'")


def wait_for(browser: Browser, expression: str, seconds: float = 15.0) -> Any:
    """Poll ``expression`` in the page until it is truthy; its value."""
    deadline = time.monotonic() + seconds
    while True:
        value = browser.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{expression!r} still false after {seconds} s")
        time.sleep(0.05)


def post(server: Server, lines: list[bytes]) -> list[dict[str, Any]]:
    with server.client() as client:
        answer = client.post("/v1/events", content=b"\n".join(lines), headers=NDJSON)
    assert answer.status_code == 200
    results: list[dict[str, Any]] = answer.json()["results"]
    return results


def row(result: dict[str, Any]) -> list[str]:
    """The table row the page shows for a flag result."""
    flag = json.loads(result["flag"])
    fields = ("timestamp", "id", "amount", "mean", "sd")
    return [str(result["seq"]), str(result["seq"]), *(str(flag[name]) for name in fields)]


def test_the_page_shows_stats_and_flags_arriving_live(serve: ServerFactory, logs: Logs) -> None:
    server = serve()
    before = [r for r in post(server, logs.lines[:1500]) if r.get("flagged")]
    assert len(before) >= 3
    with Browser(timeout=30) as browser:
        navigate(browser, server.url + "/")
        wait_for(browser, "$('status').textContent.startsWith('connected')")
        with server.client() as client:
            stats = client.get("/v1/stats").json()
        tiles = browser.evaluate(TILES)
        rate = f"{100 * stats['flagged'] / stats['checked']:.2f} %"
        assert tiles == [f"{stats['events']:,}", f"{stats['checked']:,}", f"{stats['flagged']:,}",
                         rate, f"{stats['rejected']:,}", f"{stats['users']:,}"]  # fmt: skip
        assert browser.evaluate(ROWS) == [row(r) for r in reversed(before)][:KEEP]
        # the numbers' headers stand over their right-aligned numbers
        assert browser.evaluate(ALIGNED) == ["left"] * 3 + ["right"] * 3
        # a click on a flag says why, in the service's exact digits
        seq = before[0]["seq"]
        browser.evaluate(f"document.querySelector('#flags tr[data-seq=\"{seq}\"]').click()")
        wait_for(browser, f"$('explained').dataset.seq === '{seq}'")
        with server.client() as client:
            why = client.get("/v1/explain", params={"seq": seq}).json()
        said = browser.evaluate("$('explained').textContent")
        assert f"threshold {why['threshold']}, z-score {why['z_score']}" in said, said

        after = [r for r in post(server, logs.lines[1500:2600]) if r.get("flagged")]
        assert after
        newest = str(after[-1]["seq"])
        wait_for(browser, f"$('flags').rows[0] && $('flags').rows[0].dataset.seq === '{newest}'")
        assert browser.evaluate(ROWS) == [row(r) for r in reversed(before + after)][:KEEP]
        wait_for(browser, f"$('flagged').textContent === '{len(before) + len(after):,}'")
        # events a second, over the last minute: the posts show as a peak
        line = "$('spark-line').getAttribute('points')"
        points = wait_for(browser, f"{line}.split(' ').length > 2 && {line}")
        assert min(float(p.split(",")[1]) for p in points.split()) < 22
        fetched = browser.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
        html = browser.evaluate("document.documentElement.outerHTML")
    assert fetched and all(url.startswith(server.url + "/") for url in fetched), fetched
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere
    assert browser.errors == []


def test_a_protected_service_makes_the_page_ask_for_the_token(
    serve: ServerFactory, logs: Logs
) -> None:
    server = serve(token=TOKEN)
    flagged = [r for r in post(server, logs.lines[:1500]) if r.get("flagged")]
    with Browser(timeout=30) as browser:
        navigate(browser, server.url + "/")
        wait_for(browser, "$('status').textContent === 'this service needs a bearer token'")
        assert browser.evaluate("getComputedStyle($('token-form')).display") == "block"
        assert browser.evaluate("$('flags').rows.length") == 0  # nothing shown without it
        assert browser.evaluate(TILES)[0] == "-"
        browser.evaluate(f"$('token').value = '{TOKEN}'; $('token-form').requestSubmit(); true")
        wait_for(browser, "$('status').textContent.startsWith('connected')")
        assert browser.evaluate("getComputedStyle($('token-form')).display") == "none"
        assert browser.evaluate(ROWS) == [row(r) for r in reversed(flagged)][:KEEP]
        more = [r for r in post(server, logs.lines[1500:2600]) if r.get("flagged")]
        newest = str(more[-1]["seq"])
        wait_for(browser, f"$('flags').rows[0] && $('flags').rows[0].dataset.seq === '{newest}'")
    # the only errors: Chromium's notes on the 401s before the token was given
    assert browser.errors and all("401" in error for error in browser.errors), browser.errors


def test_the_api_docs_render_from_the_service_alone(serve: ServerFactory) -> None:
    """/docs (Swagger UI) loads nothing from elsewhere: it works on a machine offline."""
    server = serve()
    with Browser(timeout=30) as browser:
        navigate(browser, server.url + "/docs")
        operations = wait_for(browser, "document.querySelectorAll('.opblock').length")
        fetched = browser.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert operations >= 10  # every route of the schema, drawn
    assert fetched and all(url.startswith(server.url + "/") for url in fetched), fetched
    assert browser.errors == []
