"""The JSON report: a documented, versioned schema (docs/output.md). Paths are relative to the
project root (the directory of `layerguard.yaml`), which the report also gives."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from layerguard._version import __version__
from layerguard.linter.check import CheckResult
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.reporters.context import ReportContext

SCHEMA_VERSION = 1


def finding_data(d: Diagnostic) -> dict[str, Any]:
    """One finding as the JSON report and the JSON lines report both write it."""
    return {
        "code": d.code,
        "severity": d.severity.value,
        "path": d.path,
        "line": d.line,
        "col": d.col,
        "message": d.message,
        "key": d.key,
    }


def report_data(result: CheckResult, context: ReportContext) -> dict[str, Any]:
    stats = result.extraction
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "layerguard", "version": __version__},
        "project_root": str(context.project_root),
        "summary": {
            "findings": len(result.diagnostics),
            "by_code": dict(sorted(Counter(d.code for d in result.diagnostics).items())),
            "files": stats.files,
            "parsed": stats.parsed,
            "cached": stats.cached,
            "not_read": stats.not_read,
            "cards": result.cards,
            "documents_skipped": result.documents,
            "fixed": result.fixed,
            "jobs": stats.jobs,
            "elapsed_seconds": round(result.elapsed, 4),
        },
        "findings": [finding_data(d) for d in result.diagnostics],
    }


def render(result: CheckResult, context: ReportContext) -> str:
    return json.dumps(report_data(result, context), indent=2) + "\n"
