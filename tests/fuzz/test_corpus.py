"""Every input the fuzzer kept (tests/fuzz/corpus/, grown by scripts/fuzz) still reads alike.

This replays the corpus under the normal build, on every test run: an input that once
drove the fuzzer to new code in the core is checked again here (fast path vs parse_event,
compiled core vs its Python twin, snapshot loader vs both cores) after every change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from netflag import __version__
from netflag.engine import snapshot
from netflag.errors import CheckpointError
from tests.fuzz.seeds import snapshot_seeds
from tests.fuzz.targets import check_feed, check_snapshot, snapshot_bytes

CORPUS = Path(__file__).parent / "corpus"


def _inputs(target: str) -> list[Path]:
    return sorted((CORPUS / target).iterdir())


def test_the_corpus_is_kept_and_small() -> None:
    feed, snapshots = _inputs("feed"), _inputs("snapshot")
    assert len(feed) >= 100 and len(snapshots) >= 20
    assert sum(path.stat().st_size for path in feed + snapshots) < 512 * 1024


def _replay(target: str, check: Callable[[bytes, Path], None], folder: Path) -> None:
    for path in _inputs(target):
        try:
            check(path.read_bytes(), folder)
        except Exception as error:
            raise AssertionError(f"tests/fuzz/corpus/{target}/{path.name}: {error!r}") from error


def test_every_kept_batch_log_reads_alike_on_the_fast_path_and_line_by_line(
    tmp_path: Path,
) -> None:
    _replay("feed", check_feed, tmp_path)


def test_every_kept_snapshot_is_refused_in_one_line_or_loads_alike_on_both_cores(
    tmp_path: Path,
) -> None:
    _replay("snapshot", check_snapshot, tmp_path)


def _data_end(body: bytes) -> int:
    """Where the last column's bytes end in a snapshot without its first line."""
    end = body.index(b"\n")
    start = -(-(snapshot.FIRST_LINE + end + 1) // snapshot.ALIGN) * snapshot.ALIGN
    columns = json.loads(body[:end])["columns"]
    return start - snapshot.FIRST_LINE + max(c["offset"] + c["bytes"] for c in columns)


@pytest.mark.parametrize("seed", range(len(snapshot_seeds())))
def test_a_snapshot_cut_short_anywhere_is_refused_in_one_line(seed: int, tmp_path: Path) -> None:
    body = snapshot_seeds()[seed]
    for size in range(0, _data_end(body), 7):
        with pytest.raises(CheckpointError) as refused:
            snapshot.load(snapshot_bytes(body[:size]), version=__version__)
        assert "\n" not in str(refused.value)
        check_snapshot(body[:size], tmp_path)
