"""Reporters turn a check result into text; they only format, they never decide.

Each format is one module with a `render(result, context) -> str` function; docs/output.md
describes every format.
"""

from __future__ import annotations

from collections.abc import Callable

from layerguard.linter.engine import CheckResult
from layerguard.linter.reporters import github, json_format, jsonl, junit, sarif, text
from layerguard.linter.reporters.context import ReportContext

Renderer = Callable[[CheckResult, ReportContext], str]

FORMATS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_format.render,
    "jsonl": jsonl.render,
    "sarif": sarif.render,
    "github": github.render,
    "junit": junit.render,
}
