"""Each reporter fed a hand-built result: exact output, no project, no rules run."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from layerguard.linter.check import ChangedFiles, CheckResult
from layerguard.linter.diagnostics import Diagnostic, Severity
from layerguard.linter.project.extraction import ExtractionStats
from layerguard.linter.reporters import FORMAT_MODULES, renderer
from layerguard.linter.reporters.context import ReportContext

ROOT = Path("/project")
SARIF_SCHEMA = Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json"

ROUTE = "backend/app/api/routes.py"
DRIVER = "backend/app/db/driver.py"
FINDINGS = sorted(  # as `check` returns them
    [
        Diagnostic(ROUTE, 3, 1, "LG101", "layer api may not import db", Severity.ERROR, "app.db"),
        Diagnostic(DRIVER, 9, 11, "LG201", "commit() outside the owners", Severity.ERROR, "s"),
        Diagnostic(DRIVER, 12, 5, "LG902", "unused suppression", Severity.WARNING, "LG201"),
        Diagnostic(ROUTE, 20, 1, "LG404", "'x.y' is never dispatched", Severity.INFO, "x.y"),
    ]
)


def result(findings: list[Diagnostic] = FINDINGS) -> CheckResult:
    return CheckResult(
        diagnostics=findings,
        extraction=ExtractionStats(files=12, parsed=2, cached=10, jobs=2),
        cards=3,
        documents=1,
        elapsed=0.25,
        changed=ChangedFiles("HEAD", 2, 1),
    )


def render(fmt: str, findings: list[Diagnostic] = FINDINGS, cwd: Path = ROOT, **kw: bool) -> str:
    return renderer(fmt)(result(findings), ReportContext(ROOT, cwd, **kw))


def test_text() -> None:
    assert render("text") == (
        "backend/app/api/routes.py:3:1: LG101 layer api may not import db\n"
        "backend/app/api/routes.py:20:1: LG404 'x.y' is never dispatched\n"
        "backend/app/db/driver.py:9:11: LG201 commit() outside the owners\n"
        "backend/app/db/driver.py:12:5: LG902 unused suppression\n"
        "Found 4 findings in 12 files and 3 cards (2 parsed, 10 cached) in 0.25s.\n"
    )


def test_text_paths_are_relative_to_the_working_directory() -> None:
    out = render("text", FINDINGS[:1], cwd=ROOT / "backend")
    assert out.splitlines()[0].startswith("app/api/routes.py:3:1: ")
    out = render("text", FINDINGS[:1], cwd=Path("/elsewhere"))
    assert out.splitlines()[0].startswith("../project/backend/app/api/routes.py:3:1: ")


def test_text_statistics() -> None:
    lines = render("text", statistics=True).splitlines()
    assert lines[4:] == [
        "     1  LG101  forbidden-layer-import",
        "     1  LG201  transaction-outside-owner",
        "     1  LG404  operation-never-executed",
        "     1  LG902  unused-suppression",
        "files: 12, parsed: 2, cached: 10, cards: 3, documents skipped: 1, jobs: 2",
        "Found 4 findings in 12 files and 3 cards (2 parsed, 10 cached) in 0.25s.",
    ]


def test_text_clean_run() -> None:
    assert render("text", []) == (
        "No findings in 12 files and 3 cards (2 parsed, 10 cached) in 0.25s.\n"
    )


def test_json() -> None:
    data = json.loads(render("json"))
    assert data["schema_version"] == 1
    assert data["project_root"] == "/project"
    assert data["summary"] == {
        "findings": 4,
        "by_code": {"LG101": 1, "LG201": 1, "LG404": 1, "LG902": 1},
        "files": 12,
        "parsed": 2,
        "cached": 10,
        "not_read": 0,
        "cards": 3,
        "documents_skipped": 1,
        "fixed": 0,
        "jobs": 2,
        "elapsed_seconds": 0.25,
    }
    assert data["findings"][2] == {
        "code": "LG201",
        "severity": "error",
        "path": DRIVER,
        "line": 9,
        "col": 11,
        "message": "commit() outside the owners",
        "key": "s",
    }


def test_jsonl_is_the_json_findings_one_per_line() -> None:
    lines = render("jsonl").splitlines()
    assert [json.loads(line) for line in lines] == json.loads(render("json"))["findings"]
    assert render("jsonl", []) == ""


def test_github_annotations() -> None:
    assert render("github").splitlines() == [
        "::error file=backend/app/api/routes.py,line=3,col=1,title=LG101 forbidden-layer-import"
        "::layer api may not import db",
        "::notice file=backend/app/api/routes.py,line=20,col=1,title=LG404 "
        "operation-never-executed::'x.y' is never dispatched",
        "::error file=backend/app/db/driver.py,line=9,col=11,title=LG201 "
        "transaction-outside-owner::commit() outside the owners",
        "::warning file=backend/app/db/driver.py,line=12,col=5,title=LG902 unused-suppression"
        "::unused suppression",
        "Found 4 findings in 12 files and 3 cards (2 parsed, 10 cached) in 0.25s.",
    ]


def test_github_escapes_what_would_end_a_command() -> None:
    hostile = Diagnostic("a,b:c.py", 1, 1, "LG001", "100%\n::error::forged", Severity.ERROR)
    first = render("github", [hostile]).splitlines()[0]
    assert first == (
        "::error file=a%2Cb%3Ac.py,line=1,col=1,title=LG001 python-syntax-error"
        "::100%25%0A::error::forged"
    )


def test_junit_one_suite_per_file_one_case_per_finding() -> None:
    root = ET.fromstring(render("junit"))
    assert root.attrib == {
        "name": "layerguard",
        "tests": "4",
        "failures": "3",
        "errors": "0",
        "skipped": "0",
    }
    suites = root.findall("testsuite")
    assert [(s.get("name"), s.get("tests"), s.get("failures")) for s in suites] == [
        (ROUTE, "2", "1"),
        (DRIVER, "2", "2"),
    ]
    cases = [(c.get("name"), c.get("line")) for c in root.iter("testcase")]
    assert cases == [
        ("LG101 forbidden-layer-import at 3:1", "3"),
        ("LG404 operation-never-executed at 20:1", "20"),
        ("LG201 transaction-outside-owner at 9:11", "9"),
        ("LG902 unused-suppression at 12:5", "12"),
    ]
    failure = root.find(".//failure")
    assert failure is not None
    assert failure.attrib == {"message": "layer api may not import db", "type": "LG101"}
    info = root.find(".//system-out")  # an info finding is output, not a failure
    assert info is not None
    assert info.text == "backend/app/api/routes.py:20:1: LG404 'x.y' is never dispatched"


def test_sarif_is_valid_and_carries_every_finding() -> None:
    log = json.loads(render("sarif"))
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text("utf-8")))
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("LG101", "error"),
        ("LG404", "note"),
        ("LG201", "error"),
        ("LG902", "warning"),
    ]
    location = results[2]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == DRIVER
    assert location["region"] == {"startLine": 9, "startColumn": 11}


@pytest.mark.parametrize("fmt", FORMAT_MODULES)
def test_every_format_renders_a_clean_run(fmt: str) -> None:
    out = render(fmt, [])
    assert isinstance(out, str)
    assert "LG" not in out or fmt == "sarif"
