"""The key reference table of docs/configuration.md, generated from the spec.

`layerguard schema --output-format markdown` prints it; a test keeps the documentation current.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from layerguard.contracts.config.spec import (
    SPEC,
    Boolean,
    Integer,
    Key,
    ListOf,
    MapOf,
    Node,
    Record,
    Tagged,
)


def key_table() -> str:
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    rows += [
        f"| `{path}` | {_type(key.node)} | {_default(key)} | {_cell(key.description)} |"
        for path, key in keys()
    ]
    return "\n".join(rows) + "\n"


def keys(record: Record = SPEC, prefix: str = "") -> Iterator[tuple[str, Key]]:
    """Every key of the format with its documented path (`layers[].forbid.layers`); the keys
    of one variant of a tagged mapping say which (`contracts[type=layers].containers`)."""
    for key in record.keys:
        path = f"{prefix}{key.name}"
        yield path, key
        node = key.node
        if isinstance(node, ListOf):
            node = node.item
            path += "[]"
        if isinstance(node, Record):
            yield from keys(node, f"{path}.")
        elif isinstance(node, MapOf) and isinstance(node.value, Record):
            yield from keys(node.value, f"{path}.{node.key_label}.")
        elif isinstance(node, Tagged):
            yield from keys(Record(keys=(node.tag_key(), *node.common)), f"{path}.")
            for variant in node.variants:
                yield from keys(
                    Record(keys=variant.keys), f"{path[:-1]}{node.tag}={variant.name}]."
                )


def _type(node: Node) -> str:
    if isinstance(node, Record):
        return "mapping"
    if isinstance(node, MapOf):
        return f"mapping of {node.key.label} → {_type(node.value)}"
    if isinstance(node, Tagged):
        return f"mapping (by `{node.tag}`)"
    if isinstance(node, ListOf):
        return f"list of {_type(node.item)}"
    if isinstance(node, Boolean):
        return "boolean"
    if isinstance(node, Integer):
        if node.choices:
            return f"integer ({', '.join(map(str, node.choices))})"
        return "integer" + (f" ≥ {node.minimum}" if node.minimum is not None else "")
    return node.label


def _default(key: Key) -> str:
    if key.required:
        return "required"
    if key.default is None:
        return "—"
    return f"`{json.dumps(key.default)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
