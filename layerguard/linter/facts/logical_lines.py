"""Where each logical line of a source ends, as CPython's own tokenizer sees it.

Extraction generates the code of a module to learn where its facts are (see extract.py). A
simple statement that cannot hold a fact need not be generated node by node when its text is
known, and its text is the span of physical lines its logical line covers. CPython's tokenizer,
written in C, finds those spans in a tenth of the time code generation takes, by the lexical
rules libcst's tokenizer follows too (brackets, strings, comments, backslash continuations).

The C tokenizer is reached through `_tokenize.TokenizerIter`, whose shape differs between
Python versions (`PRIVATE_API`; a test checks it on the running Python). Where it is missing
or has another shape, `logical_line_ends` answers None and extraction generates everything:
slower, never different.
"""

from __future__ import annotations

import io
import sys
import token
from collections.abc import Callable, Iterable, Iterator

PRIVATE_API = {
    "_tokenize.TokenizerIter": (
        "Python 3.11: TokenizerIter(source) yields (string, type, lineno, end_lineno, col, "
        "end_col, line); 3.12 and later: TokenizerIter(readline, extra_tokens=False) yields "
        "(type, string, start, end, line)"
    ),
}

_NOT_STARTING = frozenset({token.INDENT, token.DEDENT, token.COMMENT, token.NL, token.ENDMARKER})
"""Tokens that do not start a logical line (a version may leave out COMMENT and NL)."""


def _types_and_lines_311(text: str) -> Iterator[tuple[int, int]]:
    from _tokenize import TokenizerIter  # type: ignore[import-not-found,unused-ignore]

    for found in TokenizerIter(text):
        yield found[1], found[2]


def _types_and_lines(text: str) -> Iterator[tuple[int, int]]:
    from _tokenize import TokenizerIter  # type: ignore[import-not-found,unused-ignore]

    for found in TokenizerIter(io.StringIO(text).readline, extra_tokens=False):
        yield found[0], found[2][0]


types_and_lines: Callable[[str], Iterable[tuple[int, int]]] = (
    _types_and_lines_311 if sys.version_info < (3, 12) else _types_and_lines
)
"""(token type, line of its start) of every token the parser sees, in order."""


def logical_line_ends(text: str) -> dict[int, int] | None:
    """For each logical line of `text`: the physical line of its first token -> the physical
    line its NEWLINE token ends (1-based). None when the tokenizer refuses `text` (syntax only
    a newer Python knows, say) or has another shape than the one relied on."""
    ends: dict[int, int] = {}
    start = 0
    try:
        for kind, line in types_and_lines(text):
            if kind == token.NEWLINE:
                if start:
                    ends[start] = line
                start = 0
            elif not start and kind not in _NOT_STARTING:
                start = line
    except (SyntaxError, ValueError, TypeError, ImportError, IndexError):
        return None
    return ends
