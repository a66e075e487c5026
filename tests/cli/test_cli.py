"""The command line as a user meets it: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from netflag.cli import app
from tests import paths

OFFICIAL = paths.OFFICIAL / "log_input"
runner = CliRunner()


def invoke(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def test_replay_writes_flags_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "flagged.json"
    result = invoke("replay", OFFICIAL / "batch_log.json", OFFICIAL / "stream_log.json", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_text().endswith('"mean": "29.10", "sd": "21.46"}\n')
    assert result.stderr.startswith("netflag: 7 events read, 1 purchase checked, 1 flagged")
    assert result.stdout == ""


def test_quiet_and_overrides(tmp_path: Path) -> None:
    out = tmp_path / "flagged.json"
    batch, stream = OFFICIAL / "batch_log.json", OFFICIAL / "stream_log.json"
    result = invoke("replay", batch, stream, out, "-q", "--D", "1", "--T", "3", "--k", "100")
    assert (result.exit_code, result.stderr, out.read_text()) == (0, "", "")


def test_bad_lines_are_listed_on_stderr(tmp_path: Path) -> None:
    stream = tmp_path / "stream.json"
    stream.write_text('{"event_type":"purchase"}\n\nnope\n')
    result = invoke("replay", OFFICIAL / "batch_log.json", stream, tmp_path / "o.json")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines[0] == f"{stream}:1: missing field 'timestamp'"
    assert lines[1].startswith(f"{stream}:3: not valid JSON")
    assert "2 rejected" in lines[2]


def test_strict_exits_1_with_one_line(tmp_path: Path) -> None:
    stream = tmp_path / "stream.json"
    stream.write_text('{"event_type":"purchase"}\n')
    result = invoke("replay", OFFICIAL / "batch_log.json", stream, tmp_path / "o.json", "--strict")
    assert result.exit_code == 1
    assert result.stderr == f"error: {stream}:1: missing field 'timestamp'\n"


@pytest.mark.parametrize(
    ("batch_text", "message"),
    [(None, "cannot read"), ('{"D":"3"}\n', "missing parameter T"), ("", "empty file")],
)
def test_input_and_params_errors_exit_2(
    tmp_path: Path, batch_text: str | None, message: str
) -> None:
    batch = tmp_path / "batch.json"
    if batch_text is not None:
        batch.write_text(batch_text)
    result = invoke("replay", batch, OFFICIAL / "stream_log.json", tmp_path / "o.json")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert result.stderr.startswith("error: ")


def test_invalid_option_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("replay", "a", "b", "c", "--D", "0")
    assert result.exit_code == 2 and "--D" in result.stderr


def test_generate(tmp_path: Path) -> None:
    result = invoke("generate", tmp_path / "data", "--preset", "small", "--seed", "3")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "data" / "batch_log.json").stat().st_size > 1_000_000
    assert "wrote 20,000 batch lines and 1,000 stream lines" in result.stderr
    bad = invoke("generate", tmp_path / "x", "--preset", "huge")
    assert bad.exit_code == 2 and "unknown preset 'huge'" in bad.stderr


def test_python_dash_m_without_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "netflag", "replay", "nope.json", "nope.json", tmp_path / "o.json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == "error: cannot read nope.json: No such file or directory\n"


def test_replay_writes_actions_for_each_flag(tmp_path: Path) -> None:
    out, actions = tmp_path / "flagged.json", tmp_path / "actions.jsonl"
    batch, stream = OFFICIAL / "batch_log.json", OFFICIAL / "stream_log.json"
    result = invoke("replay", batch, stream, out, "-q", "--actions", actions)
    assert result.exit_code == 0, result.stderr
    flagged = out.read_text().rstrip("\n")
    assert (
        actions.read_text() == f'{{"flagged": {flagged}, "feed": ["1"], "recommendations": []}}\n'
    )


def test_version() -> None:
    import netflag

    result = invoke("--version")
    expected = f"netflag {netflag.__version__} (compiled core)\n"
    assert (result.exit_code, result.stdout) == (0, expected)


def test_output_that_is_a_directory_or_an_input_is_refused_up_front(tmp_path: Path) -> None:
    batch, stream = OFFICIAL / "batch_log.json", OFFICIAL / "stream_log.json"
    result = invoke("replay", batch, stream, tmp_path)
    assert (
        result.exit_code == 2
        and result.stderr == f"error: cannot write {tmp_path}: Is a directory\n"
    )
    copy = tmp_path / "stream.json"
    copy.write_bytes(stream.read_bytes())
    result = invoke("replay", batch, copy, copy)
    assert result.exit_code == 2 and "is also an input" in result.stderr
    assert copy.read_bytes() == stream.read_bytes()


def test_bad_k_is_blamed_on_the_option_not_the_file(tmp_path: Path) -> None:
    batch, stream = OFFICIAL / "batch_log.json", OFFICIAL / "stream_log.json"
    result = invoke("replay", batch, stream, tmp_path / "o.json", "--k", "x")
    assert result.exit_code == 2
    assert result.stderr == "error: k must be a non-negative decimal such as 3 or 2.5, got 'x'\n"


def test_the_issues_5000_deep_line_is_one_reject_not_a_traceback(tmp_path: Path) -> None:
    stream, out = tmp_path / "stream.json", tmp_path / "flagged.json"
    deep = b'{"a":' * 5_000 + b"1" + b"}" * 5_000
    stream.write_bytes(deep + b"\n" + (OFFICIAL / "stream_log.json").read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "netflag", "replay", OFFICIAL / "batch_log.json", stream, out],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(f"{stream}:1: nested more than 64 levels")
    assert "Traceback" not in done.stderr and "1 rejected" in done.stderr
    assert out.read_text().endswith('"mean": "29.10", "sd": "21.46"}\n')


def complete(words: str) -> list[str]:
    """What bash completion offers for ``words`` (the last one being typed)."""
    env = {**os.environ, "_NETFLAG_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split(" ")) - 1)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "netflag"], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_shell_completion_knows_every_command_and_option() -> None:
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert complete("netflag ") == list(commands)
    assert complete("netflag --") == [
        "--version", "--install-completion", "--show-completion", "--help"
    ]  # fmt: skip
    assert complete("netflag re") == ["replay", "report"]
    for name, command in commands.items():
        flags = [f for p in command.params for f in (*p.opts, *p.secondary_opts)]
        options = [f for f in flags if f.startswith("--")]
        assert complete(f"netflag {name} --") == [*options, "--help"], name
    assert complete("netflag live b s --log-format ") == ["text", "json"]
    assert complete("netflag generate out --preset ") == ["small", "medium", "large", "xl"]


def test_show_completion_prints_a_script_for_the_shell() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "netflag", "--show-completion", "bash"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "_netflag_completion" in done.stdout and "complete_bash" in done.stdout


# --- usage errors, help, and the words of the summaries -------------------------------------


PRESETS = "small, medium, large, xl"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["replay", "--foo"], "no such option: --foo (see netflag replay --help)"),
        (["frob"], "no such command 'frob' (see netflag --help)"),
        (["repaly"], "no such command 'repaly'; did you mean 'replay'? (see netflag --help)"),
        (["replay", "a"], "missing argument STREAM (see netflag replay --help)"),
        (["replay", "a", "b", "c", "-D", "x"], "invalid value for --D: 'x' is not a valid integer"),
        (["replay", "a", "b", "c", "-T", "1"], "invalid value for --T: must be at least 2, got 1"),
        (
            ["live", "b", "s", "--log-format", "xml"],
            "invalid value for --log-format: 'xml' is not one of 'text', 'json'",
        ),
        (
            ["generate", "x", "--preset", "huge"],
            f"invalid value for --preset: unknown preset 'huge'; choose one of {PRESETS}",
        ),
        (["explain", "b"], "give either --line or --user (with --amount)"),
    ],
)
def test_usage_errors_are_one_line_in_netflags_voice(args: list[str], line: str) -> None:
    result = invoke(*args)
    assert (result.exit_code, result.stderr, result.stdout) == (2, f"error: {line}\n", "")


def test_a_usage_error_from_the_installed_command_is_one_line_too() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "netflag", "replay", "a", "b", "c", "--nope"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: no such option: --nope; did you mean --no-progress? (see netflag replay --help)\n"
    )


def test_bare_netflag_prints_the_help_and_is_no_error() -> None:
    result = invoke()
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == invoke("--help").stdout and "Commands:" in result.stdout


def listed_commands(help_text: str) -> dict[str, str]:
    """The Commands section of ``netflag --help``: each name and its text, wrapped lines joined."""
    listed: dict[str, str] = {}
    name = ""
    for row in help_text.partition("Commands:\n")[2].splitlines():
        if row.startswith("  ") and not row.startswith("   "):
            name, _, text = row.strip().partition(" ")
            listed[name] = text.strip()
        elif row.strip():
            listed[name] += " " + row.strip()
    return listed


def test_top_level_help_lists_each_commands_whole_first_line() -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    listed = listed_commands(invoke("--help").stdout)
    assert list(listed) == list(commands)
    for name, command in commands.items():
        first = " ".join(command.help.split("\n\n")[0].split())
        assert listed[name] == first, name
        assert not listed[name].endswith("..."), name
    replay_line = "Replay BATCH then STREAM and write every flagged purchase to OUT."
    assert (
        listed["replay"] == replay_line
        and f"* `replay`: {replay_line}" in (paths.DOCS / "cli.md").read_text()
    )


def test_explain_says_one_user_and_counts_with_separators() -> None:
    batch, stream = OFFICIAL / "batch_log.json", OFFICIAL / "stream_log.json"
    result = invoke("explain", batch, stream, "--line", "1")
    assert result.exit_code == 0, result.stderr
    assert "1 user within distance 3" in result.stdout and "1 users" not in result.stdout
    assert "3 purchases" in result.stdout


def test_a_directory_as_batch_log_is_named_a_directory(tmp_path: Path) -> None:
    stream = OFFICIAL / "stream_log.json"
    for command in (["sweep"], ["report"], ["explain", "--line", "1"], ["replay"]):
        out = [tmp_path / "o.json"] if command == ["replay"] else []
        result = invoke(command[0], tmp_path, stream, *out, *command[1:])
        assert result.exit_code == 2, command
        assert result.stderr == f"error: cannot read {tmp_path}: Is a directory\n", command
        result = invoke(command[0], OFFICIAL / "batch_log.json", tmp_path, *out, *command[1:])
        assert result.stderr == f"error: cannot read {tmp_path}: Is a directory\n", command


def test_a_missing_token_file_is_one_clean_line(tmp_path: Path) -> None:
    from netflag.cli.listen import read_token
    from netflag.errors import InputError

    missing = tmp_path / "token"
    with pytest.raises(InputError) as failure:
        read_token(missing)
    assert str(failure.value) == f"cannot read the token file {missing}: No such file or directory"
    missing.write_bytes(b"\xff" * 20)
    with pytest.raises(InputError) as failure:
        read_token(missing)
    assert str(failure.value) == f"cannot read the token file {missing}: it is not UTF-8 text"


def test_produce_says_one_event(tmp_path: Path, redis_server) -> None:
    one = tmp_path / "one.json"
    one.write_bytes((OFFICIAL / "stream_log.json").read_bytes())
    url = redis_server.url("events")
    result = invoke("produce", one, url, "--rate", "0")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(f"netflag: pushed 1 event to {url} in ")
