"""Running the enabled rules over an index, then the suppression comments over their findings."""

from __future__ import annotations

from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.project.index import ProjectIndex
from layerguard.linter.rules.registry import INDEX_RULES, RULES_BY_CODE, SUPPRESSION_RULES
from layerguard.linter.rules.suppressions import apply_suppressions


def run_rules(index: ProjectIndex, enabled: frozenset[str]) -> list[Diagnostic]:
    """The findings of the `enabled` rules that no comment suppresses, plus the findings about
    the comments themselves (LG9xx)."""
    findings: list[Diagnostic] = []
    for rule_class in INDEX_RULES:
        if rule_class.code in enabled:
            findings.extend(rule_class().check(index))
    outcome = apply_suppressions(index, findings, enabled, frozenset(RULES_BY_CODE))
    kept = outcome.kept
    for suppression_rule in SUPPRESSION_RULES:
        if suppression_rule.code in enabled:
            kept.extend(suppression_rule().check_suppressions(index, outcome))
    return kept
