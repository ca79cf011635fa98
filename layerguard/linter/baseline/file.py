"""`.layerguard-baseline.json`: reading and writing the baseline file (the adapter of baseline.py).

The file is meant to be reviewed in pull requests, so it is sorted, indented and free of line
numbers and timestamps: fixing a violation deletes exactly its line, and regenerating an
unchanged baseline changes nothing::

    {
      "about": "...",
      "findings": {
        "backend/app/hoc/api/cus/policies/policies.py": {
          "LG101": {
            "app.hoc.cus.policies.L5_engines.policy_engine": 1
          }
        }
      },
      "version": 1
    }

`findings` maps file -> rule code -> finding key -> how many findings with that key the file
may have.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from layerguard.contracts.escaping import surrogates_escaped
from layerguard.contracts.file_access import (
    MIB,
    UnreadableFileError,
    read_regular_file,
    write_atomically,
)
from layerguard.linter.baseline.model import Baseline, EntryKey
from layerguard.linter.errors import UsageError

BASELINE_FILE_NAME = ".layerguard-baseline.json"
MAX_BASELINE_BYTES = 64 * MIB
"""A baseline of a million findings is smaller: a larger file is no baseline."""
FORMAT_VERSION = 1
ABOUT = (
    "Findings accepted when layerguard was adopted; `layerguard check` hides them. This file "
    "may only shrink: `layerguard baseline update` removes the findings that were fixed."
)


class BaselineFileError(UsageError):
    """A baseline file that cannot be used, with the line that says why (0: the whole file)."""

    def __init__(self, path: str, line: int, message: str, col: int | None = None) -> None:
        super().__init__(path, line, message, col)
        self.path = path
        self.line = line
        self.col = col
        self.message = message

    def __str__(self) -> str:
        if not self.line:
            return f"{self.path}: {self.message}"
        where = f"{self.line}:{self.col}" if self.col is not None else str(self.line)
        return f"{self.path}:{where}: {self.message}"


def format_baseline(baseline: Baseline) -> str:
    findings: dict[str, dict[str, dict[str, int]]] = {}
    for key, count in sorted(baseline.counts.items()):
        findings.setdefault(key.path, {}).setdefault(key.code, {})[key.key] = count
    data = {"about": ABOUT, "findings": findings, "version": FORMAT_VERSION}
    # Readable as UTF-8, except lone surrogates (a key quoting "\ud800" in analysed code, a
    # path with an undecodable byte): UTF-8 cannot hold them, their JSON escape reads back.
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    return surrogates_escaped(text) + "\n"


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Replace the file atomically (a baseline is never left half-written), keeping its
    mode; a new one gets the umask's."""
    write_atomically(path, format_baseline(baseline), newline="\n")


def read_baseline(path: Path) -> Baseline:
    try:
        data = read_regular_file(path, MAX_BASELINE_BYTES)
    except UnreadableFileError as error:
        raise BaselineFileError(str(path), 0, f"cannot read the baseline: {error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        message = f"not UTF-8: byte 0x{data[error.start]:02x} ({error.reason})"
        raise BaselineFileError(str(path), line, message) from None
    return parse_baseline(text, str(path))


def parse_baseline(text: str, label: str) -> Baseline:
    """The baseline in `text`; every problem names its line (`label` names the file)."""
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_count_int)
    except json.JSONDecodeError as error:
        message = f"invalid JSON: {error.msg}"
        raise BaselineFileError(label, error.lineno, message, error.colno) from None
    except _DuplicateKeyError as error:
        line, col = _duplicate_position(text, error.key)
        message = f"invalid baseline: the key {json.dumps(error.key)} appears twice in an object"
        raise BaselineFileError(label, line, message, col) from None
    except _LongNumberError as error:
        line, col = _long_number_position(text)
        message = (
            f"invalid baseline: a number {error.digits:,} digits long (a count has at most "
            f"{_MAX_COUNT_DIGITS})"
        )
        raise BaselineFileError(label, line, message, col) from None
    except RecursionError:
        line, col = _too_deep_position(text)
        message = (
            f"invalid baseline: nested more than {_MAX_JSON_DEPTH} levels deep (a baseline "
            "nests 4 objects deep)"
        )
        raise BaselineFileError(label, line, message, col) from None
    locator = _Locator(text)

    def fail(keys: list[str], message: str) -> BaselineFileError:
        where = "".join(f"[{json.dumps(k, ensure_ascii=False)}]" for k in keys)
        return BaselineFileError(label, locator.line(keys), f"{where or 'top level'}: {message}")

    if not isinstance(data, dict):
        raise fail([], f"expected an object, found {_kind(data)}")
    if data.get("version") != FORMAT_VERSION:
        found = "nothing" if "version" not in data else json.dumps(data["version"])
        raise fail(
            ["version"] if "version" in data else [],
            f'expected `"version": {FORMAT_VERSION}`, found {found}',
        )
    findings = data.get("findings")
    if not isinstance(findings, dict):
        raise fail(["findings"] if "findings" in data else [], "expected a `findings` object")
    counts: dict[EntryKey, int] = {}
    for path, codes in findings.items():
        if not isinstance(codes, dict):
            raise fail(
                ["findings", path], f"expected an object of rule codes, found {_kind(codes)}"
            )
        for code, keys in codes.items():
            if not isinstance(keys, dict):
                raise fail(
                    ["findings", path, code],
                    f"expected an object of finding keys, found {_kind(keys)}",
                )
            for key, count in keys.items():
                if type(count) is not int or count < 1:
                    raise fail(
                        ["findings", path, code, key],
                        f"expected a count (a positive integer), found {json.dumps(count)}",
                    )
                counts[EntryKey(path, code, key)] = count
    return Baseline(counts, _EntryLines(locator, counts))


_MAX_COUNT_DIGITS = 18
"""A count fits in 64 bits: more digits are no count (and past 4,300, Python refuses to
convert them at all)."""


class _LongNumberError(Exception):
    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.digits = digits


def _count_int(token: str) -> int:
    """An integer of the file, refused before conversion when it has more digits than any
    count (the conversion is quadratic in the digits, and Python's limit raises a ValueError
    that says nowhere where the number is)."""
    digits = len(token) - token.startswith("-")
    if digits > _MAX_COUNT_DIGITS:
        raise _LongNumberError(digits)
    return int(token)


_LONG_NUMBER = re.compile(
    rf'"(?:[^"\\]|\\.)*"|(?<![0-9.eE+-])-?[0-9]{{{_MAX_COUNT_DIGITS + 1},}}+(?![.eE])'
)  # linear: a run of digits is matched from its start only, and never backtracked into


def _long_number_position(text: str) -> tuple[int, int]:
    """Where the first number longer than any count starts (strings are passed over)."""
    for match in _LONG_NUMBER.finditer(text):
        if not match.group().startswith('"'):
            return _line_col(text, match.start())
    return 1, 1


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's keys, refused when one is repeated: JSON parsers keep one of the two
    values silently, and which one differs between tools (a hand merge gone wrong)."""
    found = dict(pairs)
    if len(found) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return found


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_MAX_JSON_DEPTH = 100


def _positions(text: str) -> Iterator[tuple[int, str]]:
    """Offsets and text of the strings and brackets of a JSON text."""
    for match in _JSON_TOKEN.finditer(text):
        yield match.start(), match.group()


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _too_deep_position(text: str) -> tuple[int, int]:
    """Where the brackets of `text` first nest past _MAX_JSON_DEPTH."""
    depth = 0
    for offset, token in _positions(text):
        depth += token in "[{"
        depth -= token in "]}"
        if depth > _MAX_JSON_DEPTH:
            return _line_col(text, offset)
    return 1, 1


def _duplicate_position(text: str, key: str) -> tuple[int, int]:
    """Where `key` appears a second time in one object (a string followed by `:` is a key)."""
    objects: list[set[str] | None] = []  # the keys seen in each open object; None: an array
    for offset, token in _positions(text):
        if token in "[{":
            objects.append(set() if token == "{" else None)
        elif token in "]}":
            if objects:
                objects.pop()
        elif objects and (keys := objects[-1]) is not None:
            if not text[offset + len(token) :].lstrip().startswith(":"):
                continue
            name = json.loads(token)
            if name == key and name in keys:
                return _line_col(text, offset)
            keys.add(name)
    return 1, 1


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), "a number")


class _Locator:
    """Lines of object keys (json keeps none), found in one pass over the text when first
    asked for: a run whose baseline has no stale entry never looks (a baseline of 20,000
    entries is 1 MB of text). Where a key repeats, the first is meant; a key that cannot be
    found gets the line of its parent."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._offsets: dict[tuple[str, ...], int] | None = None
        self._newlines: list[int] = []

    def line(self, keys: Sequence[str]) -> int:
        if self._offsets is None:
            self._offsets = _key_offsets(self.text)
            self._newlines = [match.start() for match in _NEWLINE.finditer(self.text)]
        for end in range(len(keys), 0, -1):
            offset = self._offsets.get(tuple(keys[:end]))
            if offset is not None:
                return bisect.bisect_left(self._newlines, offset) + 1
        return 1


class _EntryLines(Mapping[EntryKey, int]):
    """The line of each entry of a baseline file, looked up only for the entries reported
    (stale ones)."""

    def __init__(self, locator: _Locator, entries: Collection[EntryKey]) -> None:
        self._locator = locator
        self._entries = entries

    def __getitem__(self, entry: EntryKey) -> int:
        if entry not in self._entries:
            raise KeyError(entry)
        return self._locator.line(("findings", entry.path, entry.code, entry.key))

    def __iter__(self) -> Iterator[EntryKey]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


_NEWLINE = re.compile("\n")
_KEY_END = re.compile(r"\s*:")


def _key_offsets(text: str) -> dict[tuple[str, ...], int]:
    """The offset of each object key of a (valid) JSON text by its path of keys, the first
    where a key repeats; keys inside arrays are left out. One pass over its strings and
    brackets."""
    offsets: dict[tuple[str, ...], int] = {}
    open_: list[tuple[str, ...] | None] = []  # the path of each open object; None: an array
    key: str | None = None  # the last key read in the innermost object
    for offset, token in _positions(text):
        if token == "{":
            if not open_:
                open_.append(())
            elif (parent := open_[-1]) is None or key is None:
                open_.append(None)
            else:
                open_.append((*parent, key))
            key = None
        elif token == "[":
            open_.append(None)
            key = None
        elif token == "}" or token == "]":
            if open_:
                open_.pop()
            key = None
        elif (
            open_ and (where := open_[-1]) is not None and _KEY_END.match(text, offset + len(token))
        ):
            key = json.loads(token) if "\\" in token else token[1:-1]
            offsets.setdefault((*where, key), offset)
    return offsets
