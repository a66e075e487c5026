"""Source and sink URLs: one reading for both, and every mistake refused in one line.

Issue 18: ``--sink ftp:/x`` made a folder ``ftp:``, ``redis:/localhost:6379/flags``
wrote to a stream named ``localhost:6379/flags``, and the same form as a
source waited silently on it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from netflag.cli import app
from netflag.errors import InputError
from netflag.io.redis_client import parse_url
from netflag.io.sinks import FileSink, StdoutSink, open_sink
from netflag.io.sources import FileSource, StdinSource, open_source
from netflag.io.urls import classify, forms
from tests import paths

BATCH = paths.BUNDLED / "batch_log.json"


@pytest.mark.parametrize(
    ("url", "kind", "text"),
    [
        ("-", "stdio", "-"),
        ("file:x.json", "file", "x.json"),
        ("x.json", "file", "x.json"),
        ("file:ftp:/x", "file", "ftp:/x"),  # a file whose name starts like a scheme...
        ("./ftp:/x", "file", "./ftp:/x"),  # ...written either way
        ("out/a:b.json", "file", "out/a:b.json"),
        ("redis://localhost:6379/flags", "redis", "redis://localhost:6379/flags"),
        ("REDIS://h/s", "redis", "REDIS://h/s"),
    ],
)
def test_accepted_forms(url: str, kind: str, text: str) -> None:
    target = classify(url)
    assert (target.kind, target.text) == (kind, text)


def test_sources_and_sinks_open_the_same_forms(tmp_path: Path) -> None:
    path = tmp_path / "a:b.json"
    for url in (f"file:{path}", str(path)):
        assert isinstance(open_source(url), FileSource)
        assert isinstance(open_sink(url), FileSink)
    assert isinstance(open_source("-"), StdinSource)
    assert isinstance(open_sink("-"), StdoutSink)


REFUSED = [
    ("ftp:/x", "unknown scheme 'ftp:' (for a file of that name: file:ftp:/x or ./ftp:/x)"),
    ("ftp://host/x", "unknown scheme 'ftp:'"),
    ("s3:b/k", "unknown scheme 's3:' (for a file of that name: file:s3:b/k or ./s3:b/k)"),
    ("redis:/localhost:6379/flags", "a redis: URL needs //HOST"),
    ("redis:localhost/flags", "a redis: URL needs //HOST"),
    ("redis:///flags", "a redis: URL needs //HOST"),
    ("redis://", "a redis: URL needs //HOST"),
    ("file:", "no path after file:"),
    ("file:///tmp/x", "file: takes a path, not a host: write file:/tmp/x"),
    ("", "empty"),
]  # fmt: skip


@pytest.mark.parametrize(("url", "problem"), REFUSED)
def test_mistakes_are_refused_alike_for_sources_and_sinks(url: str, problem: str) -> None:
    for role, opener in (("SOURCE", open_source), ("--sink", open_sink)):
        with pytest.raises(InputError) as error:
            opener(url, role)
        assert str(error.value) == f"{role} {url!r}: {problem}; use {forms()}"
    assert forms() == "-, file:PATH, PATH, redis://HOST[:PORT]/STREAM or kafka://HOST:PORT/TOPIC"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis://:6379/s", "the HOST is missing"),
        ("redis://h:0/s", "the port must be a number from 1 to 65535"),
        ("redis://h:70000/s", "the port must be a number from 1 to 65535"),
        ("redis://h:/s", "the port must be a number from 1 to 65535"),
        ("redis://h:6379", "the STREAM is missing"),
        ("redis://h/s#x", "unexpected #x"),
        ("redis://h/s?group=", "group is empty"),
        ("redis://h/s?db=1&db=2", "db given twice"),
        ("redis://h/s?db=one", "db must be a number, not 'one'"),
        ("redis://h/s?block=1", "unknown option 'block' (group, consumer, db)"),
    ],
)
def test_redis_urls_drop_nothing_silently(url: str, problem: str) -> None:
    with pytest.raises(InputError) as error:
        parse_url(url)
    example = "redis://HOST[:PORT]/STREAM[?group=G&consumer=C&db=N]"
    assert str(error.value) == f"{url}: {problem}, as in {example}"


def test_a_password_in_a_redis_url_is_refused_without_being_echoed() -> None:
    with pytest.raises(InputError) as error:
        parse_url("redis://user:secret@h:6379/s")
    assert "secret" not in str(error.value) and "***@h:6379" in str(error.value)
    assert parse_url("redis://h/s").port == 6379  # the port is optional, HOST is not


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (["-", "--sink", "ftp:/x"], "error: --sink 'ftp:/x': unknown scheme 'ftp:'"),
        (["-", "--rejects", "ftp:/tmp/r"], "error: --rejects 'ftp:/tmp/r': unknown scheme"),
        (["-", "--actions", "ftp:/a"], "error: --actions 'ftp:/a': unknown scheme"),
        (["-", "--sink", "redis:/localhost:6379/flags"], "error: --sink 'redis:/localhost"),
        (["redis:/localhost:6379/events"], "error: SOURCE 'redis:/localhost:6379/events'"),
    ],
)
def test_live_refuses_a_bad_url_in_one_line_and_creates_nothing(
    args: list[str], start: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["live", str(BATCH), *args, "--idle-timeout", "0"])
    assert result.exit_code == 2
    assert result.stderr.startswith(start) and result.stderr.count("\n") == 1
    assert result.stderr.endswith(f"; use {forms()}\n")
    assert list(tmp_path.iterdir()) == []  # no folder named ftp:, nothing read or written
