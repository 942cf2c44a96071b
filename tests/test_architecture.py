"""The rooms and their imports: data flows one way, and no module reaches into another's private names.

Rooms, lowest first: ``datasets`` -> ``descriptors`` -> ``models`` -> ``screening``. Inside ``screening``:
``engine`` -> ``report`` and ``bench`` (side by side, neither imports the other) -> ``runner`` and ``campaign``
-> ``cli``.
A module may import its own room and the rooms below it, never one above (docs/architecture.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("datasets", "descriptors", "models", "screening")
#: Sub-rooms of screening and their level: a sub-room imports only sub-rooms of a lower level (so report and
#: bench, both at level 1, never import each other).
SCREENING = {"engine": 0, "report": 1, "bench": 1, "runner": 2, "campaign": 2, "__init__": 3, "cli": 3}


def _modules() -> list[tuple[Path, str]]:
    out = []
    for room in ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            out.append((path, "magnetscreen." + ".".join(rel.parts)))
    return out


def _imports(path: Path, module: str) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, imported names) of every import, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module.rsplit(".", 1)[0] if not path.name == "__init__.py" else module.removesuffix(".__init__")
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([name] if name else []))
            out.append((node.lineno, name, [a.name for a in node.names]))
    return out


def _room(module: str) -> tuple[int, int]:
    parts = module.split(".")
    room = ROOMS.index(parts[1])
    sub = SCREENING.get(parts[2], 3) if room == 3 and len(parts) > 2 else 0
    return room, sub


def test_every_module_is_in_a_room():
    modules = _modules()
    assert len(modules) > 60
    for _, module in modules:
        assert module.split(".")[1] in ROOMS


@pytest.mark.parametrize("path, module", _modules(), ids=lambda v: v if isinstance(v, str) else "")
def test_imports_point_downstream_only(path, module):
    here = _room(module)
    for line, target, _ in _imports(path, module):
        if not target.startswith("magnetscreen."):
            continue
        there = _room(target + ("" if target.count(".") >= 2 else ".__init__"))
        where = f"{path.relative_to(ROOT)}:{line} imports {target}"
        assert there[0] <= here[0], f"{where}: an upstream room"
        if here[0] == there[0] == 3:
            a, b = module.split(".")[2], target.split(".")[2] if target.count(".") >= 2 else "__init__"
            if a != b:
                assert SCREENING[b] < SCREENING[a], f"{where}: screening.{a} may not import screening.{b}"


@pytest.mark.parametrize("path, module", _modules(), ids=lambda v: v if isinstance(v, str) else "")
def test_no_private_names_from_other_modules(path, module):
    for line, target, names in _imports(path, module):
        if not target.startswith("magnetscreen.") or target == module:
            continue
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        # a module's kernels are its own: `from x import x_kernels as _k` imports a module, not a private name
        assert not private, f"{path.relative_to(ROOT)}:{line} imports private {private} from {target}"


def test_the_check_catches_an_upstream_import(tmp_path):
    """The test above must be able to fail: a models module importing the screening room is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from magnetscreen.screening.engine.contract import RunFolder\n")
    module = "magnetscreen.models.bad"
    here = _room(module)
    (_, target, _), = _imports(bad, module)
    assert _room(target)[0] > here[0]
