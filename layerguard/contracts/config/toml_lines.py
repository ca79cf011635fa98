"""The line of every key and value of a TOML document, by key path.

`tomllib` parses TOML but keeps no positions, and a contract problem must name its line. This
is a scanner over the text of a document `tomllib` has already accepted: it follows the
structure (table and array-of-tables headers, dotted keys, inline tables, nested arrays,
every kind of string and comment) and records where each key path starts, without building a
single value. Because the document is known to be valid, the scanner can stay small; it is
still defensive — on anything it does not expect it stops recording, and callers fall back to
the nearest recorded ancestor.

Key paths are tuples: table keys are strings, array items (and arrays of tables) their index:
`("tool", "layerguard", "layers", 3, "paths", 0)`. Lines are 1-based.
"""

from __future__ import annotations

import bisect
import contextlib
import re
import tomllib

KeyPath = tuple[str | int, ...]

MAX_KEY_PARTS = 32
"""Dotted parts a key (`a.b.c = 1`, `[a.b.c]`) may have. tomllib's time and memory grow with
the square of a key's parts (50,000 took 70 s and 14 GB); real keys have a few."""

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})|\\(.)")
_SCALAR_END = re.compile(r"[,\]}\n#]")


class _UnexpectedTextError(Exception):
    """Text the scanner does not expect: stop recording, keep what was found."""


class KeyTooDeepError(tomllib.TOMLDecodeError):
    """A key with more than `MAX_KEY_PARTS` dotted parts, at `line`: refused before `tomllib`
    reads the document. A TOML decode error, so that whoever reads the document reports it
    as such."""

    def __init__(self, line: int) -> None:
        self.line = line
        super().__init__(
            f"a key of more than {MAX_KEY_PARTS} dotted parts (at line {line}, column 1)"
        )


def check_key_depth(text: str) -> None:
    """Raise `KeyTooDeepError` for the first key of a TOML document with more than
    `MAX_KEY_PARTS` dotted parts, before `tomllib` spends minutes on it.

    A key lies on one line, so a document with no line holding that many dots (nearly every
    one) is decided without scanning. Otherwise the document is scanned up to the first text
    the scanner does not expect (past which `tomllib` stops too, at a syntax error).
    """
    if all(line.count(".") < MAX_KEY_PARTS for line in text.split("\n")):
        return
    locate(text)  # raises KeyTooDeepError at the first such key


def locate(text: str) -> dict[KeyPath, int]:
    """The 1-based line of every key path of a valid TOML document.

    A table's line is the line of its header (for a table only implied by a deeper header or
    a dotted key, the first line that implies it); a key's is the line of the key; an array
    item's, the line where the item starts.
    """
    scanner = _Scanner(text)
    with contextlib.suppress(_UnexpectedTextError, IndexError, RecursionError):
        scanner.document()
    return scanner.lines


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.lines: dict[KeyPath, int] = {}
        self.arrays: dict[KeyPath, int] = {}  # array of tables -> index of its last table

    def line(self, pos: int | None = None) -> int:
        return bisect.bisect_left(self.newlines, self.pos if pos is None else pos) + 1

    def record(self, path: KeyPath, pos: int) -> None:
        """`path` and its ancestors not seen yet start at `pos` (an ancestor is recorded
        before its descendants, so the walk up stops at the first one known)."""
        line = self.line(pos)
        for end in range(len(path), 0, -1):
            prefix = path[:end]
            if prefix in self.lines:
                return
            self.lines[prefix] = line

    # --- the document -------------------------------------------------------------------

    def document(self) -> None:
        table: KeyPath = ()
        while self.pos < len(self.text):
            self.blank(newlines=True)
            if self.pos >= len(self.text):
                return
            start = self.pos
            if self.text.startswith("[[", start):
                self.pos += 2
                keys = self.key()
                self.expect("]]")
                table = self.array_table(keys, start)
            elif self.text[start] == "[":
                self.pos += 1
                keys = self.key()
                self.expect("]")
                table = self.resolve(keys)
                self.record(table, start)
                self.lines[table] = self.line(start)
            else:
                self.keyval(table)
            self.end_of_line()

    def array_table(self, keys: tuple[str, ...], start: int) -> KeyPath:
        """`[[a.b]]`: a new table appended to the array `a.b` (under `a`'s last table)."""
        array = (*self.resolve(keys[:-1]), keys[-1])
        index = self.arrays.get(array, -1) + 1
        self.arrays[array] = index
        self.record((*array, index), start)
        return (*array, index)

    def resolve(self, keys: tuple[str, ...]) -> KeyPath:
        """Header keys as a key path: an array of tables on the way means its last table."""
        path: KeyPath = ()
        for key in keys:
            path = (*path, key)
            if path in self.arrays:
                path = (*path, self.arrays[path])
        return path

    def keyval(self, table: KeyPath) -> None:
        start = self.pos
        path = (*table, *self.key())
        self.record(path, start)
        self.blank()
        self.expect("=")
        self.blank()
        self.value(path)

    # --- keys and values ----------------------------------------------------------------

    def key(self) -> tuple[str, ...]:
        start = self.pos
        keys = []
        while True:
            self.blank()
            keys.append(self.simple_key())
            if len(keys) > MAX_KEY_PARTS:
                raise KeyTooDeepError(self.line(start))
            self.blank()
            if self.pos < len(self.text) and self.text[self.pos] == ".":
                self.pos += 1
                continue
            return tuple(keys)

    def simple_key(self) -> str:
        char = self.text[self.pos]
        if char in "\"'":
            return self.string()
        found = _BARE_KEY.match(self.text, self.pos)
        if found is None:
            raise _UnexpectedTextError
        self.pos = found.end()
        return found.group()

    def value(self, path: KeyPath) -> None:
        char = self.text[self.pos]
        if char == "[":
            self.array(path)
        elif char == "{":
            self.inline_table(path)
        elif char in "\"'":
            self.string()
        else:
            found = _SCALAR_END.search(self.text, self.pos)
            self.pos = found.start() if found else len(self.text)

    def array(self, path: KeyPath) -> None:
        self.pos += 1
        index = 0
        while True:
            self.blank(newlines=True)
            if self.text[self.pos] == "]":
                self.pos += 1
                return
            self.record((*path, index), self.pos)
            self.value((*path, index))
            index += 1
            self.blank(newlines=True)
            if self.text[self.pos] == ",":
                self.pos += 1

    def inline_table(self, path: KeyPath) -> None:
        self.pos += 1
        while True:
            self.blank(newlines=True)
            if self.text[self.pos] == "}":
                self.pos += 1
                return
            self.keyval(path)
            self.blank(newlines=True)
            if self.text[self.pos] == ",":
                self.pos += 1

    def string(self) -> str:
        """Skip a string of any of the four kinds; return its value when it is a one-line
        string (a key), else ""."""
        text, start = self.text, self.pos
        quote = text[start]
        if text.startswith(quote * 3, start):
            end = text.find(quote * 3, start + 3)
            while quote == '"' and end != -1 and _escaped(text, end):
                end = text.find(quote * 3, end + 1)
            if end == -1:
                raise _UnexpectedTextError
            extra = 0  # up to two quotes may end the content, right before the delimiter
            while extra < 2 and text.startswith(quote, end + 3 + extra):
                extra += 1
            self.pos = end + 3 + extra
            return ""
        end = start + 1
        while True:
            end = text.index(quote, end)
            if quote == "'" or not _escaped(text, end):
                break
            end += 1
        self.pos = end + 1
        body = text[start + 1 : end]
        return _unescape(body) if quote == '"' else body

    # --- layout -------------------------------------------------------------------------

    def blank(self, newlines: bool = False) -> None:
        """Skip spaces and tabs, comments, and (when allowed) line breaks."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            elif char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end == -1 else end
            else:
                return

    def end_of_line(self) -> None:
        self.blank()
        if self.pos < len(self.text) and self.text[self.pos] not in "\r\n":
            raise _UnexpectedTextError

    def expect(self, token: str) -> None:
        self.blank()
        if not self.text.startswith(token, self.pos):
            raise _UnexpectedTextError
        self.pos += len(token)


def _escaped(text: str, pos: int) -> bool:
    """Whether the character at `pos` follows an odd number of backslashes."""
    count = 0
    while pos - count - 1 >= 0 and text[pos - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _unescape(body: str) -> str:
    simple = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}

    def one(found: re.Match[str]) -> str:
        code = found.group(1) or found.group(2)
        if code:
            return chr(int(code, 16))
        return simple.get(found.group(3), found.group(3))

    return _ESCAPE.sub(one, body)
