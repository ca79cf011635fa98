"""JSON lines: one finding per line, the same object as in the JSON report's `findings`.

For tools that stream or `grep`/`jq` findings one at a time; a clean run prints nothing.
"""

from __future__ import annotations

import json

from layerguard.linter.check import CheckResult
from layerguard.linter.reporters.context import ReportContext
from layerguard.linter.reporters.json_format import finding_data


def render(result: CheckResult, context: ReportContext) -> str:
    return "".join(json.dumps(finding_data(d)) + "\n" for d in result.diagnostics)
