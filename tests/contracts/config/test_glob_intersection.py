"""Witness paths for glob intersections, the building block of static overlap detection."""

from __future__ import annotations

import pytest

from layerguard.contracts.glob_intersection import WitnessSearch
from layerguard.contracts.patterns import PATH, PlaceholderRule

PY = ("**", "*.py")


def first(*globs: str, rules: dict[str, PlaceholderRule] | None = None) -> str | None:
    split = [tuple(g.split("/")) for g in globs]
    return next(WitnessSearch(PATH, rules or {}).witnesses([*split, PY]), None)


@pytest.mark.parametrize(
    ("a", "b", "witness"),
    [
        ("app/**", "app/core/**", "app/core/x.py"),
        ("**/migrations/**", "backend/**", "backend/migrations/x.py"),
        ("app/L5_*/**", "app/*_engines/**", "app/L5_x_engines/x.py"),
        ("app/*_handler.py", "app/**", "app/x_handler.py"),
        ("app/{domain}/**", "app/billing/**", "app/billing/x.py"),
        ("app/**/models/**", "app/db/**", "app/db/models/x.py"),
    ],
)
def test_a_witness_matches_both(a: str, b: str, witness: str) -> None:
    assert first(a, b) == witness


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("app/**", "lib/**"),
        ("app/L5_*/**", "app/L6_*/**"),
        ("app/*.py", "app/*.json"),
        ("app/{domain}/**", "app/x.py"),  # a placeholder is a directory, never a file name
    ],
)
def test_no_witness_for_disjoint_globs(a: str, b: str) -> None:
    assert first(a, b) is None


def test_placeholder_constraints_shape_the_witness() -> None:
    rules = {"domain": PlaceholderRule(exclude=("x",))}
    assert first("app/{domain}/**", "app/*/**", rules=rules) == "app/lgw/x.py"
    rules = {"domain": PlaceholderRule(values=("billing",))}
    assert first("app/{domain}/**", "app/*/**", rules=rules) == "app/billing/x.py"
    assert first("app/{domain}/**", "app/policies/**", rules=rules) is None
