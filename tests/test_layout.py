"""Structure rules: the public API, run.sh's dependency list, docs in step (layers: test_layers)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import typer.main

import netflag
from netflag.cli import app

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "src" / "netflag"


def test_public_api_is_pinned() -> None:
    assert sorted(netflag.__all__) == netflag.__all__
    assert netflag.__all__ == [
        "Amount", "Baseline", "Befriend", "CheckpointError", "Decision", "Engine", "EngineState",
        "Event", "InputError", "NetflagError", "Params", "ParamsError", "Purchase", "RejectedLine",
        "Rejection", "ReplaySummary", "Unfriend", "__version__", "replay",
    ]  # fmt: skip
    for name in netflag.__all__:
        assert hasattr(netflag, name)


def test_version_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert netflag.__version__ == project["version"]


def test_run_sh_installs_exactly_the_project_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = re.search(r'^DEPENDENCIES="([^"]*)"', (ROOT / "run.sh").read_text(), re.M)
    assert listed is not None
    assert listed.group(1).split() == project["dependencies"]
    tools = re.search(r'^BUILD_TOOLS="([^"]*)"', (ROOT / "run.sh").read_text(), re.M)
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    assert tools is not None and tools.group(1).split() == build


def test_every_command_and_option_is_documented_with_help() -> None:
    docs = (ROOT / "docs" / "cli.md").read_text()
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert commands
    for name, command in commands.items():
        assert f"netflag {name}" in docs, name
        assert command.help, name
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, (name, param.name)
                for flag in param.opts:
                    assert flag in docs, (name, flag)
