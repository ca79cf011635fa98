"""The nesting estimate that keeps libcst away from sources it would crash or drown on."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from layerguard.linter.facts.extract import extract_facts
from layerguard.linter.facts.nesting import (
    MAX_BRACKET_DEPTH,
    MAX_DEPTH,
    MAX_ELIF_CHAIN,
    NestingProblem,
    nesting_problem,
)
from layerguard.linter.facts.settings import ExtractionSettings

HEADER = '"""A module."""\nimport os\n\n'  # the deep part starts on line 4

DEEP_BRACKETS = f"brackets nested more than {MAX_BRACKET_DEPTH} deep"
DEEP_EXPRESSION = f"an expression nested more than {MAX_DEPTH} levels deep"

TOO_DEEP = {
    "parentheses": ("x = " + "(" * 2000 + "1" + ")" * 2000, DEEP_BRACKETS),
    "brackets of every kind": ("x = " + "[{(" * 70 + ")}]" * 70, DEEP_BRACKETS),
    "unclosed": ("x = " + "(" * 300, DEEP_BRACKETS),
    "sum of 5,000 terms": ("x = " + "+".join(["1"] * 5000), DEEP_EXPRESSION),
    "sum over lines": ("x = (\n" + " +\n".join(["1"] * 5000) + ")", DEEP_EXPRESSION),
    "calls": ("x = f" + "()" * 4000, DEEP_EXPRESSION),
    "attributes": ("import a" + ".b" * 20000, DEEP_EXPRESSION),
    "boolean operators": ("x = " + " and ".join(["a"] * 4000), DEEP_EXPRESSION),
    "not": ("x = " + "not " * 4000 + "a", DEEP_EXPRESSION),
    "conditional expressions": ("x = " + "1 if a else " * 4000 + "2", DEEP_EXPRESSION),
    "lambdas": ("x = " + "lambda: " * 4000 + "1", DEEP_EXPRESSION),
    "adjacent strings": ("x = (\n" + '"a"\n' * 4000 + ")", DEEP_EXPRESSION),
    # ~270 MB or more to parse, each (libcst's memory grows with the square of the depth).
    "1,300 conditional expressions": ("x = " + " if c else ".join(["1"] * 1300), DEEP_EXPRESSION),
    "1,300 lambdas": ("x = " + "lambda: " * 1300 + "1", DEEP_EXPRESSION),
    "2,500 unary operators": ("x = " + "-~" * 1250 + "1", DEEP_EXPRESSION),
    "power": ("x = " + "**".join(["2"] * 1300), DEEP_EXPRESSION),
    "lambdas returning conditional expressions": (
        "x = " + "lambda: 1 if c else " * 700 + "1",
        DEEP_EXPRESSION,
    ),
    "lambdas in brackets": (
        "x = " + "(lambda: lambda: lambda: lambda: " * 200 + "1" + ")" * 200,
        DEEP_EXPRESSION,
    ),
    # Slow rather than big: 2,000 links take 2.5-4 s.
    "a chain of 1,300 calls": ("x = f" + "()" * 1300, DEEP_EXPRESSION),
    "a chain of 1,300 subscripts": ("x = a" + "[0]" * 1300, DEEP_EXPRESSION),
}

TOO_MANY = "too many deeply nested expressions"
TOO_MANY_TOGETHER = {
    # Each statement is within the limit; libcst keeps what each took until the module is done.
    "lambdas": (("x = " + "lambda: " * 1000 + "1\n") * 3, 2),
    "nested calls": (("x = " + "f(" * 14 + "1" + ")" * 14 + "\n") * 1000, 600),
    "conditional expressions": (("x = " + " if c else ".join(["1"] * 600) + "\n") * 8, 5),
    "chains of calls": (("x = f" + "()" * 1000 + "\n") * 3, 2),
}


@pytest.mark.parametrize("name", TOO_DEEP)
def test_too_deep_is_found_at_its_line(name: str) -> None:
    source, what = TOO_DEEP[name]
    found = nesting_problem((HEADER + source + "\n").encode())
    assert found is not None
    assert found.message == what
    if "\n" not in source:
        assert found.line == 4


@pytest.mark.parametrize("name", TOO_MANY_TOGETHER)
def test_deep_statements_that_together_cost_too_much_are_found_where_the_budget_ends(
    name: str,
) -> None:
    source, line = TOO_MANY_TOGETHER[name]
    assert nesting_problem(source.encode()) == NestingProblem(line, TOO_MANY)


def test_an_elif_chain_is_found_at_the_branch_past_the_limit() -> None:
    source = "if a:\n    pass\n" + "elif a:\n    pass\n" * (MAX_ELIF_CHAIN + 5)
    expected = NestingProblem(
        2 * (MAX_ELIF_CHAIN + 1) + 1, f"more than {MAX_ELIF_CHAIN} `elif` branches"
    )
    assert nesting_problem(source.encode()) == expected


def test_many_short_elif_chains_are_not_one_long_one() -> None:
    chain = "if a:\n    pass\nelif b:\n    pass\nelse:\n    pass\nx = 1\n"
    assert nesting_problem((chain * (MAX_ELIF_CHAIN + 10)).encode()) is None


JUST_DEEP_ENOUGH = {
    "brackets at CPython's limit": "x = " + "(" * 200 + "1" + ")" * 200,
    "a long flat list": "x = [" + "1, " * 50000 + "]",
    "a long flat call": "f(" + "a.b + 1, " * 20000 + ")",
    "many statements": "x = a.b.c + d - e * f\n" * 20000,
    "brackets in strings and comments": 'x = "' + "(" * 5000 + '"  # ' + "[" * 5000,
    "brackets in a docstring": '"""' + "{" * 5000 + '\n"""',
    "escaped quotes": r"x = '\'' + '(' * 3" + "\ny = " + "(" * 150 + ")" * 150,
    "operators in strings": "x = '" + "+" * 50000 + "'",
    # Within ~200 MB or ~1 s each (measured).
    "1,000 conditional expressions": "x = " + " if c else ".join(["1"] * 1000),
    "1,000 lambdas": "x = " + "lambda: " * 1000 + "1",
    "2,000 unary operators": "x = " + "not " * 2000 + "a",
    "200 nested calls": "x = " + "f(" * 200 + "1" + ")" * 200,
    "a chain of 1,000 calls": "x = f" + "()" * 1000,
    "2,000 attributes": "x = a" + ".b" * 2000,
    "many statements of 100 lambdas": ("x = " + "lambda: " * 100 + "1\n") * 100,
    "many nested calls": ("x = " + "f(" * 14 + "1" + ")" * 14 + "\n") * 500,
    "long chained comparisons": "x = " + " < ".join(["a"] * 5000),
    "many decorators": "@d\n" * 5000 + "def f(): pass",
    "a comprehension with many conditions": "x = [a for a in b" + " if a" * 2000 + "]",
}


@pytest.mark.parametrize("name", JUST_DEEP_ENOUGH)
def test_what_real_code_does_passes(name: str) -> None:
    assert nesting_problem((JUST_DEEP_ENOUGH[name] + "\n").encode()) is None


def test_no_real_module_is_refused() -> None:
    """layerguard's own modules and the bundled example, big and small."""
    root = Path(__file__).parents[2]
    sources = [*root.glob("layerguard/**/*.py"), *root.glob("examples/**/*.py")]
    assert len(sources) > 100
    refused = [path for path in sources if nesting_problem(path.read_bytes()) is not None]
    assert refused == []


def test_no_installed_module_is_refused() -> None:
    """Every module installed beside layerguard (site-packages: ~3,500 files, 50 MB of real
    code, from libcst and mypy to sqlalchemy), as a user's project may hold them."""
    site_packages = Path(sysconfig.get_paths()["purelib"])
    sources = list(site_packages.glob("**/*.py"))
    assert len(sources) > 1000
    refused = [path for path in sources if nesting_problem(path.read_bytes()) is not None]
    assert refused == []


def test_extraction_reports_it_as_too_deeply_nested() -> None:
    source = (HEADER + "x = " + "(" * 2000 + "1" + ")" * 2000 + "\n").encode()
    error = extract_facts(source, ExtractionSettings()).syntax_error
    assert error is not None
    assert (error.line, error.message) == (4, f"too deeply nested to analyse ({DEEP_BRACKETS})")
    assert error.remedy is not None
    assert "exclude" in error.remedy


def test_a_chain_below_the_estimate_still_ends_as_too_deeply_nested() -> None:
    """Past ~330 levels extraction's own recursion gives up on a statement it has to walk
    (one that may hold a fact, here a transaction call): the same finding, line 1."""
    source = ("x = s.commit() + " + "+".join(["1"] * 900) + "\n").encode()
    assert nesting_problem(source) is None
    error = extract_facts(source, ExtractionSettings()).syntax_error
    assert error is not None
    assert (error.line, error.message) == (1, "too deeply nested to analyse")


def test_a_deep_chain_that_cannot_hold_a_fact_is_analysed() -> None:
    """A statement without a fact is not walked, so its depth costs nothing."""
    source = ("import os\nx = " + "+".join(["1"] * 900) + "\n").encode()
    facts = extract_facts(source, ExtractionSettings())
    assert facts.syntax_error is None
    assert [(i.line, i.module) for i in facts.imports] == [(1, "os")]
