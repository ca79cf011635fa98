"""Diagnostics: what rules produce and reporters format."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


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


def printable(text: str) -> str:
    """`text` safe to show on one line of a terminal or a log: control characters, line
    breaks, bidirectional overrides and lone surrogates (which no encoding can write) become
    escapes such as `\\n`, `\\x1b` or `\\udcff`. Paths and messages quote analysed code
    and file names, which can hold anything."""
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
