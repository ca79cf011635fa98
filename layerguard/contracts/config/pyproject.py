"""The contract as `[tool.layerguard]` in `pyproject.toml`, validated exactly as the YAML file.

`tomllib` reads the document; `toml_lines` says where each key is. The table is then turned
into the same YAML nodes `yaml.compose` gives for `layerguard.yaml` (a mapping node per table,
a sequence node per array, scalar nodes tagged with their type), each marked with its TOML
line, so that one validator checks both files and reports the same problems at the right
lines. TOML has no null and no duplicate keys (`tomllib` refuses them), so nothing is lost in
the translation.
"""

from __future__ import annotations

import datetime
import functools
import re
from pathlib import Path
from typing import Any

import yaml

from layerguard.contracts.config.errors import ConfigError, ConfigProblem, sentence
from layerguard.contracts.config.model import MAX_CONFIG_BYTES
from layerguard.contracts.file_access import UnreadableFileError, read_regular_file

PYPROJECT_NAME = "pyproject.toml"
TOOL_TABLE = ("tool", "layerguard")
TOOL_HEADER = "[tool.layerguard]"

_TAG = "tag:yaml.org,2002:"
_TOML_ERROR_PLACE = re.compile(r"\s*\(at line (\d+), column \d+\)$|\s*\(at end of document\)$")
_HEADER = re.compile(r"""^[ \t]*\[{1,2}[ \t]*([^\]#]*?)[ \t]*\]""")
_TOOL_HEADER = re.compile(r"""tool[ \t]*\.[ \t]*["']?layerguard\b""")
_LAYERGUARD_KEY = re.compile(r"""^[ \t]*["']?layerguard\b""")
_TOOL_KEY = re.compile(r"""^[ \t]*tool\b.*\blayerguard\b""")


def declares_contract(path: Path) -> bool:
    """Whether a `pyproject.toml` holds a `[tool.layerguard]` table (as ruff reads only a
    pyproject with `[tool.ruff]`). A file that does not parse counts when a line of it looks
    like the table, so that loading it reports the syntax error instead of walking past it.
    Only a regular file of at most MAX_CONFIG_BYTES is read: a larger one, a FIFO or a device
    holds no contract (and the search for one passes it, in every directory above a project)."""
    try:
        data = read_regular_file(path, MAX_CONFIG_BYTES)
    except UnreadableFileError:
        return False
    if b"layerguard" not in data:
        return False  # most pyproject files: decided without parsing
    text = data.decode("utf-8", errors="replace")
    if not _may_hold_tool_table(text):
        return False  # layerguard named as a dependency or a script: still no parsing
    import tomllib

    try:
        document = toml_document(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return True  # it looks like one: loading it will report the syntax error
    tool = document.get(TOOL_TABLE[0])
    return isinstance(tool, dict) and TOOL_TABLE[1] in tool


@functools.lru_cache(maxsize=1)
def toml_document(text: str) -> dict[str, Any]:
    """The parsed document (read only: it is shared). A run parses its `pyproject.toml` once:
    finding the contract (`declares_contract`) and loading it (`contract_node`) read the same
    text one after the other. A key of too many dotted parts is refused before parsing
    (`KeyTooDeepError`, a `TOMLDecodeError`): tomllib would spend minutes on it."""
    import tomllib

    from layerguard.contracts.config.toml_lines import check_key_depth

    check_key_depth(text)
    return tomllib.loads(text)


def _may_hold_tool_table(text: str) -> bool:
    """A line scan (no parsing) for what could define `[tool.layerguard]`: a header naming
    it, a `layerguard` key in `[tool]`, a top-level `tool...layerguard` key. It may say yes
    to text inside a multi-line string; the parser then decides."""
    table = ""
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header is not None:
            table = header.group(1)
            if _TOOL_HEADER.match(table):
                return True
        elif (table == "tool" and _LAYERGUARD_KEY.match(line)) or (
            not table and _TOOL_KEY.match(line)
        ):
            return True
    return False


def contract_node(text: str, path: Path, max_values: int) -> yaml.Node:
    """The `[tool.layerguard]` table of a TOML document as a YAML node (ConfigError when the
    document does not parse, has no such table, or more than `max_values` values in it: those
    are counted before the table's lines are looked for and its nodes built)."""
    import tomllib

    from layerguard.contracts.config.toml_lines import MAX_KEY_PARTS, KeyTooDeepError, locate

    try:
        document = toml_document(text)
    except KeyTooDeepError as error:
        message = (
            f"a key of more than {MAX_KEY_PARTS} dotted parts; layerguard does not read "
            "such a document (a contract's keys have at most five parts)."
        )
        raise ConfigError([ConfigProblem(path, error.line, "", message)]) from None
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        place = _TOML_ERROR_PLACE.search(message)
        line = 0
        if place is not None:  # a line, or the end of the document: its last line
            line = int(place.group(1)) if place.group(1) else max(1, len(text.splitlines()))
        message = sentence(_TOML_ERROR_PLACE.sub("", message))
        raise ConfigError([ConfigProblem(path, line, "", f"invalid TOML: {message}")]) from None
    except RecursionError:
        raise ConfigError(
            [ConfigProblem(path, 0, "", "invalid TOML: nested too deeply to read.")]
        ) from None
    tool = document.get(TOOL_TABLE[0])
    if not isinstance(tool, dict) or TOOL_TABLE[1] not in tool:
        message = f"no {TOOL_HEADER} table; `layerguard init --pyproject` writes one."
        raise ConfigError([ConfigProblem(path, 0, "", message)])
    table = tool[TOOL_TABLE[1]]
    if holds_more_than(table, max_values):
        message = (
            f"{TOOL_HEADER} holds more than {max_values:,} values; a contract has a few hundred."
        )
        raise ConfigError([ConfigProblem(path, locate(text).get(TOOL_TABLE, 0), "", message)])
    lines = locate(text)
    try:
        return _node(table, TOOL_TABLE, lines, lines.get(TOOL_TABLE, 1))
    except RecursionError:
        raise ConfigError(
            [ConfigProblem(path, 0, TOOL_HEADER, "nested too deeply to read.")]
        ) from None


def holds_more_than(table: dict[str, Any], limit: int) -> bool:
    """Whether a parsed TOML table holds more than `limit` values (tables and arrays count)."""
    stack: list[Any] = [table]
    count = 0
    while stack:
        value = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _node(value: Any, path: tuple[str | int, ...], lines: dict[Any, int], near: int) -> yaml.Node:
    """`value` (at key path `path`) as a YAML node marked with its line (else `near`'s)."""
    line = lines.get(path, near)
    mark = yaml.Mark(PYPROJECT_NAME, 0, line - 1, 0, None, 0)
    if isinstance(value, dict):
        pairs = []
        for key, item in value.items():
            key_line = lines.get((*path, key), line)
            key_mark = yaml.Mark(PYPROJECT_NAME, 0, key_line - 1, 0, None, 0)
            key_node = yaml.ScalarNode(_TAG + "str", key, key_mark, key_mark)
            pairs.append((key_node, _node(item, (*path, key), lines, key_line)))
        return yaml.MappingNode(_TAG + "map", pairs, mark, mark)
    if isinstance(value, list):
        items = [_node(item, (*path, i), lines, line) for i, item in enumerate(value)]
        return yaml.SequenceNode(_TAG + "seq", items, mark, mark)
    return yaml.ScalarNode(_TAG + _scalar_tag(value), _scalar_text(value), mark, mark)


def _scalar_tag(value: object) -> str:
    if isinstance(value, bool):  # before int: a bool is an int
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, datetime.date | datetime.time):
        return "timestamp"
    return "str"


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
