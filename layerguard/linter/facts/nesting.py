"""How deeply a Python source nests, estimated from its bytes before libcst sees them.

libcst's native parser recurses once per level of nesting, and its cost grows faster than the
depth. Measured on the 2-core development machine: 1,000 nested brackets take 134 MB and a
chain of 4,000 `+` takes 2 s to parse, while 1,500 brackets, a 20,000-segment dotted name or a
20,000-branch `elif` chain overflow the C stack (a segmentation fault, not an exception).
CPython itself refuses more than 200 nested brackets, and extraction, whose code generation
recurses in Python, gives up past ~330 levels of any kind anyway. So a source nested beyond
anything real code does is refused here, with the line where it happens, before it is parsed.

Ordinary files cost a few microseconds: byte counts bound the depth of a file with few
operators, and nested brackets are peeled pair by pair with a regular expression. Only a file
those bounds cannot vouch for (in practice, one of more than ~20 KB) is scanned token by token
(~2 % of its parse time). The estimate is an upper bound on the depth of the syntax tree, not
a parser: input crafted to fool it (such as f-strings nested inside each other) is contained
by the worker process that parses it (see linter/project/extraction.py).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

MAX_BRACKET_DEPTH = 200
"""Deeper brackets are a syntax error for CPython too ("too many nested parentheses")."""

MAX_DEPTH = 1000
"""The deepest estimated syntax tree that is parsed. Extraction would fail past ~330 levels
anyway; below this, libcst parses in a fraction of a second and well within the stack."""

MAX_ELIF_CHAIN = 1000
"""`elif` branches of one `if` statement: each is nested inside the previous one."""

_SCAN_ABOVE = 3000
"""A file with at most this many brackets, operators and quotes needs no scan: no expression
in it can be deeper, and a chain that long still parses in about a second, within the stack
(extraction then reports it as too deeply nested)."""

_KEYWORD = re.compile(rb"\b(?:and|or|not|if|else|lambda|await|for)\b")
_KEYWORD_PARTS = (b"and", b"or", b"not", b"if", b"lambda")
"""Substrings of every keyword operator that can be chained without other operators (`else`
comes with `if`, `for` with a comprehension, `await` cannot be chained): counting them is
cheaper than matching keywords, and counts each at least once."""
_KEYWORDS_IGNORED_UP_TO = 300
"""Keyword operators the scan may leave out (a file with fewer adds at most as many levels,
far from a depth that matters): finding them costs more than the rest of the scan."""

_OPENERS = (b"(", b"[", b"{")
_NOT_COUNTED = bytes(c for c in range(256) if c not in b"()[]{}'\".+-*/%@&|^~")
_ESCAPE = re.compile(rb"\\\\|\\'|\\\"|\\\r?\n")
_STRINGS_AND_COMMENTS = re.compile(
    rb"#[^\r\n]*"
    rb"|'''[^']*(?:'(?!'')[^']*)*'''"
    rb'|"""[^"]*(?:"(?!"")[^"]*)*"""'
    rb"|'[^'\r\n]*'"
    rb'|"[^"\r\n]*"'
)
_SCANNED = b"()[]{}'\"#\n,;.+-*/%@&|^~"
_FILLER = b"\x01"
_TO_FILLER = bytes(c if c in _SCANNED else _FILLER[0] for c in range(256))
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"()[]{}")
_INNERMOST_PAIR = re.compile(rb"\(\)|\[\]|\{\}")
_KIND = bytes(
    (
        1
        if c in b"([{"
        else 2
        if c in b")]}"
        else 3
        if c in b",;"
        else 4
        if c == ord("\n")
        else 5
        if c == ord("'")
        else 6
    )
    for c in range(256)
)
_OPEN, _CLOSE, _SEPARATOR, _NEWLINE, _LITERAL = 1, 2, 3, 4, 5
_STATEMENT_START = re.compile(rb"^([ \t]*)(?:(elif|else)\b|(?=[^\s#]))", re.MULTILINE)


class NestingProblem(NamedTuple):
    """Where and how a source nests too deeply to be parsed."""

    line: int
    message: str


def nesting_problem(source: bytes) -> NestingProblem | None:
    """Why `source` is too deeply nested to parse, or None when it is not."""
    counted = source.translate(None, _NOT_COUNTED)  # brackets, quotes and operators
    brackets = sum(map(counted.count, _OPENERS))
    keywords = sum(map(source.count, _KEYWORD_PARTS))
    bound = len(counted) + keywords
    deep_brackets = brackets > MAX_BRACKET_DEPTH and _bracket_depth(source) > MAX_BRACKET_DEPTH
    if deep_brackets or bound > _SCAN_ABOVE:
        found = _scan(source, keywords > _KEYWORDS_IGNORED_UP_TO)
        if found is not None:
            return found
    if source.count(b"elif") > MAX_ELIF_CHAIN:
        return _elif_chain(source)
    return None


def _bracket_depth(source: bytes) -> int:
    """How deeply the brackets of `source` nest, strings and comments included (capped just
    above the limit), found by removing the innermost pairs until none is left; unmatched
    openers count as nesting too."""
    brackets = source.translate(None, _NOT_BRACKETS)
    depth = 0
    while depth <= MAX_BRACKET_DEPTH:
        brackets, removed = _INNERMOST_PAIR.subn(b"", brackets)
        if not removed:
            break
        depth += 1
    return depth + sum(map(brackets.count, _OPENERS))


def _compact(source: bytes, keywords: bool, literal: Any = b"'") -> bytes:
    """The bytes the scan reads: brackets, separators, newlines and operators (keyword
    operators as `~` when `keywords`), each string literal and comment replaced by `literal`
    (bytes, or a function of the match)."""
    if keywords:
        source = _KEYWORD.sub(b"~", source)
    if b"\\" in source:
        source = _ESCAPE.sub(b"", source)
    # Other bytes become a filler rather than go, so that `"" ""` cannot turn into `""""`.
    filled = _STRINGS_AND_COMMENTS.sub(literal, source.translate(_TO_FILLER))
    return filled.translate(None, _FILLER)


def _scan(source: bytes, keywords: bool) -> NestingProblem | None:
    """The first place where brackets nest too deeply or the estimated depth of an
    expression exceeds MAX_DEPTH."""
    found = _first_excess(_compact(source, keywords))
    if found is None:
        return None
    # Again, with a NUL for each newline a literal spans, to count lines up to the excess.
    compact = _compact(source, keywords, lambda m: b"'" + b"\0" * m.group().count(b"\n"))
    position, what = _first_excess(compact) or found
    line = compact.count(b"\n", 0, position) + compact.count(b"\0", 0, position) + 1
    return NestingProblem(line, what)


def _first_excess(compact: bytes) -> tuple[int, str] | None:
    """Where, in the compact text, nesting first exceeds a limit, and which limit.

    The estimated depth of a bracketed group is one more than that of its deepest
    comma-separated segment; a segment's is the number of its operators (each binary
    operator, attribute access, call, subscript, unary or keyword operator and each literal
    adjacent to another nests what precedes it one level deeper) plus the depth of its
    deepest group. A statement ends at a newline outside brackets.
    """
    stack: list[tuple[int, int, int]] = []
    operators = child = group = 0
    after_literal = False
    for position, kind in enumerate(compact.translate(_KIND)):
        if kind == _NEWLINE:
            if not stack:
                operators = child = group = 0
            continue  # a literal on the next line still continues a concatenation
        if kind == _LITERAL:
            operators += after_literal
            after_literal = True
        else:
            after_literal = False
            if kind == _OPEN:
                stack.append((operators + 1, child, group))
                operators = child = group = 0
                if len(stack) > MAX_BRACKET_DEPTH:
                    return position, f"brackets nested more than {MAX_BRACKET_DEPTH} deep"
            elif kind == _CLOSE:
                depth = max(group, operators + child) + 1
                if stack:
                    operators, child, group = stack.pop()
                    child = max(child, depth)
                else:
                    operators = child = group = 0
            elif kind == _SEPARATOR:
                group = max(group, operators + child)
                operators = child = 0
            else:
                operators += 1
        if operators + child > MAX_DEPTH:
            return position, f"an expression nested more than {MAX_DEPTH} levels deep"
    return None


def _elif_chain(source: bytes) -> NestingProblem | None:
    """The first `if` statement with more than MAX_ELIF_CHAIN `elif` branches: a branch
    continues the chain of the `if` at its indentation until another statement starts at
    that indentation or less."""
    chains: dict[int, int] = {}
    for match in _STATEMENT_START.finditer(source):
        indent = len(match.group(1).expandtabs(8))
        keyword = match.group(2)
        if keyword == b"elif":
            chains[indent] = chains.get(indent, 0) + 1
            if chains[indent] > MAX_ELIF_CHAIN:
                line = source.count(b"\n", 0, match.start()) + 1
                return NestingProblem(line, f"more than {MAX_ELIF_CHAIN} `elif` branches")
        elif keyword is None:
            for deeper in [level for level in chains if level >= indent]:
                del chains[deeper]
    return None
