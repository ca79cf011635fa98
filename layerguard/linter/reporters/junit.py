"""JUnit XML, for CI systems that show test reports (GitLab merge requests, Jenkins, Azure).

One `<testsuite>` per file with findings and one failing `<testcase>` per finding, as ruff and
ESLint do, so a report groups findings the way a reviewer fixes them: file by file. A clean
run is one passing suite, `layerguard` with the test case `no findings`. Findings of severity
`info` do not fail a run, so they are passing test cases that carry their message in
`<system-out>`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import groupby

from layerguard.contracts.escaping import escaped
from layerguard.linter.check import CheckResult
from layerguard.linter.diagnostics import Diagnostic, Severity
from layerguard.linter.reporters.context import ReportContext
from layerguard.linter.rules.registry import RULES_BY_CODE

# Characters XML 1.0 cannot carry at all, even escaped (lone surrogates: no encoding can).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: str) -> str:
    """`value` with characters XML cannot represent shown as `\\xNN` or `\\uNNNN` instead."""
    return _NOT_XML.sub(escaped, value)  # never `\\n`, `\\r` or `\\t`: XML has them


def _element(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    return ET.SubElement(parent, tag, {k: _xml_text(v) for k, v in attributes.items()})


def _counts(element: ET.Element, tests: int, failures: int) -> None:
    element.set("tests", str(tests))
    element.set("failures", str(failures))
    element.set("errors", "0")
    element.set("skipped", "0")


def _testcase(suite: ET.Element, d: Diagnostic, path: str) -> bool:
    """Add the test case of one finding; whether it fails."""
    rule = RULES_BY_CODE.get(d.code)
    name = f"{d.code} {rule.name}" if rule is not None else d.code
    case = _element(
        suite,
        "testcase",
        classname=path,
        name=f"{name} at {d.line}:{d.col}",
        file=path,
        line=str(d.line),
    )
    detail = f"{path}:{d.line}:{d.col}: {d.code} {d.message}"
    if d.severity is Severity.INFO:
        _element(case, "system-out").text = _xml_text(detail)
        return False
    failure = _element(case, "failure", message=d.message, type=d.code)
    failure.text = _xml_text(detail)
    return True


def render(result: CheckResult, context: ReportContext) -> str:
    root = ET.Element("testsuites", {"name": "layerguard"})
    total = failed = 0
    by_path = groupby(sorted(result.diagnostics), key=lambda d: d.path)
    for project_path, group in by_path:
        findings = list(group)
        path = context.display_path(project_path)
        suite = _element(root, "testsuite", name=path)
        failures = sum(_testcase(suite, d, path) for d in findings)
        _counts(suite, len(findings), failures)
        total += len(findings)
        failed += failures
    if not result.diagnostics:
        suite = _element(root, "testsuite", name="layerguard")
        _element(suite, "testcase", classname="layerguard", name="no findings")
        _counts(suite, 1, 0)
        total = 1
    _counts(root, total, failed)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
