"""import-linter's configuration, read as import-linter reads it, with the line of every value.

Three places hold it: an INI file (`.importlinter`, or `setup.cfg`) with an `[importlinter]`
section and one `[importlinter:contract:<id>]` section per contract, or `pyproject.toml` with
`[tool.importlinter]` and `[[tool.importlinter.contracts]]` tables. Values come from the same
parsers import-linter uses (configparser, tomllib); lines come from a scan of the text, since
neither parser keeps them, so that every message can point at the line to look at.

Pure: text in, model out; a file that does not parse raises `ImportLinterSyntaxError` with its
line.
"""

from __future__ import annotations

import bisect
import configparser
import re
import tomllib
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from layerguard.contracts.config.loader import MAX_CONFIG_VALUES
from layerguard.contracts.config.pyproject import holds_more_than
from layerguard.contracts.config.toml_lines import (
    MAX_KEY_PARTS,
    KeyPath,
    KeyTooDeepError,
    check_key_depth,
    locate,
)

INI_SECTION = "importlinter"
TOML_TABLE = ("tool", "importlinter")


class ImportLinterSyntaxError(Exception):
    """The file is not valid INI or TOML: where, and why."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")


@dataclass(frozen=True, slots=True)
class Item:
    """One value of an option (a list option has several), with its line and the comment
    lines written just above it (the only place a reason for an `ignore_imports` entry can
    be)."""

    value: str
    line: int
    comment: str = ""


@dataclass(slots=True)
class Section:
    """The session options, or one contract: option name -> its items, and where it is."""

    name: str  # the contract's id for an INI section, the table for TOML
    line: int
    options: dict[str, list[Item]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # option -> line of its key

    def value(self, option: str) -> str | None:
        items = self.options.get(option)
        return items[0].value if items else None

    def line_of(self, option: str) -> int:
        return self.lines.get(option, self.line)


@dataclass(slots=True)
class ImportLinterConfig:
    path: PurePath
    session: Section
    contracts: list[Section]


def parse(text: str, path: PurePath) -> ImportLinterConfig | None:
    """The import-linter configuration in `text` (read from `path`: a `.toml` file is TOML,
    anything else INI), or None when the file holds none."""
    if path.suffix == ".toml":
        return _parse_toml(text, path)
    return _parse_ini(text, path)


# --- INI -------------------------------------------------------------------------------------

_HEADER = re.compile(r"^\[(?P<name>[^\]]+)\]")
# The key is stripped afterwards: a lazy key before `\s*` retried the blanks at every character
# of a long line.
_KEY = re.compile(r"^(?P<key>[^\s=:#;][^=:]*)[=:](?P<rest>.*)$")


MAX_INTERPOLATION = 1_000_000
"""Characters `%(name)s` references may add to a file's values, all options together. An
option referring ten times to one referring ten times to another... expands exponentially
(configparser bounds the depth, not the breadth): import-linter itself hangs on such a file."""


class InterpolationTooLargeError(configparser.InterpolationError):
    """The values' references expand beyond `MAX_INTERPOLATION` characters."""


class _Pieces(list[str]):
    """The pieces of interpolated values, counted against the file's budget as they come
    (an empty piece counts too: references to empty values cost time all the same)."""

    def __init__(self, interpolation: _BoundedInterpolation, option: str, section: str) -> None:
        super().__init__()
        self.interpolation = interpolation
        self.option = option
        self.section = section

    def append(self, piece: str) -> None:
        self.interpolation.spent += len(piece) + 1
        if self.interpolation.spent > self.interpolation.budget:
            raise InterpolationTooLargeError(
                self.option,
                self.section,
                f"its %(name)s references expand beyond {MAX_INTERPOLATION:,} characters; "
                "write the values out",
            )
        super().append(piece)


class _BoundedInterpolation(configparser.BasicInterpolation):
    """configparser's default interpolation, which import-linter uses, within a budget: the
    values as written (each option is read once) and `MAX_INTERPOLATION` characters more."""

    def __init__(self, text: str) -> None:
        self.budget = 2 * len(text) + MAX_INTERPOLATION
        self.spent = 0

    def before_get(
        self,
        parser: MutableMapping[str, Mapping[str, str]],
        section: str,
        option: str,
        value: str,
        defaults: Mapping[str, str],
    ) -> str:
        pieces = _Pieces(self, option, section)
        self._interpolate_some(  # type: ignore[attr-defined]
            parser, option, pieces, value, section, defaults, 1
        )
        return "".join(pieces)


class _ConfigParser(configparser.ConfigParser):
    """configparser's parser with an option pattern in linear time: the stock one,
    `(?P<option>.*?)\\s*(?P<vi>=|:)`, retries the blanks at every character of a long line
    (100,000 spaces took a minute). It matches the same lines, and configparser strips the
    option's trailing blanks all the same."""

    OPTCRE = re.compile(r"(?P<option>[^=:]*)(?P<vi>[=:])\s*(?P<value>.*)$")


def _parse_ini(text: str, path: PurePath) -> ImportLinterConfig | None:
    # As import-linter reads it: configparser's defaults, interpolation included (bounded).
    parser = _ConfigParser(interpolation=_BoundedInterpolation(text))
    try:
        parser.read_string(text, source=str(path))
    except configparser.ParsingError as error:
        line = error.errors[0][0] if error.errors else 0
        raise ImportLinterSyntaxError(
            line, "not a valid INI file: cannot parse this line"
        ) from None
    except (configparser.DuplicateSectionError, configparser.DuplicateOptionError) as error:
        what = (
            f"option '{error.option}'"
            if isinstance(error, configparser.DuplicateOptionError)
            else f"section '{error.section}'"
        )
        raise ImportLinterSyntaxError(error.lineno or 0, f"duplicate {what}") from None
    except configparser.MissingSectionHeaderError as error:
        raise ImportLinterSyntaxError(error.lineno, "text before the first [section]") from None
    except configparser.Error as error:
        raise ImportLinterSyntaxError(0, str(error)) from None
    if INI_SECTION not in parser.sections():
        return None
    scanned = _scan_ini(text)
    names = [n for n in parser.sections() if n == INI_SECTION or n.startswith(INI_SECTION + ":")]
    count = sum(
        parser.get(name, option, raw=True).count("\n") + 1
        for name in names
        for option in parser.options(name)
    )
    if count > MAX_CONFIG_VALUES:
        raise ImportLinterSyntaxError(scanned.get(INI_SECTION, (0, {}))[0], _TOO_MANY_VALUES)
    sections = {}
    for name in names:
        header_line, keys = scanned.get(name, (0, {}))
        section = Section(name, header_line)
        for option in parser.options(name):
            try:
                raw = parser.get(name, option)
            except configparser.InterpolationError as error:
                line = keys.get(option, (header_line, []))[0]
                raise ImportLinterSyntaxError(line, f"option '{option}': {error.message}") from None
            key_line, item_lines = keys.get(option, (header_line, []))
            section.lines[option] = key_line
            values = [part.strip() for part in raw.strip().split("\n")] if "\n" in raw else [raw]
            section.options[option] = _with_lines(values, item_lines, key_line)
        sections[name] = section
    session = sections.pop(INI_SECTION)
    for section in sections.values():  # `importlinter:contract:<id>`: as import-linter, the id
        section.name = section.name.split(":")[-1]  # is what follows the last colon
    return ImportLinterConfig(path, session, list(sections.values()))


def _scan_ini(text: str) -> dict[str, tuple[int, dict[str, tuple[int, list[Item]]]]]:
    """Section -> (its header line, option -> (key line, its value lines with the comments
    just above them))."""
    found: dict[str, tuple[int, dict[str, tuple[int, list[Item]]]]] = {}
    keys: dict[str, tuple[int, list[Item]]] = {}
    current: list[Item] | None = None
    comment: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        header = _HEADER.match(raw)
        if header:
            keys = {}
            found[header.group("name").strip()] = (number, keys)
            current, comment = None, []
            continue
        if not stripped:
            continue
        if stripped[0] in "#;":
            comment.append(stripped[1:].strip())
            continue
        key = _KEY.match(raw)
        if key and raw[0] not in " \t":
            current = []
            keys[key.group("key").strip().lower()] = (number, current)
            rest = key.group("rest").strip()
            if rest:
                current.append(Item(rest, number, " ".join(comment)))
            comment = []
        elif current is not None:
            current.append(Item(stripped, number, " ".join(comment)))
            comment = []
    return found


def _with_lines(values: list[str], scanned: list[Item], default: int) -> list[Item]:
    """The option's values (blank ones dropped, as import-linter does) with the line and
    comment of the scanned line that holds each: the first such line after the previous
    value's (in linear time: an option may have a million values)."""
    where: dict[str, list[int]] = {}  # value -> the indexes of the scanned lines holding it
    for index, item in enumerate(scanned):
        where.setdefault(item.value, []).append(index)
    items = []
    after = 0  # scanned lines before this one hold earlier values
    for value in values:
        if not value:
            continue
        indexes = where.get(value, [])
        found = bisect.bisect_left(indexes, after)
        if found == len(indexes):
            items.append(Item(value, default))
        else:
            at = indexes[found]
            items.append(Item(value, scanned[at].line, scanned[at].comment))
            after = at + 1
    return items


# --- TOML ------------------------------------------------------------------------------------

_TOML_ERROR = re.compile(r"\(at line (?P<line>\d+), column \d+\)")
_TOML_SESSION = re.compile(r"^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*importlinter[ \t]*\]", re.MULTILINE)
_TOO_MANY_VALUES = (
    f"more than {MAX_CONFIG_VALUES:,} values: no contract that large can be loaded (a "
    "configuration has a few hundred)"
)


def _parse_toml(text: str, path: PurePath) -> ImportLinterConfig | None:
    try:
        check_key_depth(text)
        data = tomllib.loads(text)
    except RecursionError:
        raise ImportLinterSyntaxError(0, "nested too deeply to read") from None
    except KeyTooDeepError as error:
        message = f"a key of more than {MAX_KEY_PARTS} dotted parts: the file is not read"
        raise ImportLinterSyntaxError(error.line, message) from None
    except tomllib.TOMLDecodeError as error:
        found = _TOML_ERROR.search(str(error))
        line = int(found.group("line")) if found else 0
        if "(at end of document)" in str(error):
            line = text.count("\n") + (0 if text.endswith("\n") else 1)
        message = _TOML_ERROR.sub("", str(error)).replace("(at end of document)", "").strip()
        raise ImportLinterSyntaxError(line, f"not valid TOML: {message}") from None
    tool = data.get(TOML_TABLE[0], {})
    options = tool.get(TOML_TABLE[1]) if isinstance(tool, dict) else None
    if not isinstance(options, dict) or not options:
        return None
    if holds_more_than(options, MAX_CONFIG_VALUES):
        header = _TOML_SESSION.search(text)
        line = text.count("\n", 0, header.start()) + 1 if header else 0
        raise ImportLinterSyntaxError(line, _TOO_MANY_VALUES)
    lines = text.splitlines()
    located = locate(text)
    session_line = located.get(TOML_TABLE, 1)
    session = Section("tool.importlinter", session_line)
    for key, value in options.items():
        if key != "contracts":
            _toml_option(session, (*TOML_TABLE, key), value, lines, located)
    contracts: list[Section] = []
    contracts_data = options.get("contracts", [])
    if isinstance(contracts_data, list):
        for number, contract in enumerate(contracts_data):
            table: KeyPath = (*TOML_TABLE, "contracts", number)
            section = Section(str(number), located.get(table, session_line))
            if isinstance(contract, dict):
                for key, value in contract.items():
                    _toml_option(section, (*table, key), value, lines, located)
            contracts.append(section)
    return ImportLinterConfig(path, session, contracts)


def _toml_option(
    section: Section, key_path: KeyPath, value: Any, lines: list[str], located: dict[KeyPath, int]
) -> None:
    """One option of a table, each value at its line with the comment lines just above it
    (below the previous value's line)."""
    key = str(key_path[-1])
    key_line = located.get(key_path, section.line)
    section.lines[key] = key_line
    values = value if isinstance(value, list) else [value]
    items = []
    previous = key_line
    for index, raw in enumerate(values):
        line = located.get((*key_path, index), key_line) if isinstance(value, list) else key_line
        comment = _comment_above(lines, line, previous) if line > previous else ""
        previous = max(previous, line)
        items.append(Item(_toml_text(raw), line, comment))
    section.options[key] = items


def _toml_text(value: Any) -> str:
    """A TOML value as import-linter sees it: booleans become `True`/`False` strings."""
    if isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else str(value)


def _comment_above(lines: list[str], line: int, floor: int) -> str:
    """The `#` comment lines just above `line` (1-based) and below line `floor`, joined."""
    comment: list[str] = []
    above = line - 1
    while above > floor and lines[above - 1].strip().startswith("#"):
        comment.append(lines[above - 1].strip()[1:].strip())
        above -= 1
    return " ".join(reversed(comment))
