"""A small hand-made log shared by the analysis and actions tests (fixture ``small``).

The graph is a path 1 - 2 - 3 - 4 (batch); the stream adds 1 - 4, making a
square. With D=2, T=3, user 1's network is {2 (distance 1), 3 (distance 2)}
at stream line 1, so 4's 1000 (distance 3) stays out of its baseline.

Stream lines: 1 flags 1's 100.00 (mean 30.16, sd 8.36); 2 befriends 1-4;
3 is a late purchase (10:00:30) by 4, not flagged; 4 is a bad line; 5 flags
2's 500.00 (a JSON number, echoed as written); 6 is 3's 45, not flagged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

P = '{{"event_type":"purchase", "timestamp":"2017-06-13 {t}", "id": "{u}", "amount": {a}}}'
F = '{{"event_type":"befriend", "timestamp":"2017-06-13 {t}", "id1": "{a}", "id2": "{b}"}}'

SMALL_BATCH = [
    '{"D":"2", "T":"3"}',
    F.format(t="10:00:00", a=1, b=2),
    F.format(t="10:00:00", a=2, b=3),
    F.format(t="10:00:00", a=3, b=4),
    P.format(t="10:00:01", u=2, a='"10.00"'),
    P.format(t="10:00:01", u=3, a='"20.00"'),
    P.format(t="10:00:02", u=4, a='"1000"'),
    P.format(t="10:00:02", u=2, a='"30"'),
    P.format(t="10:00:03", u=3, a='"40.50"'),
]
SMALL_STREAM = [
    P.format(t="10:01:00", u=1, a='"100.00"'),
    F.format(t="10:01:00", a=1, b=4),
    P.format(t="10:00:30", u=4, a='"5"'),
    "nope",
    P.format(t="10:01:00", u=2, a="500.00"),
    P.format(t="10:01:59", u=3, a='"45"'),
]


def write_log(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    """(batch, stream) files holding the small log."""
    return (
        write_log(tmp_path / "batch.json", SMALL_BATCH),
        write_log(tmp_path / "stream.json", SMALL_STREAM),
    )
