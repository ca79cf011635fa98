"""How deeply a Python source nests, estimated from its bytes before libcst sees them.

libcst's native parser recurses once per level of nesting, and its memory grows with the
square of each statement's depth and is held until the whole module is parsed. Measured on the
2-core development machine (libcst 1.9, each parse in a process of its own): 1,000 conditional
expressions or lambdas in a chain take ~200 MB, 2,500 take over 1 GB; 4,000 `not` or unary
`-` take ~900 MB; 200 nested calls take ~90 MB, and a thousand statements of 14 nested calls
each ~520 MB; a chain of 2,000 calls or subscripts (`f()()`) takes 2.5-4 s; 1,500 brackets,
8,000 `or` or a 20,000-segment dotted name overflow the C stack (a segmentation fault, not an
exception). CPython itself refuses more than 200 nested brackets, and extraction, whose code
generation recurses in Python, gives up past ~330 levels of any kind anyway. So a source whose
nesting would cost more than ~300 MB or ~2 s to parse is refused here, with the line where it
happens, before it is parsed.

The estimate weighs each kind of level by what it costs libcst, adds up the squares of the
statements' depths and refuses a file past `_BUDGET`. Ordinary files cost a few microseconds:
byte counts bound the sum of their statements' depths, and so the square root of the sum of
their squares. Only a file those counts cannot vouch for (in practice, one of more than
~8 KB) is scanned token by token (~2 % of its parse time). The estimate is an upper bound on
the depth of the syntax tree, not a parser: input crafted to fool it (such as f-strings nested
inside each other) is contained by the worker process that parses it (see
linter/project/extraction.py).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

MAX_BRACKET_DEPTH = 200
"""Deeper brackets are a syntax error for CPython too ("too many nested parentheses")."""

MAX_DEPTH = 2400
"""The deepest estimated syntax tree of one statement that is parsed, in weighted levels (see
`_CALL`, `_GROUP` and `_KEYWORD_WEIGHTS`); it is also the square root of the budget of all the
statements of a file together (`_BUDGET`). libcst's memory grows with the square of the depth
of each statement, and what one statement took is held until the whole module is parsed: a
statement at this depth takes ~300 MB, and so do many shallower ones whose squared depths add up
to the same. Extraction would fail past ~330 levels anyway."""

_BUDGET = MAX_DEPTH * MAX_DEPTH
"""The sum over a file's statements of their squared depths above which it is not parsed."""

_CALL = 2
"""Levels a bracket adds to what precedes it (a call or a subscript: `f()()` costs libcst
twice the time per link that `a.b.c` does)."""

_GROUP = 5
"""Levels a bracketed group adds to its content: a level of nested brackets costs libcst about
45 times the memory of an operator level, so a pair counts as seven (with `_CALL`)."""

MAX_ELIF_CHAIN = 1000
"""`elif` branches of one `if` statement: each is nested inside the previous one."""

_KEYWORD = re.compile(rb"\b(?:and|or|not|if|else|for)\b")
_LAMBDA = re.compile(rb"\blambda\b")
_KEYWORD_WEIGHTS = ((b"and", 1), (b"or", 1), (b"not", 1), (b"if", 1), (b"else", 1), (b"lambda", 2))
"""Substrings of every keyword the scan counts as an operator (`for` contains `or`; `await`
cannot be chained without brackets), with the levels each stands for (a `lambda` costs libcst
about four times the memory of a `not`): counting them is cheaper than matching keywords,
and counts each at least once."""
_KEYWORDS_IGNORED_UP_TO = 300
"""Keyword levels the scan may leave out (a file with fewer adds at most as many levels,
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


_TOO_MANY = "too many deeply nested expressions"


class NestingProblem(NamedTuple):
    """Where and how a source nests too deeply to be parsed."""

    line: int
    message: str


def nesting_problem(source: bytes) -> NestingProblem | None:
    """Why `source` is too deeply nested to parse, or None when it is not."""
    counted = source.translate(None, _NOT_COUNTED)  # brackets, quotes and operators
    brackets = sum(map(counted.count, _OPENERS))
    keywords = sum(source.count(part) * weight for part, weight in _KEYWORD_WEIGHTS)
    # At least the sum of the depths of the statements, so at least the square root of the sum
    # of their squares: a file within MAX_DEPTH needs no scan.
    bound = len(counted) + brackets * (_CALL + _GROUP - 2) + keywords
    if bound > MAX_DEPTH or (
        brackets > MAX_BRACKET_DEPTH and _bracket_depth(source) > MAX_BRACKET_DEPTH
    ):
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
        if b"lambda" in source:
            source = _LAMBDA.sub(b"~~", source)
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

    The estimated depth of a bracketed group is `_GROUP` more than that of its deepest
    comma-separated segment; a segment's is the number of its operators (each binary
    operator, attribute access, unary or keyword operator and each literal adjacent to another
    nests what precedes it one level deeper, a call or subscript `_CALL` levels, a lambda two)
    plus the depth of its deepest group. A statement ends at a newline outside brackets; the
    squares of the statements' depths add up to at most `_BUDGET`.
    """
    stack: list[tuple[int, int, int]] = []
    operators = child = group = spent = 0
    after_literal = False
    for position, kind in enumerate(compact.translate(_KIND)):
        if kind == _NEWLINE:
            if not stack:
                depth = max(group, operators + child)
                spent += depth * depth
                if spent > _BUDGET:
                    return position, _TOO_MANY
                operators = child = group = 0
            continue  # a literal on the next line still continues a concatenation
        if kind == _LITERAL:
            operators += after_literal
            after_literal = True
        else:
            after_literal = False
            if kind == _OPEN:
                stack.append((operators + _CALL, child, group))
                operators = child = group = 0
                if len(stack) > MAX_BRACKET_DEPTH:
                    return position, f"brackets nested more than {MAX_BRACKET_DEPTH} deep"
            elif kind == _CLOSE:
                depth = max(group, operators + child) + _GROUP
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
    depth = max(group, operators + child)
    if spent + depth * depth > _BUDGET:
        return len(compact), _TOO_MANY
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
