"""The machine-readable reports (SARIF, GitHub annotations, JUnit, JSON lines) through the real
`layerguard check`, on the fixture project of test_check_cli.py and on projects built to
stress one format: exact lines, escaping, schema validity, stable fingerprints."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from layerguard.cli.app import app
from layerguard.cli.commands.check import OUTPUT_FORMATS
from layerguard.linter.diagnostics import Severity
from layerguard.linter.reporters import FORMAT_MODULES, github, renderer, sarif
from layerguard.linter.rules import reference
from layerguard.linter.rules.registry import ALL_RULES, RULES_BY_CODE
from tests.cli.test_check_cli import DRIVER, EXPECTED, FILES, ROUTE, config_text
from tests.helpers import HOC_CONTRACT, Run, write_project

SARIF_SCHEMA = Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json"
DOCS = Path(__file__).parents[2] / "docs"
L6 = "backend/app/hoc/cus/policies/L6_drivers"
# A path with every character the annotation properties must escape.
ODD_DRIVER = f"{L6}/we,ird:na%me.py"
# Findings whose messages carry `%`, `:`, `,` and newlines: the receiver is quoted verbatim.
ODD_SOURCE = (
    'async def f(s):\n    await s["a,b:%"].commit()\n    await s[\n        "x"\n    ].rollback()\n'
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, FILES, config_text())


def columns(run: Run) -> dict[tuple[str, str, int], int]:
    return {(f["code"], f["path"], f["line"]): f["col"] for f in run.report["findings"]}


def test_every_format_is_offered_by_check() -> None:
    assert set(OUTPUT_FORMATS) == set(FORMAT_MODULES)
    assert all(callable(renderer(name)) for name in FORMAT_MODULES)


# --- SARIF -----------------------------------------------------------------------------------


def sarif_of(run_cli: Callable[..., Run], *args: str) -> dict[str, Any]:
    run = run_cli(["check", "--output-format", "sarif", "--no-cache", *args])
    assert run.exit_code in (0, 1), run.stderr
    data: dict[str, Any] = json.loads(run.stdout)
    return data


def assert_valid_sarif(data: dict[str, Any]) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


def test_sarif_is_valid_against_the_official_schema(
    project: Path, run_cli: Callable[..., Run]
) -> None:
    data = sarif_of(run_cli)
    assert_valid_sarif(data)
    assert data["version"] == "2.1.0"
    assert len(data["runs"]) == 1


def test_sarif_lists_every_rule_with_its_help(project: Path, run_cli: Callable[..., Run]) -> None:
    driver = sarif_of(run_cli)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "layerguard"
    assert driver["informationUri"] == sarif.INFORMATION_URI
    assert [rule["id"] for rule in driver["rules"]] == [rule.code for rule in ALL_RULES]
    lg102 = next(rule for rule in driver["rules"] if rule["id"] == "LG102")
    assert lg102["name"] == "forbidden-module-import"
    assert lg102["shortDescription"] == {"text": RULES_BY_CODE["LG102"].summary}
    sections = reference.sections(RULES_BY_CODE["LG102"])
    description = lg102["fullDescription"]
    assert description["text"] == sections["what"] + "\n\n" + sections["why"]
    assert description["text"].startswith("An import, in a file of a layer, of a package")
    assert description["markdown"] == description["text"]
    page = reference.explain(RULES_BY_CODE["LG102"])
    assert lg102["help"] == {"text": page, "markdown": page}
    assert page.startswith("# LG102 forbidden-module-import\n")
    assert "# layerguard: ignore[LG102] <why this one is acceptable>" in lg102["help"]["text"]
    assert lg102["defaultConfiguration"] == {"level": "error", "enabled": True}


def test_sarif_results_point_at_rule_and_project_relative_location(
    project: Path, run_cli: Callable[..., Run]
) -> None:
    cols = columns(run_cli(["check", "--output-format", "json"]))
    run = sarif_of(run_cli)["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    codes = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    got = []
    for result in run["results"]:
        assert codes[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] == "error"
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        uri, region = location["artifactLocation"]["uri"], location["region"]
        got.append((result["ruleId"], uri, region["startLine"], region["startColumn"]))
    assert sorted(got) == sorted(
        (code, path, line, cols[code, path, line]) for code, path, line in EXPECTED
    )


def fingerprints(run: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """(rule, uri) -> fingerprints, in line order."""
    found: dict[tuple[str, str], list[str]] = {}
    for result in run["runs"][0]["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        found.setdefault((result["ruleId"], uri), []).append(
            result["partialFingerprints"]["layerguard/v1"]
        )
    return found


def test_sarif_fingerprints_survive_unrelated_lines_moving(
    project: Path, run_cli: Callable[..., Run]
) -> None:
    before = sarif_of(run_cli)
    route = project / ROUTE
    route.write_text('"""Policies API."""\n\nimport logging\n\n' + FILES[ROUTE], "utf-8")
    driver = project / DRIVER
    driver.write_text("import logging\n\n\n" + FILES[DRIVER], "utf-8")
    after = sarif_of(run_cli)
    lines = {
        json.dumps(r["locations"][0]["physicalLocation"]["region"])
        for r in after["runs"][0]["results"]
    } - {
        json.dumps(r["locations"][0]["physicalLocation"]["region"])
        for r in before["runs"][0]["results"]
    }
    assert lines  # the findings did move...
    assert fingerprints(after) == fingerprints(before)  # ...and kept their identity
    every = [fp for fps in fingerprints(after).values() for fp in fps]
    assert len(every) == len(set(every)) == len(EXPECTED)


def test_sarif_fingerprints_tell_equal_keys_apart_by_occurrence(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, {ROUTE: "import sqlalchemy\n\nimport sqlalchemy\n"})
    first = fingerprints(sarif_of(run_cli))[("LG102", ROUTE)]
    assert len(set(first)) == 2
    (tmp_path / ROUTE).write_text("x = 1\nimport sqlalchemy\nimport sqlalchemy\n", "utf-8")
    assert fingerprints(sarif_of(run_cli))[("LG102", ROUTE)] == first


def test_sarif_uris_are_percent_encoded_and_a_clean_run_is_valid(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    spaced = f"{L6}/my driver.py"
    write_project(tmp_path, {spaced: "async def f(s):\n    await s.commit()\n"})
    data = sarif_of(run_cli)
    assert_valid_sarif(data)
    [result] = data["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == f"{L6}/my%20driver.py"
    assert location["region"] == {"startLine": 2, "startColumn": 11}
    (tmp_path / spaced).write_text("async def f(s):\n    await s.flush()\n", "utf-8")
    clean = sarif_of(run_cli)
    assert_valid_sarif(clean)
    assert clean["runs"][0]["results"] == []


# --- GitHub Actions annotations ---------------------------------------------------------------


def test_github_annotations_for_every_finding(project: Path, run_cli: Callable[..., Run]) -> None:
    cols = columns(run_cli(["check", "--output-format", "json"]))
    report = run_cli(["check", "--output-format", "json"]).report
    run = run_cli(["check", "--output-format", "github"])
    assert run.exit_code == 1
    *annotations, summary = run.stdout.splitlines()
    assert annotations == [
        f"::error file={f['path']},line={f['line']},col={cols[f['code'], f['path'], f['line']]},"
        f"title={f['code']} {RULES_BY_CODE[f['code']].name}::{f['message']}"
        for f in report["findings"]
    ]
    assert annotations[0].startswith(
        f"::error file={ROUTE},line=3,col=1,title=LG101 forbidden-layer-import::L2 (API routes) "
        "must not import L5 (Domain engines) `app.hoc.cus.policies.L5_engines.policy_engine`"
    )
    assert summary.startswith(f"Found 11 findings in {len(FILES)} files and 0 cards")


def test_github_escapes_messages_and_paths(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    # A layer name with a carriage return and a colon reaches LG101's message.
    config = HOC_CONTRACT.replace("name: Drivers", 'name: "Drivers\\r: 50%, raw"')
    assert config != HOC_CONTRACT
    write_project(
        tmp_path,
        {ODD_DRIVER: ODD_SOURCE, ROUTE: "from app.hoc.cus.policies.L6_drivers import x\n"},
        config,
    )
    (tmp_path / L6 / "x.py").write_text("", "utf-8")
    raw = [f["message"] for f in run_cli(["check", "--output-format", "json"]).report["findings"]]
    run = run_cli(["check", "--output-format", "github"])
    # Each message starts with the part that needs escaping (raw, escaped); the rest of the
    # rule's wording is plain text that must come through unchanged.
    expected = [
        (
            f"::error file={ROUTE},line=1,col=1,title=LG101 forbidden-layer-import::",
            "L2 (API routes) must not import L6 (Drivers\r: 50%, raw)",
            "L2 (API routes) must not import L6 (Drivers%0D: 50%25, raw)",
        ),
        (
            f"::error file={L6}/we%2Cird%3Ana%25me.py,line=2,col=11,"
            "title=LG201 transaction-outside-owner::",
            '`s["a,b:%"].commit()`',
            '`s["a,b:%25"].commit()`',
        ),
        (
            f"::error file={L6}/we%2Cird%3Ana%25me.py,line=3,col=11,"
            "title=LG201 transaction-outside-owner::",
            '`s[\n    "x"\n].rollback()`',
            '`s[%0A    "x"%0A].rollback()`',
        ),
    ]
    assert len(raw) == len(expected)
    lines = run.stdout.splitlines()[:-1]
    for message, line, (command, unescaped, escaped) in zip(raw, lines, expected, strict=True):
        assert message.startswith(unescaped)
        rest = message[len(unescaped) :]
        assert not set(rest) & set("%\r\n")
        assert line == command + escaped + rest


def test_github_escaping_functions() -> None:
    assert github.escape_data("100%: a,b\r\nc") == "100%25: a,b%0D%0Ac"
    assert github.escape_property("100%: a,b\r\nc") == "100%25%3A a%2Cb%0D%0Ac"
    # `%` first: an escaped sequence must not be escaped twice.
    assert github.escape_property("%3A") == "%253A"
    assert set(github.COMMANDS) == set(Severity)
    assert github.COMMANDS[Severity.INFO] == "notice"


def invoke_with_env(project: Path, args: list[str], env: dict[str, str]) -> Run:
    result = CliRunner().invoke(app, args, env=env)
    return Run(result.exit_code, result.stdout, result.stderr)


def test_github_is_the_default_inside_github_actions(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    inside = invoke_with_env(project, ["check"], {"GITHUB_ACTIONS": "true"})
    assert inside.exit_code == 1
    assert inside.stdout.startswith(f"::error file={ROUTE},line=3,col=1,title=LG101 ")
    chosen = invoke_with_env(
        project, ["check", "--output-format", "json"], {"GITHUB_ACTIONS": "true"}
    )
    assert json.loads(chosen.stdout)["summary"]["findings"] == len(EXPECTED)
    outside = invoke_with_env(project, ["check"], {"GITHUB_ACTIONS": "false"})
    assert outside.stdout.startswith(f"{ROUTE}:3:1: LG101 ")


def test_github_paths_are_relative_to_the_working_directory(
    project: Path, run_cli: Callable[..., Run]
) -> None:
    run = run_cli(
        ["check", "--output-format", "github", "--select", "LG001"], cwd=project / "backend"
    )
    assert run.stdout.splitlines()[0].startswith(
        "::error file=app/hoc/cus/policies/L5_engines/broken.py,line=1,col=12,"
    )


# --- JUnit XML -----------------------------------------------------------------------------


def junit_of(run_cli: Callable[..., Run]) -> tuple[Run, ET.Element]:
    run = run_cli(["check", "--output-format", "junit"])
    assert run.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return run, ET.fromstring(run.stdout.encode("utf-8"))


def test_junit_has_a_suite_per_file_and_a_failure_per_finding(
    project: Path, run_cli: Callable[..., Run]
) -> None:
    run, root = junit_of(run_cli)
    assert run.exit_code == 1
    assert root.tag == "testsuites"
    assert root.attrib == {
        "name": "layerguard",
        "tests": "11",
        "failures": "11",
        "errors": "0",
        "skipped": "0",
    }
    paths = sorted({path for _, path, _ in EXPECTED})
    assert [suite.get("name") for suite in root] == paths
    got = []
    for suite in root:
        cases = suite.findall("testcase")
        assert suite.get("tests") == suite.get("failures") == str(len(cases))
        for case in cases:
            failure = case.find("failure")
            assert failure is not None
            assert case.get("classname") == case.get("file") == suite.get("name")
            code = failure.get("type")
            assert code is not None
            assert case.get("name", "").startswith(f"{code} {RULES_BY_CODE[code].name} at ")
            assert failure.text == (
                f"{case.get('file')}:{case.get('name', '').rsplit(' ', 1)[1]}: {code} "
                f"{failure.get('message')}"
            )
            got.append((code, suite.get("name"), int(case.get("line", "0"))))
    assert sorted(got) == sorted(EXPECTED)


def test_junit_exact_report_for_one_finding(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, {DRIVER: "async def f(s):\n    await s.commit()\n"})
    message = (
        "`s.commit()` in L6: only the request's session dependency may control transactions; "
        "remove it and let the owner commit (use flush() for generated keys)"
    )
    run = run_cli(["check", "--output-format", "junit"])
    assert run.stdout == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuites name="layerguard" tests="1" failures="1" errors="0" skipped="0">\n'
        f'  <testsuite name="{DRIVER}" tests="1" failures="1" errors="0" skipped="0">\n'
        f'    <testcase classname="{DRIVER}" name="LG201 transaction-outside-owner at 2:11" '
        f'file="{DRIVER}" line="2">\n'
        f'      <failure message="{message}" type="LG201">{DRIVER}:2:11: LG201 {message}'
        "</failure>\n"
        "    </testcase>\n"
        "  </testsuite>\n"
        "</testsuites>\n"
    )


def test_junit_clean_run_is_one_passing_suite(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, {DRIVER: "async def f(s):\n    await s.flush()\n"})
    run = run_cli(["check", "--output-format", "junit"])
    assert run.exit_code == 0
    assert run.stdout == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuites name="layerguard" tests="1" failures="0" errors="0" skipped="0">\n'
        '  <testsuite name="layerguard" tests="1" failures="0" errors="0" skipped="0">\n'
        '    <testcase classname="layerguard" name="no findings" />\n'
        "  </testsuite>\n"
        "</testsuites>\n"
    )


def test_junit_escapes_markup_newlines_and_control_characters(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    control = f"{L6}/esc\x1bape<&>.py"
    write_project(tmp_path, {ODD_DRIVER: ODD_SOURCE, control: "def f(s):\n    s.commit()\n"})
    run, root = junit_of(run_cli)
    cases = {(case.get("file"), case.get("line")): case for case in root.iter("testcase")}
    assert set(cases) == {
        (f"{L6}/esc\\x1bape<&>.py", "2"),
        (ODD_DRIVER, "2"),
        (ODD_DRIVER, "3"),
    }
    multiline = cases[ODD_DRIVER, "3"].find("failure")
    assert multiline is not None
    # The newline survives in the attribute (escaped as &#10;, not normalised to a space).
    assert multiline.get("message", "").startswith('`s[\n    "x"\n].rollback()` in L6')
    assert "&#10;" in run.stdout
    assert "\x1b" not in run.stdout


# --- JSON lines ----------------------------------------------------------------------------


def test_jsonl_is_one_json_report_finding_per_line(
    project: Path, run_cli: Callable[..., Run]
) -> None:
    report = run_cli(["check", "--output-format", "json"]).report
    run = run_cli(["check", "--output-format", "jsonl"])
    assert run.exit_code == 1
    assert [json.loads(line) for line in run.stdout.splitlines()] == report["findings"]
    assert len(run.stdout.splitlines()) == len(EXPECTED)


def test_jsonl_clean_run_prints_nothing(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, {DRIVER: ""})
    run = run_cli(["check", "--output-format", "jsonl"])
    assert (run.exit_code, run.stdout) == (0, "")


# --- docs/output.md -------------------------------------------------------------------------


def json_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """`summary.by_code`, `findings[].code`, …: every field of a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}{key}"
            yield path
            if not (prefix + key).endswith("by_code"):  # keys are rule codes, not fields
                yield from json_paths(item, path + ".")
    elif isinstance(value, list):
        for item in value[:1]:
            yield from json_paths(item, prefix.rstrip(".") + "[].")


def test_every_json_report_field_is_documented(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, {"backend/app/hoc/api/cus/policies/policies.py": "import sqlalchemy\n"})
    report = run_cli(["check", "--output-format", "json"]).report
    table = (DOCS / "output.md").read_text("utf-8").split("## `json`", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([^`]+)` \|", table, re.M)
    assert sorted(documented) == sorted(json_paths(report))


# --- findings of level info ----------------------------------------------------------------


def test_info_findings_are_notes_notices_and_passing_cases(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    # LG404 (an operation nobody dispatches) is the informational rule; use its own example.
    example = RULES_BY_CODE["LG404"].invalid[0]
    write_project(tmp_path, example.sources())
    [(path, line)] = example.expected
    args = ["check", "--select", "LG404", "--output-format"]
    [finding] = [json.loads(row) for row in run_cli([*args, "jsonl"]).stdout.splitlines()]
    assert (finding["severity"], finding["path"], finding["line"]) == ("info", path, line)
    col = finding["col"]

    data = json.loads(run_cli([*args, "sarif"]).stdout)
    assert_valid_sarif(data)
    [result] = data["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("LG404", "note")

    github_run = run_cli([*args, "github"])
    assert github_run.exit_code == 0
    assert github_run.stdout.startswith(
        f"::notice file={path},line={line},col={col},title=LG404 operation-never-executed::"
    )

    junit_run = run_cli([*args, "junit"])
    assert junit_run.exit_code == 0
    root = ET.fromstring(junit_run.stdout.encode("utf-8"))
    assert (root.get("tests"), root.get("failures")) == ("1", "0")
    [case] = root.iter("testcase")
    assert case.find("failure") is None
    out = case.find("system-out")
    assert out is not None
    assert out.text == f"{path}:{line}:{col}: LG404 {finding['message']}"


# --- any string (issue 11, item 5) ------------------------------------------------------------

# A lone surrogate, an escape sequence and a newline in an operation name (they reach LG401's
# message), and a file whose name holds a newline, a terminal escape and a byte that is not
# UTF-8 (Python reads it as a surrogate escape).
HOSTILE_ROUTE = 'async def f(registry):\n    await registry.execute("\\ud800\\x1b[31m\\n", None)\n'
HOSTILE_NAME = os.fsdecode(b"x\n\x1b[2Jy\xff.py")


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    write_project(tmp_path, {ROUTE: HOSTILE_ROUTE})
    (tmp_path / ROUTE).with_name(HOSTILE_NAME).write_text("import app.models.policy\n")
    return tmp_path


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_every_format_survives_any_string(
    hostile: Path, run_cli: Callable[..., Run], fmt: str
) -> None:
    """It was a UnicodeEncodeError in text, SARIF, JUnit and GitHub output: the report was
    lost. (The test runner's stdout is strict UTF-8.)"""
    run = run_cli(["check", "--output-format", fmt])
    assert run.exit_code == 1, run.stderr
    assert "\x1b" not in run.stdout
    if fmt in ("json", "sarif"):
        assert json.loads(run.stdout)
    if fmt == "junit":
        ET.fromstring(run.stdout.encode())
    if fmt == "sarif":
        assert_valid_sarif(json.loads(run.stdout))


def test_text_shows_each_finding_on_one_escaped_line(
    hostile: Path, run_cli: Callable[..., Run]
) -> None:
    """Raw control characters were printed, and a path with a newline split across lines."""
    run = run_cli(["check"])
    here = ROUTE.rsplit("/", 1)[0]
    assert run.stdout.splitlines() == [
        f"{ROUTE}:2:11: LG401 no handler registers operation '\\ud800\\x1b[31m\\n'; fix the "
        "name or register a handler for it",
        f"{here}/x\\n\\x1b[2Jy\\udcff.py:1:1: LG101 L2 (API routes) must not import L7 "
        "(Models) `app.models.policy`; go through a layer L2 may use, or add an `allow:` "
        "exception with a reason",
        run.stdout.splitlines()[-1],
    ]
    assert run.stdout.splitlines()[-1].startswith("Found 2 findings in 2 files")
