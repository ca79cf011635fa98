"""The `contracts:` section of layerguard.yaml, written as a person would write it, and spliced
into an existing file without touching the rest of it (comments included).

Pure: data and text in, text out. Contracts already in the file are kept verbatim unless a
migrated contract has the same id, which replaces it: migrating again updates, never
duplicates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import yaml

_SAFE = re.compile(r"^[A-Za-z_(][\w .,;()/'`\-]*$")


def scalar(value: Any) -> str:
    """A YAML scalar: plain when YAML reads it back as the same string, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _SAFE.match(text) and not text.endswith(" ") and yaml.safe_load(text) == text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _lines(value: Any, indent: int) -> list[str]:
    """A mapping or a list, in block style, at `indent` spaces."""
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                out.append(f"{pad}{key}:")
                out.extend(_lines(item, indent + 2))
            elif isinstance(item, list):
                out.append(f"{pad}{key}: []")
            else:
                out.append(f"{pad}{key}: {scalar(item)}")
        return out
    for item in value:
        if isinstance(item, dict):
            body = _lines(item, indent + 2)
            out.append(f"{pad}- {body[0].lstrip()}")
            out.extend(body[1:])
        else:
            out.append(f"{pad}- {scalar(item)}")
    return out


def render_contracts(contracts: Iterable[dict[str, Any]], indent: int = 2) -> list[str]:
    """The items of a `contracts:` list, one contract after another, blank-line separated."""
    out: list[str] = []
    for number, contract in enumerate(contracts):
        if number:
            out.append("")
        out.extend(_lines([contract], indent))
    return out


def new_file(source_roots: list[str], contracts: list[dict[str, Any]], origin: str) -> str:
    """A layerguard.yaml holding the migrated contracts."""
    roots = ", ".join(scalar(root) for root in source_roots)
    lines = [
        f"# layerguard.yaml, written by `layerguard migrate import-linter` from {origin}.",
        "# The contracts are described in docs/contracts.md; every key in docs/configuration.md.",
        "version: 1",
        "",
        "# Directories whose sub-directories are top-level packages.",
        f"source_roots: [{roots}]",
        "",
        "contracts:",
        f"  # From {origin}.",
        *render_contracts(contracts),
    ]
    return "\n".join(lines) + "\n"


def _leading(line: int, lines: list[str], floor: int) -> int:
    """The first of the comment lines just above `line` (not above `floor`)."""
    while line - 1 > floor and lines[line - 1].strip().startswith("#"):
        line -= 1
    return line


def _end_line(node: yaml.Node, lines: list[str]) -> int:
    """The line after a node's last: its end mark is where the next token starts, which is
    the start of the next line's content for block nodes."""
    mark = node.end_mark
    if mark.line >= len(lines) or not lines[mark.line][: mark.column].strip():
        return int(mark.line)
    return int(mark.line) + 1


def splice(text: str, contracts: list[dict[str, Any]], origin: str) -> str:
    """`text` (a valid layerguard.yaml) with the migrated contracts in its `contracts:`."""
    root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    lines = text.splitlines()
    section = None
    if isinstance(root, yaml.MappingNode):
        section = next(
            ((k, v) for k, v in root.value if getattr(k, "value", None) == "contracts"), None
        )
    if section is None:
        block = ["", "contracts:", f"  # From {origin}.", *render_contracts(contracts)]
        return "\n".join([*lines, *block]) + "\n"
    key, value = section
    replaced = {contract["id"] for contract in contracts}
    kept: list[str] = []
    indent = 2
    if isinstance(value, yaml.SequenceNode) and value.value:
        indent = 2 if value.flow_style else value.start_mark.column
        # An item is its lines and the comments just above them.
        starts = [
            _leading(item.start_mark.line, lines, key.start_mark.line) for item in value.value
        ]
        ends = [*starts[1:], _end_line(value, lines)]
        for item, start, end in zip(value.value, starts, ends, strict=True):
            data = yaml.safe_load(yaml.serialize(item))
            if isinstance(data, dict) and data.get("id") in replaced:
                continue
            chunk = render_contracts([data], indent) if value.flow_style else lines[start:end]
            while chunk and not chunk[-1].strip():
                chunk.pop()
            kept.extend([*chunk, ""])
    end = _end_line(value, lines)
    if not (isinstance(value, yaml.SequenceNode) and value.value):
        end = key.start_mark.line + 1
    pad = " " * indent
    block = ["contracts:", *kept, f"{pad}# From {origin}.", *render_contracts(contracts, indent)]
    rest = lines[end:]
    if rest and rest[0].strip():
        block.append("")
    return "\n".join([*lines[: key.start_mark.line], *block, *rest]) + "\n"
