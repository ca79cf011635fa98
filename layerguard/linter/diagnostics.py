"""Diagnostics: what rules produce and reporters format."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """One finding at `path:line:col` (project-relative posix path, 1-based line and column).

    `key` identifies the finding independently of its line — the import target, the symbol,
    the operation — so a baseline survives code moving around.
    """

    path: str
    line: int
    col: int
    code: str
    message: str
    severity: Severity = Severity.ERROR
    key: str = ""


def plural(count: int, word: str) -> str:
    """`1 finding`, `2 findings`: how messages and summaries count things."""
    return f"{count} {word}{'' if count == 1 else 's'}"
