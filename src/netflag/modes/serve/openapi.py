"""The service's OpenAPI schema without a running service.

It prints the schema as sorted, indented JSON, the text kept in
``docs/openapi.json`` (``tests/modes/serve/test_openapi.py`` fails when they drift)::

    python -m netflag.modes.serve.openapi > docs/openapi.json

The app is built around a service that is never started: its routes only
close over it, and building the schema calls none of them, so nothing is read,
written or locked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from netflag.modes.serve.app import create_app
from netflag.modes.serve.service import Service

REGENERATE = "python -m netflag.modes.serve.openapi > docs/openapi.json"


def schema() -> dict[str, Any]:
    """The OpenAPI schema ``netflag serve`` serves at ``/openapi.json``."""
    unused = Path("/nonexistent/netflag-schema-only")
    found: dict[str, Any] = create_app(Service(unused, unused)).openapi()
    return found


def schema_text(value: dict[str, Any] | None = None) -> str:
    """The schema as kept in ``docs/openapi.json``: sorted keys, two-space indents."""
    return json.dumps(schema() if value is None else value, indent=2, sort_keys=True) + "\n"


def main() -> None:
    sys.stdout.write(schema_text())


if __name__ == "__main__":
    main()
