"""Shared fixtures: small families written as TOML-like mappings."""

from __future__ import annotations

import pytest


def family_dict(**overrides):
    data = {
        "name": "test-family",
        "description": "a small family for tests",
        "prototype": "Nd2Fe14B",
        "structure": "test",
        "citation": "test",
        "reference": "test",
        "step": 0.25,
        "sites": [
            {"name": "R", "multiplicity": 2, "elements": ["Nd", "Pr", "Dy"]},
            {"name": "T", "multiplicity": 14, "elements": ["Fe", "Co"]},
            {"name": "B", "multiplicity": 1, "elements": ["B"]},
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def small_family_dict():
    return family_dict()
