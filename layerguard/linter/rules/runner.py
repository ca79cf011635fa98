"""Running the enabled rules over an index, then the suppression comments over their findings."""

from __future__ import annotations

from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.project.index import ProjectIndex
from layerguard.linter.rules.registry import INDEX_RULES, RULES_BY_CODE, SUPPRESSION_RULES
from layerguard.linter.rules.selection import per_file_ignored
from layerguard.linter.rules.suppressions import apply_suppressions


def run_rules(index: ProjectIndex, enabled: frozenset[str]) -> list[Diagnostic]:
    """The findings of the `enabled` rules that neither `rules.per_file_ignores` nor a comment
    drops, plus the findings about the comments themselves (LG9xx)."""
    ignored = per_file_ignored(index.config)

    def judged(path: str, code: str) -> bool:
        return code in enabled and not ignored(path, code)

    findings: list[Diagnostic] = []
    for rule_class in INDEX_RULES:
        if rule_class.code in enabled:
            findings.extend(d for d in rule_class().check(index) if not ignored(d.path, d.code))
    outcome = apply_suppressions(index, findings, judged, frozenset(RULES_BY_CODE))
    kept = outcome.kept
    for suppression_rule in SUPPRESSION_RULES:
        if suppression_rule.code in enabled:
            found = suppression_rule().check_suppressions(index, outcome)
            kept.extend(d for d in found if not ignored(d.path, d.code))
    return kept
