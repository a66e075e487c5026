"""docs/service.md's examples are one session: each command is run, in order, against a
real ``netflag serve`` started as the page starts it, and its answer must read as shown
(``...`` stands for text the page leaves out)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from netflag.devtools.servers import native_env
from tests.modes.serve.server import Server
from tests.paths import ROOT

PAGE = ROOT / "docs" / "service.md"
DOCUMENTED = "localhost:8080"


def console_blocks(text: str) -> list[list[str]]:
    return [block.splitlines() for block in re.findall(r"```console\n(.*?)```", text, re.S)]


def commands(block: list[str]) -> list[tuple[str, list[str]]]:
    """``(command, shown output lines)`` of each ``$ `` line, continuations joined."""
    found: list[tuple[str, list[str]]] = []
    continuing = False
    for line in block:
        if line.startswith("$ "):
            found.append((line[2:], []))
            continuing = line.endswith("\\")
        elif continuing or (found and line.startswith("    ") and not found[-1][1]):
            found[-1] = (found[-1][0] + "\n" + line, [])
            continuing = line.endswith("\\")
        elif found:
            found[-1][1].append(line)
    return found


def pattern(lines: list[str]) -> re.Pattern[str]:
    parts = [re.escape(part) for part in "\n".join(lines).strip().split("...")]
    return re.compile(".*".join(parts), re.S)


def without_comment(command: str) -> str:
    return re.sub(r"\s{2,}# [^\n]*$", "", command)


def test_the_pages_examples_are_what_its_commands_answer(tmp_path: Path) -> None:
    blocks = console_blocks(PAGE.read_text())
    start, shown = next(c for c in commands(blocks[0]) if c[0].startswith("netflag serve"))
    words = shlex.split(without_comment(start))
    assert words[3] == "--state", start
    with Server(ROOT / words[2], tmp_path / "serve-state") as server:
        first = next(line for line in server.stderr().splitlines() if "http://" in line)
        assert pattern(shown).fullmatch(first.replace(f":{server.port} ", ":8080 ")), first
        ran = 0
        for block in blocks[1:]:
            for command, output in commands(block):
                if DOCUMENTED not in command:
                    continue
                command = without_comment(command).replace(DOCUMENTED, f"127.0.0.1:{server.port}")
                if " -sN " in command:
                    command = command.replace(" -sN ", " -sN --max-time 2 ")
                done = subprocess.run(  # curl: a native program, as the servers are
                    ["bash", "-c", command],
                    capture_output=True,
                    text=True,
                    timeout=30,
                    env=native_env(),
                )
                assert pattern(output).fullmatch(done.stdout.strip()), (command, done.stdout)
                ran += 1
    assert ran >= 8
