"""The rule reference, generated from the rule registry so it cannot drift from the rules.

`layerguard rules` prints the table (text, JSON, or the markdown of docs/rules.md),
`layerguard explain CODE` one rule's page, and the SARIF report embeds the same pages as
each rule's help. Everything here formats what the rule classes declare; nothing is kept
by hand.
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
from collections.abc import Iterable
from dataclasses import fields
from pathlib import PurePosixPath
from typing import Any

from layerguard.contracts.config.model import ImportScopePolicy
from layerguard.linter.rules.base import Example, RuleInfo
from layerguard.linter.rules.registry import ALL_RULES, INDEX_RULES, RULES_BY_CODE
from layerguard.linter.rules.suppressions import SuppressionRule

JSON_SCHEMA_VERSION = 1

FAMILIES: dict[str, str] = {
    "LG0": "input",
    "LG1": "imports",
    "LG2": "transactions",
    "LG3": "cards",
    "LG4": "operations",
    "LG9": "suppressions",
}

_FENCE_LANGUAGES = {
    ".py": "python",
    ".md": "markdown",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
}


def family(code: str) -> str:
    """The rule family of a code (`LG101` -> `imports`): its hundreds digit."""
    return FAMILIES.get(code[:3], "other")


def explanation_of(rule: type[RuleInfo]) -> str:
    return textwrap.dedent(rule.explanation).strip()


def scope_policy(rule: type[RuleInfo]) -> dict[str, bool] | None:
    """Which kinds of import an import rule counts by default; None for other rules."""
    policy = rule.default_scope
    if policy is None:
        return None
    return {field.name: bool(getattr(policy, field.name)) for field in fields(ImportScopePolicy)}


def describe_scope(rule: type[RuleInfo]) -> str:
    """`all imports`, or the kinds not counted (`type_checking` not counted); `—` otherwise."""
    policy = scope_policy(rule)
    if policy is None:
        return "—"
    skipped = [kind for kind, counted in policy.items() if not counted]
    if not skipped:
        return "all imports"
    return " ".join(f"`{kind}`" for kind in skipped) + " not counted"


def inline_suppressible(rule: type[RuleInfo]) -> bool:
    """Comments apply to the findings of the rules over the index (engine.run_rules), except
    input problems (a file that cannot be read has no comments either) and findings in cards
    (markdown takes no suppression comments)."""
    return rule in INDEX_RULES and family(rule.code) != "input" and not rule.reports_in_cards


def lookup(name: str) -> type[RuleInfo] | None:
    """A rule by code (any case) or by kebab-case name."""
    wanted = name.strip()
    rule = RULES_BY_CODE.get(wanted.upper())
    if rule is not None:
        return rule
    return next((r for r in ALL_RULES if r.name == wanted.lower()), None)


def close_matches(name: str) -> list[str]:
    """Codes whose code or name look like `name`, best first, for an unknown-rule message."""
    by_label = {rule.code: rule.code for rule in ALL_RULES}
    by_label.update({rule.name: rule.code for rule in ALL_RULES})
    candidates = list(by_label)
    wanted = name.strip()
    found = difflib.get_close_matches(wanted.upper(), candidates, n=3, cutoff=0.6)
    found += difflib.get_close_matches(wanted.lower(), candidates, n=3, cutoff=0.6)
    codes: list[str] = []
    for label in found:
        code = by_label[label]
        if code not in codes:
            codes.append(code)
    return codes[:3]


# --- one rule's page (`layerguard explain`) -------------------------------------------------


def _fence(path: str, text: str) -> list[str]:
    """A code block whose fence is longer than any backtick run inside (cards hold fences)."""
    language = _FENCE_LANGUAGES.get(PurePosixPath(path).suffix, "")
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"`{path}`:", "", f"{fence}{language}", text.rstrip("\n"), fence, ""]


def _example(example: Example, heading: str, level: int) -> list[str]:
    lines = [f"{'#' * level} {heading}", ""]
    if example.config is not None:
        lines += ["With this `layerguard.yaml`:", ""]
        lines += ["```yaml", textwrap.dedent(example.config).strip("\n"), "```", ""]
    sources = example.sources()
    empty = [path for path in example.files if not sources[path].strip()]
    for path in example.files:
        if path not in empty:
            lines += _fence(path, sources[path])
    if empty:
        listed = ", ".join(f"`{path}`" for path in empty)
        lines += [f"Also present, empty: {listed}.", ""]
    if example.expected:
        by_path: dict[str, list[str]] = {}
        for path, line, *_ in sorted(example.expected):
            by_path.setdefault(path, []).append(str(line))
        where = "; ".join(
            f"`{path}` line{'s' if len(ls) > 1 else ''} {', '.join(ls)}"
            for path, ls in by_path.items()
        )
        lines += [f"Reported: {where}.", ""]
    return lines


def _suppression(rule: type[RuleInfo]) -> list[str]:
    code = rule.code
    turn_off = (
        f"To turn the rule off for the whole project, add `{code}` to `rules.ignore` in "
        f"`layerguard.yaml` (or pass `--ignore {code}` to one run)."
    )
    if not inline_suppressible(rule):
        if issubclass(rule, SuppressionRule):
            why = "a suppression cannot excuse itself; fix the comment instead."
        elif rule.reports_in_cards:
            why = (
                "its findings are lines of placement cards, which take no comments; correct the "
                "card (or the code), or record the finding in a baseline (docs/adoption.md)."
            )
        elif family(rule.code) == "input":
            why = (
                "the file or card could not be read, so neither could a comment in it; fix the "
                "input instead."
            )
        else:
            why = "it is checked after comments are applied; fix what it reports instead."
        return [f"Findings of {code} cannot be suppressed with a comment: {why}", "", turn_off]
    return [
        "Accept one finding with a comment that says why, at the end of the reported line or "
        "on its own line just above it:",
        "",
        "```python",
        f"# layerguard: ignore[{code}] <why this one is acceptable>",
        "```",
        "",
        "A suppression without a reason (LG901) and one that no longer hides anything (LG902) "
        "are findings themselves. Comments work in Python files; on a codebase with many "
        "existing findings, use a baseline instead (docs/adoption.md). " + turn_off,
    ]


_SCOPE_KINDS = {
    "type_checking": "under `if TYPE_CHECKING:`",
    "lazy": "inside a function",
    "conditional": "under another `if`, or in a `try`",
}


def _scope(rule: type[RuleInfo]) -> list[str]:
    policy = scope_policy(rule)
    if policy is None:
        return []
    lines = ["Plain module-level imports always count. By default this rule counts:", ""]
    lines += [
        f"- `{kind}` imports ({_SCOPE_KINDS.get(kind, kind)}): {'yes' if on else 'no'}"
        for kind, on in policy.items()
    ]
    flip = next((kind for kind, on in policy.items() if not on), "lazy")
    lines += [
        "",
        "A project changes this under `import_scopes` in `layerguard.yaml`, e.g.:",
        "",
        "```yaml",
        "import_scopes:",
        f"  {rule.code}: {{{flip}: {str(not policy[flip]).lower()}}}",
        "```",
    ]
    return lines


def explain(rule: type[RuleInfo], level: int = 1) -> str:
    """One rule's page in markdown: what, why and how to fix, examples, scope, suppression."""
    h = "#" * level
    enabled = "yes" if rule.enabled_by_default else "no (opt in with `rules.extend_select`)"
    lines = [
        f"{h} {rule.code} {rule.name}",
        "",
        rule.summary,
        "",
        f"- Family: {family(rule.code)}",
        f"- Default level: {rule.severity.value}",
        f"- Enabled by default: {enabled}",
    ]
    if rule.default_scope is not None:
        lines.append(f"- Import scopes: {describe_scope(rule)}")
    lines += ["", f"{h}# Why, and how to fix it", "", explanation_of(rule), ""]
    for number, example in enumerate(rule.invalid, 1):
        suffix = f" {number}" if len(rule.invalid) > 1 else ""
        lines += _example(example, f"Bad{suffix}: {example.title}", level + 1)
    for number, example in enumerate(rule.valid, 1):
        suffix = f" {number}" if len(rule.valid) > 1 else ""
        lines += _example(example, f"Good{suffix}: {example.title}", level + 1)
    scope = _scope(rule)
    if scope:
        lines += [f"{h}# Which imports count", "", *scope, ""]
    lines += [f"{h}# Suppressing it", "", *_suppression(rule), ""]
    return "\n".join(lines)


# --- every rule (`layerguard rules`) --------------------------------------------------------


def _anchor(rule: type[RuleInfo]) -> str:
    return f"#{rule.code.lower()}-{rule.name}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_text(rules: Iterable[type[RuleInfo]] = ALL_RULES) -> str:
    """An aligned table for the terminal."""
    header = ("CODE", "NAME", "LEVEL", "DEFAULT", "IMPORT SCOPES", "SUMMARY")
    rows = [header] + [
        (
            rule.code,
            rule.name,
            rule.severity.value,
            "on" if rule.enabled_by_default else "off",
            describe_scope(rule).replace("`", "").replace("—", "-"),
            rule.summary,
        )
        for rule in rules
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        + "\n"
        for row in rows
    )


def rule_data(rule: type[RuleInfo]) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "family": family(rule.code),
        "level": rule.severity.value,
        "enabled_by_default": rule.enabled_by_default,
        "import_scopes": scope_policy(rule),
        "summary": rule.summary,
        "explanation": explanation_of(rule),
    }


def rules_json(rules: Iterable[type[RuleInfo]] = ALL_RULES) -> str:
    data = {"schema_version": JSON_SCHEMA_VERSION, "rules": [rule_data(rule) for rule in rules]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def rules_markdown(rules: Iterable[type[RuleInfo]] = ALL_RULES) -> str:
    """docs/rules.md: the table, then every rule's `explain` page."""
    rules = tuple(rules)
    lines = [
        "<!-- GENERATED by `layerguard rules --output-format markdown > docs/rules.md`; "
        "do not edit. -->",
        "",
        "# Rule reference",
        "",
        "Every rule layerguard checks, generated from the rules themselves: the examples below "
        "are the ones the test suite runs through `layerguard check`. `layerguard explain CODE` "
        "prints one rule's section in the terminal. Codes are stable: a code is never reused "
        "for another rule.",
        "",
        "Examples use the layout of the `hoc` preset (`layerguard init --preset hoc`) unless "
        "they show their own `layerguard.yaml`. Choose rules with `rules:` in "
        "`layerguard.yaml` ([configuration.md](configuration.md)) or `--select`/`--ignore` on "
        "the command "
        "line; codes and prefixes both work (`LG1` is every import rule).",
        "",
        "| code | name | level | enabled by default | import scopes | summary |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| [{rule.code}]({_anchor(rule)}) | `{rule.name}` | {rule.severity.value} | "
        f"{'yes' if rule.enabled_by_default else 'no'} | {describe_scope(rule)} | "
        f"{_cell(rule.summary)} |"
        for rule in rules
    ]
    lines.append("")
    current = ""
    for rule in rules:
        if family(rule.code) != current:
            current = family(rule.code)
            lines += [f"## {current.capitalize()} ({rule.code[:3]}xx)", ""]
        lines.append(explain(rule, level=3))
    return "\n".join(lines).rstrip("\n") + "\n"
