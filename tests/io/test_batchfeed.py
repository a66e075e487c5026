"""Batch logs that cannot be mapped or read twice: pipes take one pass, line by line."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from netflag.engine import EngineState
from netflag.runtime.batch import load_batch
from netflag.runtime.rejects import Rejects

BATCH = Path(__file__).parent.parent.parent / "log_input" / "batch_log.json"


def load(path: Path, kernel: str) -> tuple[EngineState, int]:
    engine, applied, _ = load_batch(path, Rejects(), kernel=kernel)  # type: ignore[arg-type]
    return engine.state(), applied


@pytest.mark.parametrize("kernel", ["compiled", "python"])
def test_a_piped_batch_log_is_read_once_and_whole(tmp_path: Path, kernel: str) -> None:
    fifo = tmp_path / "batch.fifo"
    os.mkfifo(fifo)
    data = BATCH.read_bytes()

    def feed() -> None:
        with fifo.open("wb") as pipe:
            pipe.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        piped = load(fifo, kernel)
    finally:
        writer.join()
    assert piped == load(BATCH, kernel)
    assert piped[1] == data.count(b"\n") - 1  # every event; the parameters line is not one
