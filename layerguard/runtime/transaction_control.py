"""Recognise transaction-control SQL in a statement string (``COMMIT``, ``ROLLBACK``...).

A handler can bypass ``session.commit()`` by sending the SQL itself, through
``session.execute(text("COMMIT"))`` or ``connection.exec_driver_sql("ROLLBACK")``. The
ownership guard asks this module whether a raw statement controls the transaction before it
reaches the database.

The scan is lexical and conservative about what it skips: string literals (``'...'`` with
``''``, ``E'...'`` with backslash escapes), quoted identifiers, dollar-quoted bodies
(``$tag$ ... $tag$``, so a ``DO $$ BEGIN ... END $$`` block is not mistaken for ``BEGIN``),
``--`` and (nested) ``/* */`` comments. Every statement of a multi-statement string is checked,
because ``SELECT 1; COMMIT`` commits too where the driver accepts it.
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
_WORD = re.compile(r"[A-Za-z_]+")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


def transaction_control(statement: str) -> str | None:
    """The transaction-control command in ``statement`` (``"COMMIT"``, ``"ROLLBACK TO"``...),
    or ``None`` if it has none."""
    for words in _statement_heads(statement):
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


def _statement_heads(sql: str) -> list[list[str]]:
    """The first two keywords of each statement, upper-cased, outside quotes and comments."""
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
            i = _skip_block_comment(sql, i)
        elif char in "'\"":
            escapes = char == "'" and i > 0 and sql[i - 1] in "eE" and _word_start(sql, i - 1)
            i = _skip_quoted(sql, i, char, escapes)
            words.append("")  # a literal is a token: the statement's head is over
        elif char == "$" and (match := _DOLLAR_TAG.match(sql, i)):
            end = sql.find(match.group(0), match.end())
            i = n if end < 0 else end + len(match.group(0))
            words.append("")
        elif char.isalpha() or char == "_":
            match = _WORD.match(sql, i)
            assert match is not None
            words.append(match.group(0).upper())
            i = match.end()
        elif char.isspace():
            i += 1
        else:
            words.append("")  # punctuation, numbers: a token that is no keyword
            i += 1
    heads.append(words)
    return [head[:2] for head in heads if head]


def _word_start(sql: str, i: int) -> bool:
    return i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")


def _skip_block_comment(sql: str, i: int) -> int:
    depth, i = 1, i + 2
    while i < len(sql) and depth:
        if sql.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif sql.startswith("*/", i):
            depth, i = depth - 1, i + 2
        else:
            i += 1
    return i


def _skip_quoted(sql: str, i: int, quote: str, backslash_escapes: bool) -> int:
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
