"""schemathesis against the schema the real server serves: no 5xx, and every answer
(status code, content type, headers, body) is one the schema declares.

It runs the ``schemathesis`` command (its examples, coverage and fuzzing
phases, a fixed seed, a bounded number of cases per operation) against a
server that already holds events, so the queries have flags to find.
``/v1/flags/stream`` is left out: it never ends.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.modes.serve.conftest import Logs, ServerFactory

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "unsupported_method",
]
TOKEN = "schema-token-0123456789abcdef"  # noqa: S105 (a test token)


def schemathesis() -> str:
    found = Path(sys.executable).with_name("schemathesis")
    return str(found) if found.exists() else shutil.which("schemathesis") or "schemathesis"


def run_schemathesis(url: str, tmp_path: Path, *options: str) -> None:
    done = subprocess.run(
        [
            schemathesis(),
            "run",
            f"{url}/openapi.json",
            "--checks",
            ",".join(CHECKS),
            "--exclude-path",
            "/v1/flags/stream",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "30",
            "--seed",
            "20240610",
            # One worker: CPython 3.11's ast.parse is not thread-safe (hypothesis calls it to
            # describe lambdas; two threads at once raise "AST constructor recursion depth
            # mismatch", python/cpython#106905), and schemathesis runs workers as threads.
            "--workers",
            "1",
            "--request-timeout",
            "20",
            "--no-color",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # its report folder, if any, goes there
    )
    assert done.returncode == 0, done.stdout[-20_000:] + done.stderr[-5_000:]
    counted = re.search(r"(\d+) generated, (\d+) passed\s", done.stdout)
    assert counted and counted[1] == counted[2], done.stdout[-20_000:]
    assert int(counted[1]) >= 100, done.stdout[-20_000:]


def test_every_answer_conforms_to_the_served_schema(
    serve: ServerFactory, logs: Logs, tmp_path: Path
) -> None:
    server = serve()
    with server.client() as client:
        body = b"".join(line + b"\n" for line in logs.lines[:1500])
        answer = client.post(
            "/v1/events", content=body, headers={"Content-Type": "application/x-ndjson"}
        )
        assert answer.status_code == 200
        assert any(result.get("flagged") for result in answer.json()["results"])
    run_schemathesis(server.url, tmp_path)
    assert httpx.get(server.url + "/readyz").status_code == 200  # still standing
    assert "Traceback" not in server.stderr()


def test_with_a_token_every_answer_conforms_too(serve: ServerFactory, tmp_path: Path) -> None:
    server = serve(token=TOKEN)
    run_schemathesis(server.url, tmp_path, "--header", f"Authorization: Bearer {TOKEN}")
    assert "Traceback" not in server.stderr()
