"""``--ray-token-file`` on every command that takes ``--ray``, and Ray's token variables:
mistakes found before Ray starts, each in one line (the real cluster: test_ray_cluster.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from netflag.cli import app


def commands(folder: Path) -> dict[str, list[str]]:
    """Every command that takes --ray, over a small log (none of them gets to read it)."""
    batch, stream = folder / "batch.json", folder / "stream.json"
    batch.write_text('{"D":"1", "T":"2"}\n')
    stream.write_text("")
    logs = [str(batch), str(stream)]
    return {
        "replay": ["replay", *logs, str(folder / "out.json")],
        "report": ["report", *logs, "--json"],
        "sweep": ["sweep", *logs, "--json"],
        "live": ["live", str(batch), str(stream), "--state", str(folder / "state")],
    }


def one_line_error(args: list[str], message: str) -> None:
    outcome = CliRunner().invoke(app, args)
    assert outcome.exit_code == 2, outcome.output
    assert outcome.output == f"error: {message}\n"


def test_a_token_file_that_cannot_serve_is_one_line_on_every_command(tmp_path: Path) -> None:
    missing, empty = tmp_path / "no-such-token", tmp_path / "empty-token"
    empty.write_text("\n")
    token = tmp_path / "token"
    token.write_text("f" * 64)
    on = ["--workers", "2", "--ray", "127.0.0.1:1"]
    for name, args in commands(tmp_path).items():
        one_line_error(
            [*args, *on, "--ray-token-file", str(missing)],
            f"--ray-token-file {missing}: cannot read it: No such file or directory",
        )
        one_line_error(
            [*args, *on, "--ray-token-file", str(empty)],
            f"--ray-token-file {empty}: the file is empty; copy the head's ~/.ray/auth_token"
            " into it (`ray get-auth-token` on the head prints it)",
        )
        one_line_error(
            [*args, "--workers", "2", "--ray-token-file", str(token)],
            f"--ray-token-file {token} needs --ray ADDRESS: a local Ray makes its own token",
        )
        sharded = args[0] in ("replay", "live")  # the commands that also take --shards
        one_line_error(
            [*args, "--ray-token-file", str(token)],
            "--ray-token-file needs --workers N or --shards P: how many to run"
            if sharded
            else "--ray-token-file needs --workers N: how many workers to run on it",
        )
        assert not (tmp_path / "out.json").exists(), name


@pytest.mark.parametrize("ray", [["--ray", "127.0.0.1:1"], []])
def test_ray_auth_token_path_naming_no_file_is_one_line_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ray: list[str]
) -> None:
    """Given such a path, Ray raises from deep in ray.init (or aborts the process in C++);
    for a local Ray as much as for a cluster."""
    missing = tmp_path / "gone"
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(missing))
    monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)
    args = commands(tmp_path)["replay"]
    one_line_error(
        [*args, "--workers", "2", *ray],
        f"RAY_AUTH_TOKEN_PATH={missing}: cannot read it: No such file or directory",
    )
    assert not (tmp_path / "out.json").exists()
