"""Showing strings that come from the analysed project (file names, code, YAML values) in
messages: a terminal or a log line must not be reshaped by what they hold."""

from __future__ import annotations

import re

_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` safe to show on one line of a terminal or a log: control characters, line
    breaks, bidirectional overrides and lone surrogates (which no encoding can write) become
    escapes such as `\\n`, `\\x1b` or `\\udcff`. Paths and messages quote analysed code
    and file names, which can hold anything."""
    return _UNPRINTABLE.sub(escaped, text)


def escaped(match: re.Match[str]) -> str:
    """The escape of one matched character: `\\n`, `\\x1b`, `\\udcff`."""
    char = match.group()
    code = ord(char)
    return _NAMED_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def surrogates_escaped(text: str) -> str:
    """`text` with each lone surrogate as its escape `\\ud800`: what UTF-8 cannot encode, and
    analysed code (`"\\ud800"`) or a file name (an undecodable byte is `\\udcff`) can hold.
    In a JSON string the escape is read back as the surrogate itself."""
    return _SURROGATE.sub(escaped, text)
