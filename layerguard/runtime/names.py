"""Operation names, and texts from input made safe for a log line or a record.

A module of its own because both the registry and the logging sink need it, and the registry
imports the sink.
"""

from __future__ import annotations

import re

OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*\Z")
"""What an operation name looks like: dot-separated segments of ASCII letters, digits, ``_``
and ``-``, each starting with a letter or ``_`` (``policies.query``, ``billing.v2.refund``)."""

MAX_NAME_LENGTH = 200
"""Longer names are refused (the audit table's ``operation`` column holds 200 characters)."""


def is_valid_name(operation: str) -> bool:
    """Whether ``operation`` may be registered."""
    return len(operation) <= MAX_NAME_LENGTH and OPERATION_NAME.match(operation) is not None


def safe_name(operation: object) -> str:
    """A name from input as it may appear in a log line or a record: valid names as they are,
    anything else quoted, escaped (no newline or control character survives) and truncated."""
    if isinstance(operation, str) and is_valid_name(operation):
        return operation
    return _quoted(operation)


def safe_text(text: object) -> str:
    """Any text from input (an error code, an id...) as it may appear in a log line: printable
    ASCII up to ``MAX_NAME_LENGTH`` characters as it is, anything else as ``safe_name`` puts
    an invalid name (quoted, escaped, truncated), so no input can start a line of its own."""
    if (
        isinstance(text, str)
        and len(text) <= MAX_NAME_LENGTH
        and text.isascii()
        and text.isprintable()
    ):
        return text
    return _quoted(text)


def _quoted(value: object) -> str:
    text = repr(value) if isinstance(value, str) else f"<{type(value).__name__}>"
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    return text if len(text) <= 80 else text[:77] + "..."
