"""Output files: whatever OUT names, it gets the whole output when the run succeeds, or nothing.

Regular files and new paths are replaced by a rename; a symlink's target is
replaced and the link stays; a FIFO, a device or ``-`` (stdout) is never
replaced, and gets the bytes at the end. The CLI cases run netflag for real.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from netflag.errors import InputError
from netflag.io.output import AtomicFile, write_all
from tests import paths

BATCH = paths.BUNDLED / "batch_log.json"
STREAM = paths.BUNDLED / "stream_log.json"
TIMEOUT = 60  # seconds: only turns a hang into a failure


def netflag(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "netflag", *map(str, args)],
        capture_output=True, check=False, timeout=TIMEOUT, cwd=cwd,
    )  # fmt: skip


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The flags of the bundled logs, as replay writes them to a plain new file."""
    out = tmp_path_factory.mktemp("expected") / "flags.json"
    done = netflag("replay", BATCH, STREAM, out, "-q")
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().count(b"\n") == 14
    return out.read_bytes()


def device(folder: Path, name: str) -> Path:
    """A private ``/dev/null`` or ``/dev/full`` (same device numbers) in ``folder``: if a
    regression replaced its OUT, it would replace this node, not the machine's. Without
    the right to make one (not root), the machine's own, which nothing can replace then."""
    node = folder / name
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, {"null": 3, "full": 7}[name]))
    except PermissionError:
        return Path("/dev") / name
    return node


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


class Boom(Exception):
    pass


def test_a_new_file_appears_whole_and_a_failure_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "out.json"
    with AtomicFile(out) as handle:
        handle.write(b"one\n")
        assert not out.exists()  # not before the run succeeds
    assert out.read_bytes() == b"one\n"
    with pytest.raises(Boom), AtomicFile(out) as handle:
        handle.write(b"two\n")
        raise Boom
    assert out.read_bytes() == b"one\n" and leftovers(out.parent) == []


def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real" / "flags.json"
    target.parent.mkdir()
    target.write_bytes(b"old\n")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with AtomicFile(link) as handle:
        handle.write(b"new\n")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new\n" and leftovers(tmp_path) == leftovers(target.parent) == []


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link, target = tmp_path / "link.json", tmp_path / "later.json"
    link.symlink_to(target)
    with AtomicFile(link) as handle:
        handle.write(b"x\n")
    assert link.is_symlink() and target.read_bytes() == b"x\n"


@contextmanager
def fifo_reader(path: Path) -> Iterator[list[bytes]]:
    """A FIFO at ``path`` with a reader thread; what it read is in the list after the block."""
    os.mkfifo(path)
    got: list[bytes] = []

    def read() -> None:
        with path.open("rb") as fifo:
            got.append(fifo.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "the FIFO's reader never saw its end"


def test_a_fifo_gets_the_output_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    with fifo_reader(fifo) as got, AtomicFile(fifo) as handle:
        handle.write(b"a\n")
        handle.write(b"b\n")
    assert got == [b"a\nb\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and leftovers(tmp_path) == []


def test_a_fifo_gets_nothing_from_a_failed_run_and_its_reader_is_let_go(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    with fifo_reader(fifo) as got, pytest.raises(Boom), AtomicFile(fifo) as handle:
        handle.write(b"half\n")
        raise Boom
    assert got == [b""] and stat.S_ISFIFO(fifo.lstat().st_mode)


def test_dev_null_is_written_through_and_dev_full_is_a_one_line_error(tmp_path: Path) -> None:
    null, full = device(tmp_path, "null"), device(tmp_path, "full")
    with AtomicFile(null) as handle:
        handle.write(b"gone\n")
    assert stat.S_ISCHR(null.stat().st_mode)
    with pytest.raises(InputError) as failure, AtomicFile(full) as handle:
        handle.write(b"x" * 100_000)  # more than the buffer: the spool takes it, not /dev/full
    assert str(failure.value) == f"cannot write {full}: No space left on device"
    assert stat.S_ISCHR(full.stat().st_mode) and leftovers(tmp_path) == []


def test_a_directory_and_a_socket_are_refused(tmp_path: Path) -> None:
    with (
        pytest.raises(InputError, match=r"^cannot write .*: Is a directory$"),
        AtomicFile(tmp_path),
    ):
        pass
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(InputError, match=r"it is a socket, not a file$"), AtomicFile(path):
            pass


def test_write_all_writes_every_file_or_none(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    assert write_all({folder / "a.csv": b"a\n", folder / "b.csv": b"b\n"}) == [
        folder / "a.csv", folder / "b.csv",
    ]  # fmt: skip
    assert (folder / "a.csv").read_bytes() == b"a\n"
    (folder / "b.csv").unlink()
    (folder / "b.csv").mkdir()  # the second one cannot be written: the first stays as it was
    with pytest.raises(InputError, match="b.csv: Is a directory"):
        write_all({folder / "a.csv": b"new\n", folder / "b.csv": b"new\n"})
    assert (folder / "a.csv").read_bytes() == b"a\n" and leftovers(folder) == []


# --- netflag replay, for real -------------------------------------------------------------


def test_replay_to_dev_full_fails_in_one_line_and_leaves_the_device(tmp_path: Path) -> None:
    full = device(tmp_path, "full")
    done = netflag("replay", BATCH, STREAM, full)
    assert done.returncode == 2
    assert done.stderr == f"error: cannot write {full}: No space left on device\n".encode()
    assert stat.S_ISCHR(full.stat().st_mode) and leftovers(tmp_path) == []


def test_replay_to_dev_null_succeeds_and_leaves_the_device(tmp_path: Path) -> None:
    null = device(tmp_path, "null")
    done = netflag("replay", BATCH, STREAM, null, "--rejects", null)
    assert done.returncode == 0 and b"14 flagged" in done.stderr
    assert stat.S_ISCHR(null.stat().st_mode) and leftovers(tmp_path) == []


def test_a_link_to_a_pipe_such_as_dev_stdout_is_written_through(
    tmp_path: Path, expected: bytes
) -> None:
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")  # what /dev/stdout is, in a folder of the test's own
    done = netflag("replay", BATCH, STREAM, stdout, "-q")
    assert (done.returncode, done.stdout) == (0, expected)
    assert os.readlink(stdout) == "/proc/self/fd/1" and leftovers(tmp_path) == []


def test_replay_into_a_fifo_feeds_its_reader(tmp_path: Path, expected: bytes) -> None:
    fifo = tmp_path / "flags.fifo"
    with fifo_reader(fifo) as got:
        done = netflag("replay", BATCH, STREAM, fifo, "-q")
    assert done.returncode == 0, done.stderr
    assert got == [expected] and stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_failed_replay_into_a_fifo_gives_its_reader_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "stream.json"
    bad.write_bytes(STREAM.read_bytes() + b"{oops\n")  # --strict stops at the last line
    fifo = tmp_path / "flags.fifo"
    with fifo_reader(fifo) as got:
        done = netflag("replay", BATCH, bad, fifo, "--strict")
    assert done.returncode == 1 and done.stderr.count(b"\n") == 1
    assert got == [b""]


def test_replay_through_a_symlink_replaces_its_target(tmp_path: Path, expected: bytes) -> None:
    target = tmp_path / "kept" / "flags.json"
    target.parent.mkdir()
    target.write_bytes(b"old\n")
    link = tmp_path / "flags.json"
    link.symlink_to(target)
    done = netflag("replay", BATCH, STREAM, link, "-q")
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and target.read_bytes() == expected


def test_dash_is_stdout_and_dot_slash_dash_a_file(tmp_path: Path, expected: bytes) -> None:
    done = netflag("replay", BATCH, STREAM, "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected and done.stderr.startswith(b"netflag: 20,999 events read")
    assert list(tmp_path.iterdir()) == []
    done = netflag("replay", BATCH, STREAM, "./-", "-q", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == b""
    assert (tmp_path / "-").read_bytes() == expected


def test_rejects_and_actions_take_dash_too_but_only_one_output_may(tmp_path: Path) -> None:
    stream = tmp_path / "stream.json"
    stream.write_bytes(b"nope\n" + STREAM.read_bytes())
    done = netflag("replay", BATCH, stream, tmp_path / "flags.json", "-q", "--rejects", "-")
    assert done.returncode == 0
    assert done.stdout.startswith(b'{"file":') and done.stdout.count(b"\n") == 1
    done = netflag("replay", BATCH, stream, "-", "--actions", "-")
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr == b"error: only one output can be - (stdout)\n"


def test_an_output_named_twice_or_an_input_as_output_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "flags.json"
    done = netflag("replay", BATCH, STREAM, out, "--rejects", out)
    assert done.returncode == 2 and not out.exists()
    assert done.stderr == f"error: {out} is written twice: give each output its own file\n".encode()
    copy = tmp_path / "stream.json"
    copy.write_bytes(STREAM.read_bytes())
    done = netflag("replay", BATCH, copy, out, "--actions", copy)
    assert done.returncode == 2 and b"is also an input" in done.stderr
    assert copy.read_bytes() == STREAM.read_bytes()


def test_report_out_writes_through_a_symlinked_file_and_refuses_dash(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    folder.mkdir()
    target = tmp_path / "flags-kept.csv"
    (folder / "flags.csv").symlink_to(target)
    done = netflag("report", BATCH, STREAM, "--out", folder, "--no-html", "--json")
    assert done.returncode == 0, done.stderr
    assert (folder / "flags.csv").is_symlink() and target.read_text().startswith(
        "timestamp,line,user,amount,"
    )
    assert leftovers(folder) == []
    done = netflag("report", BATCH, STREAM, "--out", "-")
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1
    assert done.stderr.startswith(b"error: invalid value for --out: - (stdout) is not a folder")


def test_generate_refuses_dash_and_writes_into_dot_slash_dash(tmp_path: Path) -> None:
    done = netflag("generate", "-", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1 and list(tmp_path.iterdir()) == []
    done = netflag("generate", "./-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "-").iterdir()) == [
        "batch_log.json", "stream_log.json",
    ]  # fmt: skip
