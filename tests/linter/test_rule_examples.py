"""Every rule's valid and invalid examples, run in-process: the rule alone over the example
project's index (or the check use case, for the rules judged after the others), asserting the
exact place of every finding — and, where an example names them, its column and a fragment of
its message. One example per rule family also runs through the real `layerguard check`.

The examples live next to each rule (and `layerguard explain` shows them), so the
documentation cannot drift from what the rule does.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from layerguard.linter.rules import codes
from layerguard.linter.rules.base import Example, RuleInfo, kebab_case
from layerguard.linter.rules.reference import family
from layerguard.linter.rules.registry import ALL_RULES
from tests.helpers import HOC_CONTRACT, Run, example_findings, write_project

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
def test_rule_example(rule: type[RuleInfo], example: Example, tmp_path: Path) -> None:
    found = example_findings(rule, example, tmp_path)
    assert len(found) == len(example.expected), found
    unmatched = [e for e in example.expected if not any(f.matches(e) for f in found)]
    assert unmatched == [], found


def test_a_wrong_column_or_message_fails_the_example(tmp_path: Path) -> None:
    """The harness itself can fail: a column or fragment that is not the finding's."""
    rule = next(r for r in ALL_RULES if r.code == codes.FORBIDDEN_LAYER_IMPORT)
    example = rule.invalid[0]
    (finding, *_) = example_findings(rule, example, tmp_path)
    assert finding.matches((finding.path, finding.line, finding.col, finding.message[:20]))
    assert not finding.matches((finding.path, finding.line, finding.col + 1))
    assert not finding.matches((finding.path, finding.line, finding.col, "not in the message"))


SMOKE = {family(rule.code): rule for rule in reversed(ALL_RULES) if rule.code != "LG003"}
"""One rule per family (LG0, LG1, LG2, LG3, LG4, LG9) whose first invalid example also runs
through the command line."""


@pytest.mark.parametrize("rule", SMOKE.values(), ids=list(SMOKE))
def test_rule_family_through_the_cli(
    rule: type[RuleInfo], tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    example = rule.invalid[0]
    config = textwrap.dedent(example.config).lstrip("\n") if example.config else HOC_CONTRACT
    write_project(tmp_path, example.sources(), config)
    run = run_cli(["check", "--output-format", "json", "--no-cache", "--select", "ALL"])
    assert run.exit_code == 1, run.stderr
    got = sorted((path, line) for _, path, line in run.findings(rule.code))
    assert got == sorted((path, line) for path, line, *_ in example.expected)


def test_invalid_config_through_the_cli(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    rule = next(r for r in ALL_RULES if r.code == codes.INVALID_CONFIG)
    example = rule.invalid[0]
    assert example.config is not None
    write_project(tmp_path, example.sources(), textwrap.dedent(example.config).lstrip("\n"))
    run = run_cli(["check"])
    assert run.exit_code == 2
    assert [
        (Path(m[0]).name, int(m[1])) for m in re.findall(r"^(.+?):(\d+): LG003 ", run.stderr, re.M)
    ] == [(path, line) for path, line, *_ in example.expected]


def test_rule_identity_is_one_name() -> None:
    """Class name, kebab-case name and code constant are one identity."""
    constants = {name: value for name, value in vars(codes).items() if name[:1].isupper()}
    for rule in ALL_RULES:
        assert rule.name == kebab_case(rule.__name__)
        constant = rule.name.upper().replace("-", "_")
        assert constants[constant] == rule.code, rule.__name__
        assert rule.enabled_by_default == (rule.code not in codes.OFF_BY_DEFAULT)
    assert sorted(rule.code for rule in ALL_RULES) == list(codes.ALL_CODES)
