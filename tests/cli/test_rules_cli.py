"""`layerguard rules` and `layerguard explain` through the real CLI, against the registry."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from layerguard.cli.app import app
from layerguard.linter.rules.base import Example, RuleInfo
from layerguard.linter.rules.reference import SECTIONS, explain, inline_suppressible
from layerguard.linter.rules.registry import ALL_RULES, RULES_BY_CODE
from tests.helpers import Run, write_project


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
            "with transactions:"
            if rule.code in ("LG201", "LG202")
            else ("on" if rule.enabled_by_default else "off"),
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
    assert data["schema_version"] == 2
    assert [rule["code"] for rule in data["rules"]] == [rule.code for rule in ALL_RULES]
    lg102 = next(rule for rule in data["rules"] if rule["code"] == "LG102")
    sections = lg102.pop("sections")
    assert lg102 == {
        "code": "LG102",
        "name": "forbidden-module-import",
        "family": "imports",
        "level": "error",
        "enabled_by_default": True,
        "enabled_with_section": None,
        "import_scopes": {"type_checking": False, "lazy": True, "conditional": True},
        "summary": RULES_BY_CODE["LG102"].summary,
    }
    assert list(sections) == ["what", "why", "example", "instead", "options"]
    assert sections["what"] == text_of(RULES_BY_CODE["LG102"].catches)
    assert sections["why"] == text_of(RULES_BY_CODE["LG102"].why)
    assert sections["example"].startswith("### A route reaches the database directly\n")
    assert sections["instead"].startswith(text_of(RULES_BY_CODE["LG102"].instead) + "\n\n### ")
    assert "  LG102: {type_checking: true}\n" in sections["options"]
    lg201 = next(rule for rule in data["rules"] if rule["code"] == "LG201")
    assert lg201["import_scopes"] is None
    assert lg201["family"] == "transactions"
    assert lg201["enabled_with_section"] == "transactions"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_rules_json_sections_are_the_explain_page(rule: type[RuleInfo]) -> None:
    """The JSON carries each section exactly as `explain` prints it, nothing more or less."""
    data = json.loads(invoke("rules", "--output-format", "json")[1])
    [entry] = [r for r in data["rules"] if r["code"] == rule.code]
    assert page_sections(invoke("explain", rule.code)[1]) == {
        heading: entry["sections"][key] for key, heading in SECTIONS
    }


def text_of(markdown: str) -> str:
    return textwrap.dedent(markdown).strip()


def lines_with_fences(page: str) -> Iterator[tuple[str, bool]]:
    """Each line of a markdown page, and whether it is code (a fence or inside one)."""
    fence = ""
    for line in page.splitlines():
        marker = re.match(r"^(`{3,})", line)
        if marker and (not fence or marker.group(1) == fence):
            fence = "" if fence else marker.group(1)
            yield line, True
        else:
            yield line, bool(fence)


def headings(page: str) -> list[str]:
    """Markdown headings outside code blocks."""
    return [line for line, code in lines_with_fences(page) if not code and line.startswith("#")]


def page_sections(page: str, level: int = 2) -> dict[str, str]:
    """The body of each heading of `level` (outside code blocks), by heading text."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line, code in lines_with_fences(page):
        if not code and re.match(rf"^#{{1,{level}}} ", line):
            current = None
            if line.startswith("#" * level + " "):
                current = found.setdefault(line[level + 1 :], [])
                continue
        if current is not None:
            current.append(line)
    return {heading: "\n".join(lines).strip() for heading, lines in found.items()}


FIXED_SECTIONS = ["What it catches", "Why it matters", "Example", "Use instead", "Options"]


def structure_problems(page: str, level: int = 2) -> list[str]:
    """What keeps a rule page from having exactly the fixed sections, in order, each with a
    body: ruff's rule page layout, which every rule must follow."""
    outline = [h[level + 1 :] for h in headings(page) if h.startswith("#" * level + " ")]
    problems = [] if outline == FIXED_SECTIONS else [f"sections {outline}"]
    bodies = page_sections(page, level)
    problems += [f"empty {name}" for name in FIXED_SECTIONS if not bodies.get(name)]
    return problems


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_every_rule_page_has_the_fixed_sections(rule: type[RuleInfo]) -> None:
    for name in ("summary", "catches", "why", "instead", "options"):
        declared = rule.__dict__.get(name)  # not inherited from a family base
        assert isinstance(declared, str), f"{rule.__name__} declares no {name}"
        assert text_of(declared), f"{rule.__name__}.{name} is empty"
    code, page, _ = invoke("explain", rule.code)
    assert code == 0
    assert structure_problems(page) == []
    sections = page_sections(page)
    assert sections["What it catches"] == text_of(rule.catches)
    assert sections["Why it matters"] == text_of(rule.why)
    assert sections["Use instead"].startswith(text_of(rule.instead) + "\n\n")
    assert sections["Options"].startswith(text_of(rule.options) + "\n\n")
    # The invalid examples are the Example, the valid ones follow Use instead.
    for heading, examples in (("Example", rule.invalid), ("Use instead", rule.valid)):
        titles = [h for h in headings(sections[heading]) if h.startswith("### ")]
        assert titles == [f"### {example.title}" for example in examples]
    # In docs/rules.md the same page sits two levels deeper.
    assert structure_problems(explain(rule, level=3), level=4) == []


class UndocumentedWhy(RuleInfo):
    """A rule whose author left one section blank."""

    code = "LG999"
    summary = "A rule for the structure test."
    catches = "Nothing."
    why = "  \n"
    instead = "Anything."
    options = "None."
    invalid = (Example({"a.py": "x = 1\n"}, expected=(("a.py", 1),), title="An example"),)
    valid = (Example({"a.py": "y = 1\n"}, title="Another"),)


def test_the_structure_check_reports_a_blank_section() -> None:
    assert structure_problems(explain(UndocumentedWhy)) == ["empty Why it matters"]
    page = explain(UndocumentedWhy).replace("## Use instead", "## Use this")
    assert structure_problems(page) == [
        "sections ['What it catches', 'Why it matters', 'Example', 'Use this', 'Options']",
        "empty Why it matters",
        "empty Use instead",
    ]


def test_explain_import_rule_exact_outline_and_sections() -> None:
    code, page, _ = invoke("explain", "LG102")
    assert code == 0
    assert headings(page) == [
        "# LG102 forbidden-module-import",
        "## What it catches",
        "## Why it matters",
        "## Example",
        "### A route reaches the database directly",
        "## Use instead",
        "### A type-only import, and the runtime's own types",
        "## Options",
    ]
    rule = RULES_BY_CODE["LG102"]
    assert page.startswith(
        "# LG102 forbidden-module-import\n\n"
        "A module imports an external package or module its layer forbids.\n\n"
        "- Family: imports\n"
        "- Default level: error\n"
        "- Enabled by default: yes\n"
        "- Import scopes: `type_checking` not counted\n\n"
        f"## What it catches\n\n{text_of(rule.catches)}\n\n"
        f"## Why it matters\n\n{text_of(rule.why)}\n\n"
        "## Example\n\n"
        "### A route reaches the database directly\n\n"
        "`backend/app/hoc/api/cus/policies/policies.py`:\n\n"
        "```python\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
    )
    assert (
        "Reported: `backend/app/hoc/api/cus/policies/policies.py` lines 1, 2, 3, 4, 5, 8.\n"
        "\n## Use instead\n\n" + text_of(rule.instead) + "\n\n"
        "### A type-only import, and the runtime's own types\n"
    ) in page
    options = page_sections(page)["Options"]
    assert options.startswith(text_of(rule.options) + "\n\n**Import scopes.** ")
    assert (
        "- `type_checking` imports (under `if TYPE_CHECKING:`): no\n"
        "- `lazy` imports (inside a function): yes\n"
        "- `conditional` imports (in a `try`, a `with`, a loop, a `match` case, or under another "
        "`if` or "
        "its `else`): yes\n"
    ) in options
    assert "import_scopes:\n  LG102: {type_checking: true}\n" in options
    assert "Add `LG102` to `rules.ignore` in `layerguard.yaml`" in options
    assert "# layerguard: ignore[LG102] <why this one is acceptable>\n" in options
    assert "record them in a baseline (`layerguard baseline create`" in options


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_explain_every_rule_shows_its_examples(rule: type[RuleInfo]) -> None:
    code, page, _ = invoke("explain", rule.code)
    assert code == 0
    assert page.startswith(f"# {rule.code} {rule.name}\n\n{rule.summary}\n")
    for examples in (rule.invalid, rule.valid):
        for example in examples:
            for path, text in example.sources().items():
                if path in example.files:
                    assert f"`{path}`" in page
                    assert text.rstrip("\n") in page
    options = page_sections(page)["Options"]
    if inline_suppressible(rule):
        assert f"# layerguard: ignore[{rule.code}] " in options
    else:
        assert f"{rule.code} findings cannot be suppressed with a comment" in options
    if rule.code == "LG003":
        assert "Always on:" in options
    elif rule.code in ("LG201", "LG202"):
        assert "project whose `layerguard.yaml` has a `transactions:` section" in options
        assert f"`rules: {{extend_select: [{rule.code}]}}`" in options
    elif rule.enabled_by_default:
        assert f"Add `{rule.code}` to `rules.ignore`" in options
    else:
        assert f"`rules: {{extend_select: [{rule.code}]}}`" in options
    assert ("**Import scopes.**" in options) == (rule.default_scope is not None)


def test_invalid_config_cannot_be_ignored_as_its_page_says(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    page = invoke("explain", "LG003")[1]
    assert "neither `rules.ignore` nor `--ignore LG003` turns LG003 off" in page
    write_project(tmp_path, {}, "version: 1\nlayerz: []\nrules:\n  ignore: [LG003]\n")
    run = run_cli(["check", "--ignore", "LG003"])
    assert run.exit_code == 2
    assert "layerguard.yaml:2: LG003 layerz: unknown key 'layerz'" in run.stderr


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


def test_no_code_string_is_written_twice() -> None:
    """A code is a string literal only in rules/codes.py (LG003 in contracts, which cannot
    import the linter); everything else refers to the constant."""
    import ast

    places: dict[str, list[str]] = {}
    for path in sorted((REPOSITORY / "layerguard").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and re.fullmatch(r"LG\d{3}", value):
                places.setdefault(value, []).append(path.relative_to(REPOSITORY).as_posix())
    repeated = {code: where for code, where in places.items() if len(where) > 1}
    assert repeated == {}
    assert set(places["LG101"]) == {"layerguard/linter/rules/codes.py"}
    assert places["LG003"] == ["layerguard/contracts/config/errors.py"]
