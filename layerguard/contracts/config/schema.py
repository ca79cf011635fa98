"""The JSON Schema (draft 2020-12) of `layerguard.yaml`, generated from the spec.

It is shipped as `layerguard.schema.json` next to this module for editors; a test keeps the
shipped file equal to what `json_schema()` produces. It checks the structure only: layer
references, placeholders and overlaps are checked by `layerguard` itself.
"""

from __future__ import annotations

import json
from typing import Any

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
    Text,
)


def json_schema() -> dict[str, Any]:
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "layerguard.yaml",
        "description": "The layer contract of a project checked by layerguard: its layers, what "
        "each may import, who owns transactions, where the placement cards are.",
    }
    schema.update(_node(SPEC))
    return schema


def schema_text() -> str:
    """The schema as the shipped file holds it (2-space indent, trailing newline)."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def _node(node: Node) -> dict[str, Any]:
    if isinstance(node, Record):
        out: dict[str, Any] = {
            "type": "object",
            "properties": {key.name: _property(key) for key in node.keys},
            "additionalProperties": False,
        }
        required = [key.name for key in node.keys if key.required]
        if required:
            out["required"] = required
        if node.require_any:
            out["anyOf"] = [
                {"required": [name], "properties": {name: {"minItems": 1}}}
                for name in node.require_any
            ]
        return out
    if isinstance(node, MapOf):
        return {
            "type": "object",
            "propertyNames": _node(node.key),
            "additionalProperties": {"description": node.value_description, **_node(node.value)},
        }
    if isinstance(node, Tagged):
        variants = []
        for variant in node.variants:
            schema = _node(node.record(variant))
            schema["description"] = variant.description
            schema["properties"][node.tag] = {
                "description": node.tag_key().description,
                "const": variant.name,
            }
            variants.append(schema)
        return {"type": "object", "required": [node.tag], "oneOf": variants}
    if isinstance(node, ListOf):
        out = {"type": "array", "items": _node(node.item)}
        if node.unique:
            out["uniqueItems"] = True
        return out
    if isinstance(node, Text):
        return {"type": "string", "pattern": node.pattern or r"\S"}
    if isinstance(node, Boolean):
        return {"type": "boolean"}
    assert isinstance(node, Integer)
    out = {"type": "integer"}
    if node.choices:
        out["enum"] = list(node.choices)
    if node.minimum is not None:
        out["minimum"] = node.minimum
    return out


def _property(key: Key) -> dict[str, Any]:
    out: dict[str, Any] = {"description": key.description, **_node(key.node)}
    if key.default is not None:
        out["default"] = key.default
    return out
