"""The consoles' ES modules load as served, with no build step: every import names a module of the
import map (handlers/pages.py MODULES, which base.html writes out with versioned URLs), each map
entry is a file, and each imported name is one that module exports. A miss here is otherwise a
console that stays blank in the browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handlers.pages import MODULES

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
JS_FILES = sorted((STATIC / "js").rglob("*.js"))
# A module this long is doing more than one thing (issue 11: panels of at most ~300 lines).
MAX_MODULE_LINES = 330

IMPORT = re.compile(r'^import\s*(?:\{([^}]*)\}\s*from\s*)?"([^"]+)";', re.M | re.S)
EXPORT = re.compile(r"^export\s+(?:async\s+)?(?:function|class|const|let)\s+(\w+)", re.M)
EXPORT_LIST = re.compile(r"^export\s*\{([^}]*)\}", re.M)


def exports_of(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    names = set(EXPORT.findall(text))
    for group in EXPORT_LIST.findall(text):
        names.update(n.split(" as ")[-1].strip() for n in group.split(",") if n.strip())
    return names


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    out = []
    for names, spec in IMPORT.findall(path.read_text(encoding="utf-8")):
        out.append((spec, [n.split(" as ")[0].strip() for n in names.split(",") if n.strip()]))
    return out


def test_every_map_entry_is_a_file() -> None:
    for name, rel in MODULES.items():
        assert (STATIC / rel).is_file(), f"{name} -> static/{rel} does not exist"


def test_every_console_module_is_in_the_map() -> None:
    mapped = {STATIC / rel for rel in MODULES.values()}
    for path in JS_FILES:
        assert path in mapped, f"{path.relative_to(ROOT)} is not in handlers/pages.py MODULES"


@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: str(p.relative_to(STATIC / "js")))
def test_imports_resolve_to_exported_names(path: Path) -> None:
    for spec, names in imports_of(path):
        # Bare names only: a relative import would skip the map and its versioned URL.
        assert spec in MODULES, f"{path.name} imports {spec!r}, which the import map does not name"
        exported = exports_of(STATIC / MODULES[spec])
        for name in names:
            assert name in exported, f"{path.name} imports {name} from {spec}, which does not export it"


@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: str(p.relative_to(STATIC / "js")))
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines"
