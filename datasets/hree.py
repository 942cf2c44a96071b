"""Named heavy-rare-earth sets, read from ``data/hree_sets.toml``.

``default`` is Gd..Lu plus Y; ``china-2025-04`` and ``china-2025-10`` are the rare earths named by the
Chinese export controls of April 2025 and by the October 2025 additions (see the file for details).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from magnetscreen.datasets.elements import symbol_to_z
from magnetscreen.datasets.errors import DataError
from magnetscreen.datasets.schema import Table, load_toml

__all__ = ["HreeSet", "hree_sets", "hree_set", "hree_set_names"]


@dataclass(frozen=True)
class HreeSet:
    name: str
    description: str
    elements: tuple[str, ...]


@lru_cache(maxsize=1)
def hree_sets() -> dict[str, HreeSet]:
    """Every named set, by name."""
    with resources.as_file(resources.files("magnetscreen.datasets") / "data" / "hree_sets.toml") as path:
        data = load_toml(path, DataError)
    sets = {}
    for name, raw in data.items():
        t = Table(raw, f"hree_sets.toml: [{name}]", DataError)
        description = t.string("description")
        elements = t.array("elements")
        t.finish()
        for e in elements:
            if e not in symbol_to_z():
                raise DataError(f"hree_sets.toml: [{name}].elements: unknown element {e!r}")
        sets[name] = HreeSet(name, description, tuple(elements))
    return sets


def hree_set_names() -> tuple[str, ...]:
    return tuple(hree_sets())


def hree_set(name: str) -> HreeSet:
    """The set called ``name``; DataError listing the valid names otherwise."""
    try:
        return hree_sets()[name]
    except KeyError:
        raise DataError(f"unknown heavy-rare-earth set {name!r} (known: {', '.join(hree_set_names())})") from None
