"""Recognise transaction-control SQL in a statement string (``COMMIT``, ``ROLLBACK``...).

A handler can bypass ``session.commit()`` by sending the SQL itself, through
``session.execute(text("COMMIT"))`` or ``connection.exec_driver_sql("ROLLBACK")``. The
ownership guard asks this module whether a raw statement controls the transaction before it
reaches the database.

The scan is lexical and conservative about what it skips: string literals (``'...'`` with
``''``, ``E'...'`` with backslash escapes), quoted identifiers, dollar-quoted bodies
(``$tag$ ... $tag$``, so a ``DO $$ BEGIN ... END $$`` block is not mistaken for ``BEGIN``),
``--`` and ``/* */`` comments. Block comments nest in PostgreSQL and not in SQLite, where
``/* /* */ COMMIT`` commits: the statement is scanned under both readings and flagged if
either finds a command. (The rest of the scan follows PostgreSQL: SQLite's driver runs one
statement per call, and before a statement's first keyword SQLite allows only spaces and
comments, so no other difference can hide a command there.)

Every statement of a multi-statement string is checked, because ``SELECT 1; COMMIT`` commits
too where the driver accepts it. The function is total: any string gives a command or
``None``, never an exception (a legitimate query must not fail because of the guard).
"""

from __future__ import annotations

import re

_CONTROL = frozenset(
    {
        "ABORT",  # PostgreSQL: ROLLBACK
        "BEGIN",
        "COMMIT",  # also COMMIT PREPARED
        "END",  # PostgreSQL and SQLite: COMMIT
        "PREPARE",  # PREPARE TRANSACTION (checked below: PREPARE alone names a statement)
        "RELEASE",  # RELEASE [SAVEPOINT] name
        "ROLLBACK",  # also ROLLBACK TO [SAVEPOINT] name, ROLLBACK PREPARED
        "SAVEPOINT",
        "START",  # START TRANSACTION
    }
)
# Both databases take every non-ASCII character as part of an identifier, and PostgreSQL a
# "$" after its first character (``a$b$`` is a name, not the start of a dollar quote).
_WORD_REST = re.compile(r"(?:\w|\$|[^\x00-\x7f])*")
_DOLLAR_TAG = re.compile(r"\$(?:(?:[^\W\d]|[^\x00-\x7f])(?:\w|[^\x00-\x7f])*)?\$")


def transaction_control(statement: str) -> str | None:
    """The transaction-control command in ``statement`` (``"COMMIT"``, ``"ROLLBACK TO"``...),
    or ``None`` if it has none under either reading of block comments."""
    # PostgreSQL's reading, then SQLite's: they differ only where a comment opens inside one
    nestable = statement.count("/*") > 1
    for nested_comments in (True, False) if nestable else (True,):
        for words in _statement_heads(statement, nested_comments):
            command = _command(words)
            if command is not None:
                return command
    return None


def _command(words: list[str]) -> str | None:
    if not words or words[0] not in _CONTROL:
        return None
    first = words[0]
    second = words[1] if len(words) > 1 else ""
    if first == "PREPARE":
        return "PREPARE TRANSACTION" if second == "TRANSACTION" else None
    if first == "START":
        return "START TRANSACTION" if second == "TRANSACTION" else None
    if first == "ROLLBACK" and second == "TO":
        return "ROLLBACK TO"
    return first


def _statement_heads(sql: str, nested_comments: bool) -> list[list[str]]:
    """The first two keywords of each statement, upper-cased, outside quotes and comments.

    Every branch advances ``i`` by at least one character, so the loop ends on any input."""
    heads: list[list[str]] = []
    words: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char == ";":
            heads.append(words)
            words = []
            i += 1
        elif char == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif char == "/" and sql.startswith("/*", i):
            i = _skip_block_comment(sql, i, nested_comments)
        elif char in "'\"":
            i = _skip_quoted(sql, i, char, backslash_escapes=False)
            words.append("")  # a literal is a token: the statement's head is over
        elif char == "$" and (match := _DOLLAR_TAG.match(sql, i)):
            end = sql.find(match.group(0), match.end())
            i = n if end < 0 else end + len(match.group(0))
            words.append("")
        elif char.isalpha() or char == "_" or not char.isascii():
            end = _WORD_REST.match(sql, i + 1).end()  # type: ignore[union-attr]  # matches ""
            word = sql[i:end]
            if word in ("e", "E") and sql.startswith("'", end):
                i = _skip_quoted(sql, end, "'", backslash_escapes=True)
                words.append("")
            else:
                words.append(word.upper())
                i = end
        elif char.isspace():
            i += 1
        else:
            words.append("")  # punctuation, numbers: a token that is no keyword
            i += 1
    heads.append(words)
    return [head[:2] for head in heads if head]


def _skip_block_comment(sql: str, i: int, nested: bool) -> int:
    if not nested:
        end = sql.find("*/", i + 2)
        return len(sql) if end < 0 else end + 2
    depth, i = 1, i + 2
    while i < len(sql) and depth:
        if sql.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif sql.startswith("*/", i):
            depth, i = depth - 1, i + 2
        else:
            i += 1
    return i


def _skip_quoted(sql: str, i: int, quote: str, *, backslash_escapes: bool) -> int:
    i += 1
    while i < len(sql):
        char = sql[i]
        if backslash_escapes and char == "\\":
            i += 2
        elif char == quote:
            if sql.startswith(quote * 2, i):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return i
