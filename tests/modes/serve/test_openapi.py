"""``docs/openapi.json`` is the schema the service serves: regenerate it when it drifts."""

from __future__ import annotations

import json
import subprocess
import sys

from netflag.modes.serve.openapi import REGENERATE, schema_text
from tests import paths
from tests.modes.serve.conftest import ServerFactory

KEPT = paths.DOCS / "openapi.json"
DRIFTED = f"docs/openapi.json is not the service's schema; regenerate it: {REGENERATE}"


def test_the_kept_schema_is_the_generated_one() -> None:
    assert KEPT.read_text() == schema_text(), DRIFTED


def test_the_command_prints_the_kept_schema() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "netflag.modes.serve.openapi"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == KEPT.read_text(), DRIFTED


def test_the_served_schema_is_the_kept_one(serve: ServerFactory) -> None:
    server = serve()
    with server.client() as client:
        served = client.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(KEPT.read_text()), DRIFTED
    paths = set(served.json()["paths"])
    assert {"/v1/events", "/v1/score", "/v1/explain", "/v1/flags", "/v1/flags/stream",
            "/v1/users/{user}/feed", "/v1/users/{user}/recommendations", "/v1/stats",
            "/healthz", "/readyz", "/metrics"} == paths  # fmt: skip
