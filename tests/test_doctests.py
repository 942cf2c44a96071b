"""The docstring examples of every module run as tests (imported by their installed names)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("datasets", "descriptors", "models", "screening")


def _modules() -> list[str]:
    out = []
    for room in ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            if path.name == "__main__.py":
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.append("magnetscreen." + ".".join(parts))
    return out


def test_modules_have_examples():
    with_examples = [m for m in _modules() if doctest.DocTestFinder().find(importlib.import_module(m))
                     and any(t.examples for t in doctest.DocTestFinder().find(importlib.import_module(m)))]
    assert len(with_examples) >= 10, with_examples


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        if test.examples:
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see the output above)"
