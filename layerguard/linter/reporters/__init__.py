"""Reporters turn a check result into text; they only format, they never decide.

Each format is one module with a `render(result, context) -> str` function; docs/output.md
describes every format.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from layerguard.linter.check import CheckResult
    from layerguard.linter.reporters.context import ReportContext

Renderer = Callable[["CheckResult", "ReportContext"], str]

FORMAT_MODULES: dict[str, str] = {
    "text": "text",
    "json": "json_format",
    "jsonl": "jsonl",
    "sarif": "sarif",
    "github": "github",
    "junit": "junit",
}
"""Format name -> module; a run imports only the one it prints (SARIF pulls in the rule
reference, JUnit xml.etree)."""


def renderer(name: str) -> Renderer:
    """The `render` function of format `name` (one of FORMAT_MODULES)."""
    module = import_module(f"layerguard.linter.reporters.{FORMAT_MODULES[name]}")
    render: Renderer = module.render
    return render
