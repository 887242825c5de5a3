"""routing/ stays pure: every module imports only the standard library and routing itself.

So the engine runs with no server, no Tornado and none of the desk, and its modules can be
split or moved without a dependency creeping in (issue 11 split engine.py into several).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROUTING = Path(__file__).resolve().parents[2] / "routing"
MODULES = sorted(ROUTING.glob("*.py"))


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path.name}: relative import; write `from routing...`")
            roots.add((node.module or "").split(".")[0])
    return roots


def test_the_engine_is_split_into_modules() -> None:
    names = {path.stem for path in MODULES}
    assert {"engine", "engine_state", "matching", "explaining", "views", "snapshots"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_imports_only_stdlib_and_routing(path: Path) -> None:
    foreign = {root for root in imported_roots(path) if root != "routing" and root not in sys.stdlib_module_names}
    assert not foreign, f"{path.name} imports {sorted(foreign)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_has_a_docstring(path: Path) -> None:
    assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), f"{path.name} says nothing of what it owns"
