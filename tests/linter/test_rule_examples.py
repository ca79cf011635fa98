"""Every rule's valid and invalid examples, run through the real `layerguard check`.

The examples live next to each rule (and `layerguard explain` shows them), so the
documentation cannot drift from what the rule does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from layerguard.linter.rules.base import Example, RuleInfo
from layerguard.linter.rules.registry import ALL_RULES
from tests.linter.conftest import HOC_PRESET, Run, write_project

CASES = [
    pytest.param(rule, example, id=f"{rule.code}-{kind}{number}")
    for rule in ALL_RULES
    for kind, examples in (("valid", rule.valid), ("invalid", rule.invalid))
    for number, example in enumerate(examples)
]


def test_every_rule_has_valid_and_invalid_examples() -> None:
    for rule in ALL_RULES:
        assert rule.valid, rule.code
        assert rule.invalid, rule.code
        assert all(example.expected for example in rule.invalid), rule.code
        assert not any(example.expected for example in rule.valid), rule.code


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_rule_example(
    rule: type[RuleInfo],
    example: Example,
    tmp_path: Path,
    run_cli: Callable[..., Run],
) -> None:
    write_project(tmp_path, example.sources(), example.config or HOC_PRESET)
    run = run_cli(["check", "--output-format", "json", "--no-cache", "--select", "ALL"])
    assert run.exit_code in (0, 1), run.stderr
    got = sorted((path, line) for _, path, line in run.findings(rule.code))
    assert got == sorted(example.expected)


def test_rule_code_table_matches_the_rules() -> None:
    from layerguard.linter.rules.codes import ENABLED_BY_DEFAULT

    assert {rule.code: rule.enabled_by_default for rule in ALL_RULES} == ENABLED_BY_DEFAULT
