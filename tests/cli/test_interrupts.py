"""Ctrl-C mid-run, under a real pseudo-terminal: one line says so, exit code 130, no output left.

The stream log is the read end of a pipe the test holds open, so the command
is sure to be mid-stream (waiting for lines) when SIGINT arrives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests import paths
from tests.cli.test_progress import ANSI, in_terminal

BATCH, STREAM = paths.BUNDLED / "batch_log.json", paths.BUNDLED / "stream_log.json"
TIMEOUT = 60  # seconds: only turns a hang into a failure
FED_LINES = 50  # of the stream, before the interrupt; the rest never comes


def interrupt_mid_stream(args: list[str | Path], cwd: Path) -> tuple[int, str, bytes]:
    """Run ``netflag ARGS`` (``{stream}`` in ARGS: a pipe) with stderr on a terminal; send
    SIGINT once its stream phase shows. Its exit code, what it drew, and its stdout."""
    read, write = os.pipe()
    stream = f"/dev/fd/{read}"
    os.write(write, b"".join(STREAM.read_bytes().splitlines(keepends=True)[:FED_LINES]))
    main, child = os.openpty()
    command = [sys.executable, "-m", "netflag", *(stream if a == "{stream}" else a for a in args)]
    stdout = cwd / "stdout.bin"
    with stdout.open("wb") as out:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=child, cwd=cwd,
            pass_fds=[read], env={**os.environ, "COLUMNS": "120", "TERM": "xterm-256color"},
            preexec_fn=default_ctrl_c,
        )  # fmt: skip
    os.close(child)
    os.close(read)
    drawn = bytearray()
    streaming = threading.Event()

    def watch() -> None:
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            drawn.extend(chunk)
            if b"stream" in ANSI.sub("", drawn.decode(errors="replace")).encode():
                streaming.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        assert streaming.wait(TIMEOUT), drawn.decode(errors="replace")
        process.send_signal(signal.SIGINT)
        code = process.wait(TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(TIMEOUT)
        os.close(write)
        watcher.join(TIMEOUT)
        os.close(main)
    return code, drawn.decode(errors="replace"), stdout.read_bytes()


def default_ctrl_c() -> None:
    """In the child: Ctrl-C's default action, even when these tests run in a background
    job, whose shell hands its children SIGINT ignored (Python then never raises on it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def last_line(drawn: str) -> str:
    return ANSI.sub("", drawn).replace("\r", "\n").strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["replay", BATCH, "{stream}", "out/flags.json", "--rejects", "out/rejects.jsonl",
          "--actions", "out/actions.jsonl"], "no output written"),
        (["replay", BATCH, "{stream}", "-"], "no output written"),
        (["report", BATCH, "{stream}", "--out", "out", "--no-html"], "no output written"),
        (["sweep", BATCH, "{stream}", "--k", "2,3"], "nothing printed"),
        (["explain", BATCH, "{stream}", "--user", "1", "--amount", "5"], "nothing printed"),
    ],
)  # fmt: skip
def test_ctrl_c_mid_run_says_so_and_leaves_no_output(
    tmp_path: Path, args: list[str | Path], said: str
) -> None:
    (tmp_path / "out").mkdir()
    code, drawn, stdout = interrupt_mid_stream([*args, "--progress"], tmp_path)
    assert code == 130, drawn
    assert last_line(drawn) == f"netflag: interrupted, {said}"
    assert "Traceback" not in drawn and stdout == b""
    assert list((tmp_path / "out").iterdir()) == []  # not even a temporary file


def test_an_uninterrupted_run_of_the_same_kind_writes_its_output(tmp_path: Path) -> None:
    """The harness above, without the interrupt: the run it stops does write, whole."""
    out = tmp_path / "flags.json"
    code, drawn = in_terminal(
        [sys.executable, "-m", "netflag", "replay", BATCH, STREAM, out, "--progress"]
    )
    assert code == 0 and last_line(drawn).startswith("netflag: 20,999 events read")
    assert out.read_bytes().count(b"\n") == 14
