"""The rooms of ARCHITECTURE.md: data flows one way, and every module lists its public API."""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import parley

SRC = Path(parley.__file__).resolve().parent

#: room -> the rooms it may import (parley.errors and its own room are always allowed)
ALLOWED = {
    "tracks": set(),
    "encounters": {"tracks"},
    "hotline": {"store"},
    "activities": {"tracks", "store"},
    "incidents": {"encounters", "activities", "hotline", "store"},
    "store": set(),
    "scenarios": {"tracks"},
    "testing": {"tracks", "encounters", "scenarios"},
    "web": {"tracks", "encounters", "hotline", "activities", "incidents", "store", "scenarios"},
    "cli": {
        "tracks",
        "encounters",
        "hotline",
        "activities",
        "incidents",
        "store",
        "scenarios",
        "web",
    },
}


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages([str(SRC)], prefix="parley."))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {n for n in names if n.startswith("parley.")}


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_rooms_import_only_upstream(room: str) -> None:
    folder = SRC / room
    if not folder.is_dir():
        pytest.skip(f"room {room} not built yet")
    allowed = ALLOWED[room] | {room, "errors"}
    wrong = []
    for path in folder.rglob("*.py"):
        for name in _imports(path):
            target = name.split(".")[1]
            if target not in allowed:
                wrong.append(f"{path.relative_to(SRC)} imports {name}")
    assert wrong == []


@pytest.mark.parametrize("name", _modules())
def test_public_api_declared(name: str) -> None:
    module = importlib.import_module(name)
    if name.endswith("__main__"):
        return
    exported = getattr(module, "__all__", None)
    if exported is None:
        assert not [
            n
            for n in vars(module)
            if not n.startswith("_")
            and getattr(vars(module)[n], "__module__", None) == name
            and callable(vars(module)[n])
        ], f"{name} defines public callables without __all__"
        return
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == []
