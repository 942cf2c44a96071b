"""Generated bad inputs (tests/fuzzing.py) are refused with a clear error, never an internal error or a crash."""

from __future__ import annotations

import pytest
from fuzzing import KINDS, run


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_generated_inputs_never_cause_an_internal_error(kind):
    counts, bugs = run(kind, 20 if kind == "model_folders" else 150, seed=1)
    assert counts["bug"] == 0, "\n\n".join(bugs[:3])
    assert counts["clean"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_thousands_of_generated_inputs(kind):
    counts, bugs = run(kind, 300 if kind == "model_folders" else 3000, seed=2)
    assert counts["bug"] == 0, "\n\n".join(bugs[:3])
