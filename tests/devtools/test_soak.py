"""The soak, short: three 5-second "minutes" of the mixed load against a real server.

The 10-minute run (``python -m netflag.devtools.bench.soak``) is what docs/benchmarks.md
records; this one checks that the load it makes is served whole and that the checks it
reports on work."""

from __future__ import annotations

from pathlib import Path

from netflag.devtools.bench.soak import Minute, Soak, run, table, verdict


def test_a_short_soak_is_served_whole_with_every_flag_streamed(tmp_path: Path) -> None:
    samples, soak = run(minutes=3, rate=200, minute_seconds=5, folder=tmp_path)
    assert soak.failures == []
    assert soak.flagged is not None and soak.flagged > 0
    assert soak.streamed == soak.flagged
    assert len(samples) == 3
    assert all(minute.latencies["single"] and minute.latencies["ndjson"] for minute in samples)
    assert all(minute.rss_mib > 10 and minute.fds > 3 for minute in samples)
    assert samples[-1].children_mib > 10  # the explanations' fork server, at least
    assert verdict(samples, soak) == []
    assert table(samples).count("\n") == 4


def test_the_verdict_names_each_target_missed() -> None:
    soak = Soak(port=0, lines=iter(()), stop_at=0.0, failures=["single: 503 b'...'"])
    steady = [Minute(rss_mib=100.0, fds=20) for _ in range(9)]
    assert verdict(steady, Soak(port=0, lines=iter(()), stop_at=0.0)) == []
    growing = [*steady[:4], *(Minute(rss_mib=105.0, fds=21) for _ in range(5))]
    assert verdict(growing, soak) == [
        "single: 503 b'...'",
        "RSS grew 5.0% over the last 8 minutes",
        "descriptors grew from at most 20 to at least 21",
    ]
    one_open_late = [*steady[:-1], Minute(rss_mib=100.0, fds=21)]
    assert verdict(one_open_late, Soak(port=0, lines=iter(()), stop_at=0.0)) == []
