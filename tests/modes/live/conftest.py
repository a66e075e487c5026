"""The live tests' shared log: generated, with bad lines and finer amounts, and replay's output."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from netflag.devtools.generate import Preset, generate
from tests.modes.live.runs import NETFLAG

BAD_HOUR = (
    b'{"event_type":"purchase", "timestamp":"2017-06-13 25:00:00", "id": "1", "amount": "5"}\n'
)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | bytes | list[bytes]]:
    """A small generated log with bad lines and finer amounts mixed in, and replay's output."""
    folder = tmp_path_factory.mktemp("logs")
    made = generate(folder, Preset(users=200, batch_lines=2_000, stream_lines=3_000), seed=11)
    lines: list[bytes] = []
    for i, line in enumerate(made.stream_path.read_bytes().splitlines(keepends=True)):
        if i % 900 == 450 and b"purchase" in line:  # a JSON number with 3 decimals: rescales
            line = re.sub(rb'"amount": "[0-9.]+"', b'"amount": 7.125', line)
        lines.append(line)
        if i % 400 == 7:
            lines.append(BAD_HOUR)
        if i % 400 == 207:
            lines.append(b"not json at all\n")
    stream = folder / "stream.json"
    stream.write_bytes(b"".join(lines))
    out, rejects = folder / "expected.json", folder / "expected_rejects.json"
    subprocess.run([*NETFLAG, "replay", made.batch_path, stream, out, "--rejects", rejects, "-q"],
                   check=True)  # fmt: skip
    flags = out.read_bytes()
    assert flags.count(b"\n") > 30, "the data should flag enough purchases to mean something"
    return {"batch": made.batch_path, "stream": stream, "lines": lines, "flags": flags,
            "rejects": rejects.read_bytes()}  # fmt: skip
