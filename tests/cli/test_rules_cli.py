"""`layerguard rules` and `layerguard explain` through the real CLI, against the registry."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from layerguard.cli.app import app
from layerguard.linter.rules.base import RuleInfo
from layerguard.linter.rules.reference import explanation_of, inline_suppressible
from layerguard.linter.rules.registry import ALL_RULES, RULES_BY_CODE


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def scope_cell(rule: type[RuleInfo]) -> str:
    if rule.default_scope is None:
        return "-"
    skipped = [kind for kind, counted in vars_of(rule.default_scope).items() if not counted]
    return " ".join(skipped) + " not counted" if skipped else "all imports"


def vars_of(policy: object) -> dict[str, bool]:
    return {kind: getattr(policy, kind) for kind in ("type_checking", "lazy", "conditional")}


def test_rules_text_is_a_table_of_every_rule() -> None:
    code, out, _ = invoke("rules")
    assert code == 0
    header, *rows = out.splitlines()
    assert re.split(r"\s{2,}", header) == [
        "CODE",
        "NAME",
        "LEVEL",
        "DEFAULT",
        "IMPORT SCOPES",
        "SUMMARY",
    ]
    assert [re.split(r"\s{2,}", row) for row in rows] == [
        [
            rule.code,
            rule.name,
            rule.severity.value,
            "on" if rule.enabled_by_default else "off",
            scope_cell(rule),
            rule.summary,
        ]
        for rule in ALL_RULES
    ]
    assert re.split(r"\s{2,}", rows[[r.code for r in ALL_RULES].index("LG102")])[4] == (
        "type_checking not counted"
    )
    # Columns are aligned: every summary starts at the same offset.
    assert len({len(row) - len(row.rstrip().split("  ")[-1]) for row in out.splitlines()}) == 1


def test_rules_json_carries_every_declared_field() -> None:
    code, out, _ = invoke("rules", "--output-format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["schema_version"] == 1
    assert [rule["code"] for rule in data["rules"]] == [rule.code for rule in ALL_RULES]
    lg102 = next(rule for rule in data["rules"] if rule["code"] == "LG102")
    assert lg102 == {
        "code": "LG102",
        "name": "forbidden-module-import",
        "family": "imports",
        "level": "error",
        "enabled_by_default": True,
        "import_scopes": {"type_checking": False, "lazy": True, "conditional": True},
        "summary": RULES_BY_CODE["LG102"].summary,
        "explanation": explanation_of(RULES_BY_CODE["LG102"]),
    }
    lg201 = next(rule for rule in data["rules"] if rule["code"] == "LG201")
    assert lg201["import_scopes"] is None
    assert lg201["family"] == "transactions"


def headings(page: str) -> list[str]:
    """Markdown headings outside code blocks."""
    found, fence = [], ""
    for line in page.splitlines():
        marker = re.match(r"^(`{3,})", line)
        if marker and (not fence or marker.group(1) == fence):
            fence = "" if fence else marker.group(1)
        elif not fence and line.startswith("#"):
            found.append(line)
    return found


def test_explain_import_rule_exact_outline_and_sections() -> None:
    code, page, _ = invoke("explain", "LG102")
    assert code == 0
    assert headings(page) == [
        "# LG102 forbidden-module-import",
        "## Why, and how to fix it",
        "## Bad: a route reaches the database directly",
        "## Good: a type-only import, and the runtime's own types",
        "## Which imports count",
        "## Suppressing it",
    ]
    assert page.startswith(
        "# LG102 forbidden-module-import\n\n"
        "A module imports an external package or module its layer forbids.\n\n"
        "- Family: imports\n"
        "- Default level: error\n"
        "- Enabled by default: yes\n"
        "- Import scopes: `type_checking` not counted\n\n"
        "## Why, and how to fix it\n\n"
        + explanation_of(RULES_BY_CODE["LG102"])
        + "\n\n## Bad: a route reaches the database directly\n\n"
        "`backend/app/hoc/api/cus/policies/policies.py`:\n\n"
        "```python\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
    )
    assert (
        "Reported: `backend/app/hoc/api/cus/policies/policies.py` lines 1, 2, 3, 4, 5, 8.\n" in page
    )
    assert (
        "- `type_checking` imports (under `if TYPE_CHECKING:`): no\n"
        "- `lazy` imports (inside a function): yes\n"
        "- `conditional` imports (under another `if`, or in a `try`): yes\n"
    ) in page
    assert "import_scopes:\n  LG102: {type_checking: true}\n" in page
    assert "# layerguard: ignore[LG102] <why this one is acceptable>\n" in page


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_explain_every_rule_shows_its_examples(rule: type[RuleInfo]) -> None:
    code, page, _ = invoke("explain", rule.code)
    assert code == 0
    assert page.startswith(f"# {rule.code} {rule.name}\n\n{rule.summary}\n")
    assert explanation_of(rule) in page
    for kind, examples in (("Bad", rule.invalid), ("Good", rule.valid)):
        for example in examples:
            assert any(h.endswith(f": {example.title}") for h in headings(page) if kind in h)
            for path, text in example.sources().items():
                if path in example.files:
                    assert f"`{path}`" in page
                    assert text.rstrip("\n") in page
    if inline_suppressible(rule):
        assert f"# layerguard: ignore[{rule.code}] " in page
    else:
        assert f"Findings of {rule.code} cannot be suppressed with a comment" in page
    assert f"add `{rule.code}` to `rules.ignore`" in page
    assert ("## Which imports count" in page) == (rule.default_scope is not None)


def test_explain_accepts_any_case_and_rule_names() -> None:
    _, by_code, _ = invoke("explain", "LG201")
    assert invoke("explain", "lg201")[1] == by_code
    assert invoke("explain", "transaction-outside-owner")[1] == by_code


def test_explain_nests_fences_around_cards_that_hold_fences() -> None:
    _, page, _ = invoke("explain", "LG002")
    assert "````markdown\n# policies.py\n" in page
    assert "```yaml\nboundary:\n  allowed_inbound: [unclosed\n```\n````\n" in page


@pytest.mark.parametrize(
    ("typed", "first"),
    [("LG1O2", "LG102"), ("lg1o3", "LG103"), ("forbiden-module-import", "LG102")],
)
def test_explain_unknown_rule_exits_2_with_close_matches(typed: str, first: str) -> None:
    code, out, err = invoke("explain", typed)
    assert (code, out) == (2, "")
    assert re.fullmatch(
        rf"layerguard: unknown rule '{typed}'; did you mean {first}((, LG\d+)* or LG\d+)\? "
        r"`layerguard rules` lists every rule\n",
        err,
    ), err


def test_explain_unknown_rule_without_close_matches() -> None:
    assert invoke("explain", "nothing-like-it") == (
        2,
        "",
        "layerguard: unknown rule 'nothing-like-it'; `layerguard rules` lists every rule\n",
    )


def flat(text: str) -> str:
    """Help text as one line of words, whether click or rich (with its boxes) rendered it."""
    return " ".join(re.sub("[│╭╮╰╯─]", " ", text).split())


def test_help_texts() -> None:
    for command in ("rules", "explain", "check"):
        code, out, _ = invoke(command, "--help")
        assert code == 0
        assert "Usage: layerguard " + command in flat(out)
    assert "markdown: the whole rule reference" in flat(invoke("rules", "--help")[1])
    assert "A rule code (LG101, any case) or name" in flat(invoke("explain", "--help")[1])
    check_help = flat(invoke("check", "--help")[1])
    assert "text, json, jsonl, sarif, github, junit (see docs/output.md)" in check_help
    assert "Default: github when GITHUB_ACTIONS=true, else text." in check_help


REPOSITORY = Path(__file__).parents[2]


def codes_in_the_source() -> set[str]:
    """Every LGnnn written anywhere in layerguard's code, docs and presets."""
    found: set[str] = set()
    for pattern in ("layerguard/**/*.py", "layerguard/**/*.yaml", "docs/**/*.md", "README.md"):
        for path in REPOSITORY.glob(pattern):
            found.update(re.findall(r"\bLG\d{3}\b", path.read_text("utf-8")))
    return found


def test_explain_knows_every_code_the_tool_can_print() -> None:
    found = codes_in_the_source()
    assert {"LG003", "LG904"} <= found
    for code in sorted(found):
        exit_code, out, err = invoke("explain", code)
        assert (exit_code, err) == (0, ""), code
        assert out.startswith(f"# {code} {RULES_BY_CODE[code].name}\n")


def test_explain_config_and_baseline_codes() -> None:
    for code, name in (("LG003", "invalid-config"), ("LG904", "stale-baseline-entry")):
        exit_code, out, _ = invoke("explain", code)
        assert exit_code == 0
        assert out.startswith(f"# {code} {name}\n")
