"""Fixtures for the tests that start the real server: a small generated log, replay's
answers for it, and a factory of servers that are always killed at teardown."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from netflag.devtools.generate import Preset, generate
from tests.modes.serve.server import NETFLAG, Server

BAD_HOUR = b'{"event_type":"purchase", "timestamp":"2017-06-13 25:00:00", "id": "1", "amount": "5"}'
NOT_JSON = b"not json at all"


@dataclass(frozen=True)
class Logs:
    """A generated batch log and stream lines (no line endings), bad lines mixed in."""

    batch: Path
    lines: list[bytes]
    folder: Path


def replay(batch: Path, lines: list[bytes], folder: Path, *options: str) -> Path:
    """Run ``netflag replay`` of ``batch`` + ``lines`` into ``folder``; the flags file."""
    folder.mkdir(parents=True, exist_ok=True)
    stream = folder / "stream.json"
    stream.write_bytes(b"".join(line + b"\n" for line in lines))
    out = folder / "flagged_purchases.json"
    subprocess.run([*NETFLAG, "replay", str(batch), str(stream), str(out), "-q", *options],
                   check=True, stderr=subprocess.DEVNULL)  # fmt: skip
    return out


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Logs:
    folder = tmp_path_factory.mktemp("serve-logs")
    made = generate(folder, Preset(users=200, batch_lines=2_000, stream_lines=3_000), seed=11)
    lines = []
    for i, line in enumerate(made.stream_path.read_bytes().splitlines()):
        lines.append(line)
        if i % 400 == 7:
            lines.append(BAD_HOUR)
        if i % 400 == 207:
            lines.append(NOT_JSON)
    return Logs(made.batch_path, lines, folder)


ServerFactory = Callable[..., Server]


@pytest.fixture
def serve(logs: Logs, tmp_path: Path) -> Iterator[ServerFactory]:
    """``serve(*options, token=..., state=..., tls=...)``: a started server; all are killed at
    teardown."""
    started: list[Server] = []

    def start(
        *options: str,
        token: str | None = None,
        state: Path | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> Server:
        state = state or tmp_path / f"state{len(started)}"
        if token is not None:
            token_file = tmp_path / f"token{len(started)}"
            token_file.write_text(token + "\n")
            token_file.chmod(0o600)
            options = (*options, "--token-file", str(token_file))
        server = Server(logs.batch, state, *options, token=token, tls=tls)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.kill()
