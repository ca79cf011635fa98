"""LG9xx: suppression comments. They run after every other rule, on its findings.

`# layerguard: ignore[LG101] reason` hides findings of the listed codes on its line (a
trailing comment) or on the next line (a comment on a line of its own). A suppression must
say why, and one that hides nothing is reported so that suppressions cannot outlive the code
they excused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.facts.model import Suppression
from layerguard.linter.project.index import ProjectIndex
from layerguard.linter.rules import codes
from layerguard.linter.rules.base import Example, RuleInfo

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"


@dataclass(frozen=True, slots=True)
class SuppressionOutcome:
    """The findings that survive, and what each suppression did."""

    kept: list[Diagnostic]
    used: dict[tuple[str, int, int], set[str]]  # (path, line, col) of a suppression -> codes
    judged: Callable[[str, str], bool]
    """Whether the run reports (path, code): only those codes of a suppression can be judged
    unused (not those of rules the run does not enable, or that per_file_ignores drops)."""
    known: frozenset[str]  # every rule code


def apply_suppressions(
    index: ProjectIndex,
    findings: Iterable[Diagnostic],
    judged: Callable[[str, str], bool],
    known: frozenset[str],
) -> SuppressionOutcome:
    by_target: dict[tuple[str, int], list[Suppression]] = {}
    for source in index.files.values():
        for suppression in source.facts.suppressions:
            by_target.setdefault((source.path, suppression.target_line), []).append(suppression)
    kept: list[Diagnostic] = []
    used: dict[tuple[str, int, int], set[str]] = {}
    for finding in findings:
        suppressions = by_target.get((finding.path, finding.line), ())
        hit = next((s for s in suppressions if finding.code in s.codes), None)
        if hit is None:
            kept.append(finding)
        else:
            used.setdefault((finding.path, hit.line, hit.col), set()).add(finding.code)
    return SuppressionOutcome(kept, used, judged, known)


class SuppressionRule(RuleInfo):
    """A rule about suppression comments, given what the suppressions did."""

    def check_suppressions(
        self, index: ProjectIndex, outcome: SuppressionOutcome
    ) -> Iterator[Diagnostic]:
        for source in index.files.values():
            for suppression in source.facts.suppressions:
                used = outcome.used.get((source.path, suppression.line, suppression.col), set())
                message = self.problem(source.path, suppression, used, outcome)
                if message is not None:
                    key = ",".join(suppression.codes) or "ignore"
                    yield self.finding(source, suppression.line, suppression.col, message, key)

    def problem(
        self, path: str, suppression: Suppression, used: set[str], outcome: SuppressionOutcome
    ) -> str | None:
        raise NotImplementedError


class SuppressionWithoutReason(SuppressionRule):
    code = codes.SUPPRESSION_WITHOUT_REASON
    summary = "A suppression comment does not say why."
    catches = """
A suppression comment (`# layerguard: ignore[CODE]`) with nothing after its codes.
"""
    why = """
A suppression is a decision to live with a violation; the next reader needs to know why, and
whether the reason still holds.
"""
    instead = """
Write the reason after the codes:
`# layerguard: ignore[LG101] legacy export route, removed with API v1`.
"""
    options = """
No key of `layerguard.yaml` changes it: every suppression needs its reason.
"""
    valid = (
        Example(
            {ROUTE: "import sqlalchemy  # layerguard: ignore[LG102] health check pings the DB\n"},
            title="A suppression with its reason",
        ),
    )
    invalid = (
        Example(
            {ROUTE: "import sqlalchemy  # layerguard: ignore[LG102]\n"},
            expected=((ROUTE, 1),),
            title="A bare suppression",
        ),
    )

    def problem(
        self, path: str, suppression: Suppression, used: set[str], outcome: SuppressionOutcome
    ) -> str | None:
        if suppression.codes and not suppression.reason:
            return "suppression without a reason; add why after the codes: `ignore[CODE] why`"
        return None


class UnusedSuppression(SuppressionRule):
    code = codes.UNUSED_SUPPRESSION
    summary = "A suppression comment suppresses nothing."
    catches = """
A suppression comment, or a code in one, that hides no finding on its line (for a trailing
comment) or on the next line (for a comment on a line of its own). Codes of rules that are not
enabled in the run, or that `rules.per_file_ignores` turns off for the file, are not judged: a
suppression of a rule you did not select may still be needed.
"""
    why = """
A suppression that no longer hides a finding is noise at best, and at worst it silently
excuses the next violation someone writes on that line.
"""
    instead = """
Remove the comment, or the codes in it that no longer apply.
"""
    options = """
- `rules.select`, `rules.extend_select`, `rules.ignore` (and `--select`, `--ignore`): a code
  in a suppression is judged only in a run that enables its rule.
- `rules.per_file_ignores`: a code in a suppression is not judged in the files where it is
  ignored.
"""
    valid = (
        Example(
            {
                ENGINE: """
                    # layerguard: ignore[LG201] batch import commits per chunk by design
                    await session.commit()
                """
            },
            title="A suppression on the line above its finding",
        ),
    )
    invalid = (
        Example(
            {ENGINE: "import os  # layerguard: ignore[LG101] was a route import once\n"},
            expected=((ENGINE, 1),),
            title="Nothing left to suppress",
        ),
    )

    def problem(
        self, path: str, suppression: Suppression, used: set[str], outcome: SuppressionOutcome
    ) -> str | None:
        unused = [c for c in suppression.codes if outcome.judged(path, c) and c not in used]
        if not unused:
            return None
        codes = ", ".join(unused)
        return f"suppression of {codes} suppresses nothing here; remove it"


class MalformedSuppression(SuppressionRule):
    code = codes.MALFORMED_SUPPRESSION
    summary = "A suppression comment names no rule codes, or names codes that do not exist."
    catches = """
A `# layerguard: ignore` comment that names no rule codes, or names a code that does not
exist.
"""
    why = """
A blanket suppression would hide every future violation on the line, and a misspelt code
hides nothing while looking like it does.
"""
    instead = """
Name the codes the comment suppresses, in brackets:
`# layerguard: ignore[LG101, LG102] reason`. `layerguard rules` lists every code.
"""
    options = """
No key of `layerguard.yaml` changes it: codes are the same in every project.
"""
    valid = (
        Example(
            {ROUTE: "import sqlalchemy  # layerguard: ignore[LG102] health check pings the DB\n"},
            title="Codes in brackets",
        ),
    )
    invalid = (
        Example(
            {
                ROUTE: """
                    import sqlalchemy  # layerguard: ignore because
                    x = 1  # layerguard: ignore[LG1O2] typo
                """
            },
            expected=((ROUTE, 1), (ROUTE, 2)),
            title="No codes, and a code with a letter O",
        ),
    )

    def problem(
        self, path: str, suppression: Suppression, used: set[str], outcome: SuppressionOutcome
    ) -> str | None:
        if not suppression.codes:
            return "suppression names no codes; write `# layerguard: ignore[CODE] reason`"
        unknown = [c for c in suppression.codes if c not in outcome.known]
        if unknown:
            return f"suppression names unknown code(s) {', '.join(unknown)}; see `layerguard rules`"
        return None
