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

import configparser
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

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
_KEY = re.compile(r"^(?P<key>[^\s=:#;][^=:]*?)\s*[=:](?P<rest>.*)$")


def _parse_ini(text: str, path: PurePath) -> ImportLinterConfig | None:
    parser = configparser.ConfigParser()  # as import-linter: default interpolation and all
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
    sections = {}
    for name in parser.sections():
        if name != INI_SECTION and not name.startswith(INI_SECTION + ":"):
            continue
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
    comment of the scanned line that holds each."""
    items = []
    remaining = list(scanned)
    for value in values:
        if not value:
            continue
        at = next((i for i, item in enumerate(remaining) if item.value == value), None)
        if at is None:
            items.append(Item(value, default))
        else:
            items.append(Item(value, remaining[at].line, remaining[at].comment))
            del remaining[: at + 1]
    return items


# --- TOML ------------------------------------------------------------------------------------

_TOML_ERROR = re.compile(r"\(at line (?P<line>\d+), column \d+\)")
_TABLE = re.compile(r"^\s*\[\[?\s*(?P<name>[^\]]+?)\s*\]\]?")
_TOML_KEY = re.compile(r"^\s*(?P<key>[A-Za-z0-9_\-\"']+)\s*=")


def _parse_toml(text: str, path: PurePath) -> ImportLinterConfig | None:
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ImportLinterSyntaxError(0, "nested too deeply to read") from None
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
    lines = text.splitlines()
    tables = _toml_tables(lines)
    session_line = next((line for name, line in tables if name == "tool.importlinter"), 1)
    session = Section("tool.importlinter", session_line)
    contracts_data = options.get("contracts", [])
    contract_lines = [line for name, line in tables if name == "tool.importlinter.contracts"]
    for key, value in options.items():
        if key != "contracts":
            _toml_option(session, key, value, lines, session_line, _block_end(tables, session_line))
    contracts: list[Section] = []
    if isinstance(contracts_data, list):
        for number, contract in enumerate(contracts_data):
            start = contract_lines[number] if number < len(contract_lines) else session_line
            section = Section(str(number), start)
            if isinstance(contract, dict):
                end = _block_end(tables, start)
                for key, value in contract.items():
                    _toml_option(section, key, value, lines, start, end)
            contracts.append(section)
    return ImportLinterConfig(path, session, contracts)


def _toml_tables(lines: list[str]) -> list[tuple[str, int]]:
    tables = []
    for number, raw in enumerate(lines, start=1):
        found = _TABLE.match(raw)
        if found and not raw.strip().startswith("#"):
            tables.append((found.group("name").replace(" ", ""), number))
    return tables


def _block_end(tables: list[tuple[str, int]], start: int) -> int:
    """The last line of the table starting at `start`."""
    later = [line for _, line in tables if line > start]
    return (min(later) - 1) if later else 10**9


def _toml_option(
    section: Section, key: str, value: Any, lines: list[str], start: int, end: int
) -> None:
    key_line = start
    for number in range(start, min(end, len(lines)) + 1):
        found = _TOML_KEY.match(lines[number - 1])
        if found and found.group("key").strip("\"'") == key:
            key_line = number
            break
    section.lines[key] = key_line
    values = value if isinstance(value, list) else [value]
    items = []
    search = key_line
    for raw in values:
        text = _toml_text(raw)
        line, comment = _find_item(text, lines, search, end)
        if line:
            search = line
        items.append(Item(text, line or key_line, comment))
    section.options[key] = items


def _toml_text(value: Any) -> str:
    """A TOML value as import-linter sees it: booleans become `True`/`False` strings."""
    if isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else str(value)


def _find_item(text: str, lines: list[str], start: int, end: int) -> tuple[int, str]:
    """The line holding a quoted `text` from `start` on, with the comments just above it."""
    for number in range(start, min(end, len(lines)) + 1):
        line = lines[number - 1]
        if f'"{text}"' in line or f"'{text}'" in line:
            comment: list[str] = []
            above = number - 1
            while above > start and lines[above - 1].strip().startswith("#"):
                comment.insert(0, lines[above - 1].strip()[1:].strip())
                above -= 1
            return number, " ".join(comment)
    return 0, ""
