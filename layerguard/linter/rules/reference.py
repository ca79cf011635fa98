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
from layerguard.linter.diagnostics import Severity
from layerguard.linter.rules.base import Example, RuleInfo
from layerguard.linter.rules.codes import (
    FIXED_BY_CARD_SYNC,
    ON_WITH_SECTION,
    STALE_BASELINE_ENTRY,
)
from layerguard.linter.rules.registry import ALL_RULES, INDEX_RULES, RULES_BY_CODE
from layerguard.linter.rules.suppressions import SuppressionRule

JSON_SCHEMA_VERSION = 2
"""Of `rules --output-format json`. 2: each rule's free-form `explanation` became `sections`."""

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
    return (
        rule in INDEX_RULES
        and family(rule.code) != "input"
        and not rule.reports_in_cards
        and not rule.reports_in_contract
    )


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
    # A code typed with a letter for a digit (`LG1O2`) means that code, not a neighbour.
    digits = wanted.upper()[:2] + wanted.upper()[2:].translate(str.maketrans("OIL", "011"))
    found = [digits] if digits in by_label else []
    found += difflib.get_close_matches(wanted.upper(), candidates, n=3, cutoff=0.6)
    found += difflib.get_close_matches(wanted.lower(), candidates, n=3, cutoff=0.6)
    codes: list[str] = []
    for label in found:
        code = by_label[label]
        if code not in codes:
            codes.append(code)
    return codes[:3]


# --- one rule's page (`layerguard explain`) -------------------------------------------------

SECTIONS: tuple[tuple[str, str], ...] = (
    ("what", "What it catches"),
    ("why", "Why it matters"),
    ("example", "Example"),
    ("instead", "Use instead"),
    ("options", "Options"),
)
"""Every rule page's sections, in this order, as ruff's rule pages have them: (key in
`rules --output-format json`, heading)."""


def _text(markdown: str) -> str:
    return textwrap.dedent(markdown).strip()


def _fence(path: str, text: str) -> list[str]:
    """A code block whose fence is longer than any backtick run inside (cards hold fences)."""
    language = _FENCE_LANGUAGES.get(PurePosixPath(path).suffix, "")
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"`{path}`:", "", f"{fence}{language}", text.rstrip("\n"), fence, ""]


def _example(example: Example, level: int) -> list[str]:
    lines = [f"{'#' * level} {example.title}", ""]
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


def _examples(examples: Iterable[Example], level: int) -> str:
    return "\n".join(line for example in examples for line in _example(example, level)).strip()


_SCOPE_KINDS = {
    "type_checking": "under `if TYPE_CHECKING:`",
    "lazy": "inside a function",
    "conditional": "in a `try`, a `with`, a loop, a `match` case, or under another `if` or its "
    "`else`",
}


def _scope(rule: type[RuleInfo]) -> list[str]:
    policy = scope_policy(rule)
    if policy is None:
        return []
    lines = [
        f"**Import scopes.** Plain module-level imports always count. By default {rule.code} "
        "also counts:",
        "",
    ]
    lines += [
        f"- `{kind}` imports ({_SCOPE_KINDS.get(kind, kind)}): {'yes' if on else 'no'}"
        for kind, on in policy.items()
    ]
    flip = next((kind for kind, on in policy.items() if not on), "lazy")
    lines += [
        "",
        "`import_scopes` in `layerguard.yaml` changes this kind by kind, e.g.:",
        "",
        "```yaml",
        "import_scopes:",
        f"  {rule.code}: {{{flip}: {str(not policy[flip]).lower()}}}",
        "```",
        "",
    ]
    return lines


def _runs_in_check(rule: type[RuleInfo]) -> bool:
    """Whether `check` runs the rule, so that rule selection applies to it: every rule but
    the one about the contract, which is read (and must be valid) before rules are selected."""
    return rule in INDEX_RULES or family(rule.code) != "input"


def default_text(rule: type[RuleInfo]) -> str:
    """Whether a rule runs by default, in a few words: `on`, `off`, `with transactions:`."""
    section = ON_WITH_SECTION.get(rule.code)
    if section is not None:
        return f"with {section}:"
    return "on" if rule.enabled_by_default else "off"


def _enabling(rule: type[RuleInfo]) -> str:
    code = rule.code
    section = ON_WITH_SECTION.get(code)
    if section is not None:
        return (
            f"**Enabling.** On by default in a project whose `layerguard.yaml` has a "
            f"`{section}:` section (the hoc preset has one); off in a project without one, "
            f"which has not said it uses SQLAlchemy's transactions. Turn it on there with "
            f"`rules: {{extend_select: [{code}]}}` (or `[LG2]` for the family), or for one run "
            f"with `--extend-select {code}`. Add `{code}` to `rules.ignore` in `layerguard.yaml` "
            f"to turn it off for the project, or pass `--ignore {code}` for one run."
        )
    if not _runs_in_check(rule):
        return (
            f"**Enabling.** Always on: `layerguard.yaml` is read before rules are selected, so "
            f"neither `rules.ignore` nor `--ignore {code}` turns {code} off."
        )
    if not rule.enabled_by_default:
        return (
            f"**Enabling.** Off by default. Opt in for the project with "
            f"`rules: {{extend_select: [{code}]}}` in `layerguard.yaml`, or for one run with "
            f"`--extend-select {code}` (`--select {code}` runs only the rules it names: "
            "`--select ALL` runs every rule)."
        )
    return (
        f"**Enabling.** On by default. Add `{code}` to `rules.ignore` in `layerguard.yaml` to "
        f"turn it off for the project, or pass `--ignore {code}` for one run, or list it under "
        "a glob in `rules.per_file_ignores` to turn it off in some files. `rules.select` and "
        "`--select` run only the rules they name; codes and prefixes both work (`LG1` is every "
        "import rule)."
    )


def _suppression(rule: type[RuleInfo]) -> str:
    code = rule.code
    if inline_suppressible(rule):
        return "\n".join(
            [
                "**Suppressing a finding.** Accept one finding with a comment that says why, at "
                "the end of the reported line or on its own line just above it:",
                "",
                "```python",
                f"# layerguard: ignore[{code}] <why this one is acceptable>",
                "```",
                "",
                "A suppression without a reason (LG901) and one that no longer hides anything "
                "(LG902) are findings themselves. Comments work in Python files.",
            ]
        )
    if issubclass(rule, SuppressionRule):
        why = "a suppression cannot excuse itself; fix the comment instead."
    elif rule.reports_in_contract:
        why = (
            "its findings are lines of the contract, which the rules do not read comments in; "
            "fix the contract, or turn the rule off with `rules.ignore`."
        )
    elif rule.reports_in_cards:
        why = (
            "its findings are lines of placement cards, which take no suppression comments; "
            "correct the card (or the code) instead."
        )
    elif not _runs_in_check(rule):
        why = "no rule runs, and so no comment is read, until the contract is valid."
    elif family(rule.code) == "input":
        why = (
            "the file or card could not be read, so neither could a comment in it; fix the "
            "input instead."
        )
    else:
        why = (
            "it is judged after the comments are applied, and what it reports is not a line of "
            "Python; fix what it reports instead."
        )
    return f"**Suppressing a finding.** {code} findings cannot be suppressed with a comment: {why}"


def _baseline(rule: type[RuleInfo]) -> str:
    code = rule.code
    if not _runs_in_check(rule):
        reason = "no check runs to find them."
    elif rule.code == STALE_BASELINE_ENTRY:
        reason = "they are about the baseline itself."
    elif rule.severity is Severity.INFO:
        reason = "they are informational and never fail a check, so there is nothing to accept."
    elif family(rule.code) == "input" and not rule.reports_in_contract:
        return (
            f"**Baseline.** A baseline can record {code} findings, but what they are about stays "
            "unread, and so unchecked, while they are hidden: fix the input instead."
        )
    else:
        return (
            f"**Baseline.** On a codebase with many existing {code} findings, record them in a "
            "baseline (`layerguard baseline create`, docs/adoption.md): `check` then fails on "
            "new findings only, and on entries whose finding is gone (LG904) until "
            "`layerguard baseline update` removes them."
        )
    return f"**Baseline.** A baseline does not record {code} findings: {reason}"


def _options(rule: type[RuleInfo]) -> str:
    lines = [_text(rule.options), "", *_scope(rule), _enabling(rule), ""]
    lines += [_suppression(rule), "", _baseline(rule)]
    return "\n".join(lines)


def sections(rule: type[RuleInfo], level: int = 1) -> dict[str, str]:
    """The bodies of a rule page's sections by key (markdown; example headings at `level` + 2,
    below the section headings at `level` + 1)."""
    return {
        "what": _text(rule.catches),
        "why": _text(rule.why),
        "example": _examples(rule.invalid, level + 2),
        "instead": _text(rule.instead) + "\n\n" + _examples(rule.valid, level + 2),
        "options": _options(rule),
    }


def explain(rule: type[RuleInfo], level: int = 1) -> str:
    """One rule's page in markdown: the summary and facts, then the fixed sections."""
    h = "#" * level
    if not _runs_in_check(rule):
        enabled = "always"
    elif rule.code in ON_WITH_SECTION:
        enabled = f"in projects with a `{ON_WITH_SECTION[rule.code]}:` section"
    elif rule.enabled_by_default:
        enabled = "yes"
    else:
        enabled = "no (opt in with `rules.extend_select`)"
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
    if rule.code in FIXED_BY_CARD_SYNC:
        lines.append(
            "- Fix: `layerguard check --fix` rewrites the card's machine-owned parts from the "
            "code, as `layerguard cards sync` does"
        )
    lines.append("")
    bodies = sections(rule, level)
    for key, heading in SECTIONS:
        lines += [f"{h}# {heading}", "", bodies[key], ""]
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
            default_text(rule),
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


def _markdown_default(rule: type[RuleInfo]) -> str:
    section = ON_WITH_SECTION.get(rule.code)
    if section is not None:
        return f"with `{section}:`"
    return "yes" if rule.enabled_by_default else "no"


def rule_data(rule: type[RuleInfo]) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "family": family(rule.code),
        "level": rule.severity.value,
        "enabled_by_default": rule.enabled_by_default,
        "enabled_with_section": ON_WITH_SECTION.get(rule.code),
        "import_scopes": scope_policy(rule),
        "summary": rule.summary,
        "sections": sections(rule),
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
        "Every rule's section has the same five parts, as ruff's rule pages do: **What it "
        "catches**, **Why it matters**, an **Example** of code it reports (and where), what to "
        "**Use instead**, and its **Options**: the `layerguard.yaml` keys that change what it "
        "reports, how to turn it on or off, and how to accept a finding.",
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
        f"{_markdown_default(rule)} | {describe_scope(rule)} | "
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
