"""The house rules: one layer per folder, imports only downwards, no circle, small modules.

The layers, bottom to top, are mapped in docs/design.md ("The layers"). Every
import counts: at the top of a module, inside a function, or for type
checking only, since a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from tests import paths

PACKAGE = paths.ROOT / "src" / "netflag"

# Bottom to top: a module may import its own layer and the layers below it.
LAYERS = [
    ["netflag.errors", "netflag.version"],
    ["netflag.engine"],
    ["netflag.io"],
    ["netflag.runtime"],
    ["netflag.distributed"],
    ["netflag.analysis"],
    ["netflag.modes"],
    ["netflag.devtools"],
    ["netflag.cli"],
]
FACE = {"netflag", "netflag.__main__"}  # the package's face: it may name any layer
MODES = "netflag.modes"  # its folders (replay, live, serve) never import one another

# Third-party packages the two lowest layers may use; the rest may use any dependency.
THIRD_PARTY = {
    "netflag.engine": {"numpy", "sortedcontainers"},  # numpy: the shards' message arrays
    "netflag.io": {"confluent_kafka", "numpy", "orjson", "polars", "redis"},
}
LAZY_ONLY = {"plotly", "matplotlib", "ray"}  # optional extras: imported only when asked for
MAX_LINES, MAX_ROOT_MODULES = 300, 2  # the issue of the house: no module over ~300 lines


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports(path: Path) -> list[tuple[str, bool]]:
    """``(module, at import time)`` for every import in ``path``; ``from a import b`` names
    ``a.b`` when that is a module of the package."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            subs = [f"{node.module}.{alias.name}" for alias in node.names]
            found += [(sub, id(node) in top) for sub in subs if sub in MODULES]
            if not all(sub in MODULES for sub in subs):
                found.append((node.module, id(node) in top))
    return found


def rank(module: str) -> int:
    for index, layer in enumerate(LAYERS):
        if any(module == name or module.startswith(name + ".") for name in layer):
            return index
    raise AssertionError(f"{module} is on no layer: add it to LAYERS and to docs/design.md")


def mode_of(module: str) -> str | None:
    parts = module.split(".")
    return ".".join(parts[:3]) if module.startswith(MODES + ".") and len(parts) > 2 else None


def graph() -> dict[str, set[str]]:
    return {
        name: {target for target, _ in imports(path) if target in MODULES}
        for name, path in MODULES.items()
    }


def test_every_import_goes_down_the_layers_and_no_mode_imports_another() -> None:
    climbs = []
    for name, targets in graph().items():
        if name in FACE:
            continue
        for target in targets:
            crosses = mode_of(name) and mode_of(target) and mode_of(name) != mode_of(target)
            if rank(target) > rank(name) or crosses:
                climbs.append(f"{name} -> {target}")
    assert not climbs, climbs


def test_there_is_no_import_circle() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    circles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not circles, circles


def test_the_low_layers_use_only_their_own_third_party_packages() -> None:
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    for layer, allowed in THIRD_PARTY.items():
        for name, path in MODULES.items():
            if not (name == layer or name.startswith(layer + ".")):
                continue
            for target, _ in imports(path):
                top = target.split(".")[0]
                if top in stdlib or top == "netflag":
                    continue
                assert top in allowed, (name, target)


def test_optional_extras_are_imported_only_when_asked_for() -> None:
    for name, path in MODULES.items():
        for target, at_import_time in imports(path):
            if target.split(".")[0] in LAZY_ONLY:
                assert not at_import_time, (name, target)


def test_modules_stay_small_and_the_package_root_holds_few() -> None:
    long = {
        str(path.relative_to(PACKAGE)): lines
        for path in [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.pyx"), *PACKAGE.rglob("*.pxi")]
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long
    root = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert len(root) <= MAX_ROOT_MODULES, root
