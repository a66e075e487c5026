"""The analysis package stays a library: no CLI or terminal code, only lazy plotly."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "src" / "netflag" / "analysis"
ALLOWED = (
    "netflag.engine",
    "netflag.errors",
    "netflag.io",
    "netflag.pipeline",
    "netflag.progress",  # phases as plain calls: the CLI draws them
    "netflag.replay",
    "netflag.analysis",
    "netflag.distributed",  # workers on Ray: imported only when a command asks for them
)
THIRD_PARTY = {"orjson", "plotly", "sortedcontainers"}


def test_analysis_imports_no_cli_and_plotly_only_lazily() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "__future__":
                    continue
                assert name.startswith(ALLOWED) or top in THIRD_PARTY, (path.name, name)
                # plotly is an optional extra: never imported when the module loads
                assert top != "plotly" or id(node) not in top_level, (path.name, name)
