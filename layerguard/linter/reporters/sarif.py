"""SARIF 2.1.0, the format of GitHub code scanning and most code-review dashboards.

Every registered rule is listed in `tool.driver.rules` (dashboards show a rule's help next to
its alerts), each result points at its rule by id and index, and locations are URIs relative
to the project root under the `%SRCROOT%` base id. `partialFingerprints` hash the rule, the
path, the finding's key and its occurrence among equal keys — never the line — so an alert
keeps its identity when unrelated code moves.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from layerguard._version import __version__
from layerguard.linter.check import CheckResult
from layerguard.linter.diagnostics import Diagnostic, Severity
from layerguard.linter.reporters.context import ReportContext
from layerguard.linter.rules.base import RuleInfo
from layerguard.linter.rules.reference import explain, family, sections
from layerguard.linter.rules.registry import ALL_RULES

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/layerguard/"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "layerguard/v1"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def fingerprint(d: Diagnostic, occurrence: int) -> str:
    """Stable across line moves: rule, path, key, and which of several equal keys it is."""
    material = "\0".join((d.code, d.path, d.key, str(occurrence)))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


def with_occurrences(diagnostics: list[Diagnostic]) -> Iterator[tuple[Diagnostic, int]]:
    """Each finding with its index among findings of the same rule, path and key (in line
    order), so two identical imports in one file still get distinct fingerprints."""
    seen: Counter[tuple[str, str, str]] = Counter()
    for d in sorted(diagnostics, key=lambda d: (d.path, d.line, d.col, d.code)):
        identity = (d.code, d.path, d.key)
        yield d, seen[identity]
        seen[identity] += 1


def rule_descriptor(rule: type[RuleInfo]) -> dict[str, Any]:
    """The rule as dashboards show it: the summary, what it catches and why it matters, and
    the whole `explain` page as help."""
    page = explain(rule)
    parts = sections(rule)
    description = parts["what"] + "\n\n" + parts["why"]
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": description, "markdown": description},
        "help": {"text": page, "markdown": page},
        "defaultConfiguration": {
            "level": LEVELS[rule.severity],
            "enabled": rule.enabled_by_default,
        },
        "properties": {"tags": ["architecture", family(rule.code)]},
    }


def _region(d: Diagnostic) -> dict[str, int]:
    region = {"startLine": d.line}
    if d.col >= 1:
        region["startColumn"] = d.col
    return region


def _result(d: Diagnostic, occurrence: int, rule_index: dict[str, int]) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": _uri(d.path), "uriBaseId": SRCROOT}}
    if d.line >= 1:  # a finding about a whole file has no region
        location["region"] = _region(d)
    result: dict[str, Any] = {"ruleId": d.code}
    if d.code in rule_index:
        result["ruleIndex"] = rule_index[d.code]
    result.update(
        {
            "level": LEVELS[d.severity],
            "message": {"text": d.message},
            "locations": [{"physicalLocation": location}],
            "partialFingerprints": {FINGERPRINT: fingerprint(d, occurrence)},
        }
    )
    return result


def _uri(path: str) -> str:
    """A project path as a relative URI: its bytes percent-encoded, the bytes of a file name
    that is not UTF-8 too (decoded as surrogate escapes, they are encoded back)."""
    try:
        return quote(path, errors="surrogateescape")
    except UnicodeEncodeError:  # a surrogate no file name decodes to
        return quote(path.encode("utf-8", "surrogatepass"))


def report_data(result: CheckResult, context: ReportContext) -> dict[str, Any]:
    rule_index = {rule.code: index for index, rule in enumerate(ALL_RULES)}
    results = [_result(d, n, rule_index) for d, n in with_occurrences(result.diagnostics)]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "layerguard",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [rule_descriptor(rule) for rule in ALL_RULES],
                    }
                },
                "originalUriBaseIds": {
                    SRCROOT: {
                        "uri": context.project_root.as_uri().rstrip("/") + "/",
                        "description": {
                            "text": "The project root: the directory of layerguard.yaml."
                        },
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render(result: CheckResult, context: ReportContext) -> str:
    return json.dumps(report_data(result, context), indent=2) + "\n"
