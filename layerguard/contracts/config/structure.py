"""Structural validation of composed YAML nodes against the spec.

Works on `yaml.compose` nodes rather than loaded data so that every problem can name its line,
and so that duplicate keys (which loading silently merges) are seen. Produces plain data
(dicts, lists, str, int, bool) plus the line of every value by key path (for a mapping entry,
the line of its key, where a block value starts to be read). An invalid value is
reported and left out (in a list, replaced by `INVALID` so indices keep matching the file);
the caller can still look for further problems in what remains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from layerguard.contracts.config.errors import ConfigProblem, unknown_name
from layerguard.contracts.config.spec import (
    Boolean,
    Integer,
    ListOf,
    MapOf,
    Node,
    Record,
    Tagged,
    Text,
)

INVALID: Any = type("Invalid", (), {"__repr__": lambda self: "INVALID"})()
"""Stands in a list for an item that was reported, so later indices stay right."""

_TAG = "tag:yaml.org,2002:"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "null": "null",
    "seq": "a list",
    "map": "a mapping",
    "timestamp": "a date",
}


@dataclass(slots=True)
class Checked:
    """The outcome of a structural check."""

    data: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)


def check(root: yaml.MappingNode, spec: Record, file: Path) -> Checked:
    result = Checked(data={})
    walker = _Walker(file, result)
    data = walker.node(root, spec, "")
    result.data = data if isinstance(data, dict) else {}
    return result


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def type_name(node: yaml.Node) -> str:
    tag = str(node.tag)
    if tag.startswith(_TAG):
        return _TYPE_NAMES.get(tag[len(_TAG) :], tag[len(_TAG) :])
    return f"a value tagged {tag}"


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class _Walker:
    def __init__(self, file: Path, result: Checked) -> None:
        self.file = file
        self.result = result

    def problem(self, node: yaml.Node | int, path: str, message: str) -> None:
        """Report at a line, or at the line recorded for `path` (its key's), or at `node`."""
        line = node if isinstance(node, int) else self.result.lines.get(path, line_of(node))
        self.result.problems.append(ConfigProblem(self.file, line, path, message))

    def node(self, node: yaml.Node, spec: Node, path: str) -> Any:
        self.result.lines.setdefault(path, line_of(node))
        if isinstance(spec, Record):
            return self.record(node, spec, path)
        if isinstance(spec, MapOf):
            return self.mapping(node, spec, path)
        if isinstance(spec, ListOf):
            return self.sequence(node, spec, path)
        if isinstance(spec, Tagged):
            return self.tagged(node, spec, path)
        return self.scalar(node, spec, path)

    def _expect(self, node: yaml.Node, kind: type[yaml.Node], tag: str, path: str) -> bool:
        if isinstance(node, kind) and node.tag == _TAG + tag:
            return True
        self.problem(node, path, f"expected {_TYPE_NAMES[tag]}, got {type_name(node)}.")
        return False

    def _pairs(self, node: yaml.MappingNode, path: str) -> list[tuple[str, yaml.Node, int]]:
        """The mapping's (key, value node, key line) pairs, reporting odd and duplicate keys."""
        pairs: list[tuple[str, yaml.Node, int]] = []
        first: dict[str, int] = {}
        for key_node, value in node.value:
            line = line_of(key_node)
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _TAG + "str"):
                self.problem(line, path, f"keys must be strings, got {type_name(key_node)}.")
                continue
            key = str(key_node.value)
            if key in first:
                self.problem(
                    line, join(path, key), f"duplicate key '{key}' (first on line {first[key]})."
                )
                continue
            first[key] = line
            pairs.append((key, value, line))
        return pairs

    def record(self, node: yaml.Node, spec: Record, path: str) -> Any:
        if not self._expect(node, yaml.MappingNode, "map", path):
            return INVALID
        assert isinstance(node, yaml.MappingNode)
        allowed = [k.name for k in spec.keys]
        out: dict[str, Any] = {}
        for key, value, key_line in self._pairs(node, path):
            key_spec = spec.key(key)
            if key_spec is None:
                renamed = dict(spec.renamed).get(key)
                message = (
                    f"unknown key '{key}': {renamed}." if renamed else _unknown_key(key, allowed)
                )
                self.problem(key_line, join(path, key), message)
                continue
            self.result.lines[join(path, key)] = key_line
            checked = self.node(value, key_spec.node, join(path, key))
            if checked is not INVALID:
                out[key] = checked
        present = {str(k.value) for k, _ in node.value}
        for key_spec in spec.keys:
            if key_spec.required and key_spec.name not in present:
                self.problem(node, join(path, key_spec.name), "missing required key.")
        empty = not any(out.get(k) for k in spec.require_any)
        # An entry present but invalid was reported already: do not pile on.
        if spec.require_any and empty and all(k in out for k in spec.require_any if k in present):
            names = " or ".join(f"'{k}'" for k in spec.require_any)
            self.problem(node, path, f"needs at least one entry in {names}.")
        return out

    def tagged(self, node: yaml.Node, spec: Tagged, path: str) -> Any:
        """Check the mapping against the keys of the variant its tag names. Without a valid
        tag its other keys cannot be judged: only the tag is reported."""
        if not self._expect(node, yaml.MappingNode, "map", path):
            return INVALID
        assert isinstance(node, yaml.MappingNode)
        tag = next((v for k, v in node.value if getattr(k, "value", None) == spec.tag), None)
        if tag is None:
            self.problem(node, join(path, spec.tag), "missing required key.")
            return INVALID
        variant = spec.variant(str(tag.value)) if isinstance(tag, yaml.ScalarNode) else None
        if variant is None:
            self.result.lines[join(path, spec.tag)] = line_of(tag)
            if isinstance(tag, yaml.ScalarNode) and tag.tag == _TAG + "str":
                names = [v.name for v in spec.variants]
                message = unknown_name(spec.tag, str(tag.value), names, "Expected one of")
                self.problem(tag, join(path, spec.tag), message)
            else:
                self.node(tag, spec.tag_key().node, join(path, spec.tag))
            return INVALID
        return self.record(node, spec.record(variant), path)

    def mapping(self, node: yaml.Node, spec: MapOf, path: str) -> Any:
        if not self._expect(node, yaml.MappingNode, "map", path):
            return INVALID
        assert isinstance(node, yaml.MappingNode)
        out: dict[str, Any] = {}
        for key, value, key_line in self._pairs(node, path):
            if spec.key.pattern and not _regex(spec.key.pattern).match(key):
                self.problem(key_line, join(path, key), f"expected {spec.key.hint}, got '{key}'.")
                continue
            self.result.lines[join(path, key)] = key_line
            checked = self.node(value, spec.value, join(path, key))
            if checked is not INVALID:
                out[key] = checked
        return out

    def sequence(self, node: yaml.Node, spec: ListOf, path: str) -> Any:
        if not self._expect(node, yaml.SequenceNode, "seq", path):
            return INVALID
        assert isinstance(node, yaml.SequenceNode)
        out: list[Any] = []
        first: dict[object, int] = {}
        for index, item in enumerate(node.value):
            item_path = f"{path}[{index}]"
            value = self.node(item, spec.item, item_path)
            if spec.unique and isinstance(value, str | int) and value is not INVALID:
                if value in first:
                    self.problem(
                        item, item_path, f"'{value}' is listed twice (see line {first[value]})."
                    )
                    value = INVALID
                else:
                    first[value] = line_of(item)
            out.append(value)
        return out

    def scalar(self, node: yaml.Node, spec: Text | Integer | Boolean, path: str) -> Any:
        if isinstance(spec, Text):
            if isinstance(node, yaml.MappingNode) and len(node.value) == 1:
                self.problem(
                    node,
                    path,
                    "expected a string, got a mapping (YAML reads `a: b` and `a : b` as a "
                    "mapping: quote the whole string).",
                )
                return INVALID
            if not self._expect(node, yaml.ScalarNode, "str", path):
                return INVALID
            text = str(node.value)
            if not text.strip():
                self.problem(node, path, "expected a non-empty string.")
                return INVALID
            if spec.pattern and not _regex(spec.pattern).match(text):
                self.problem(node, path, f"expected {spec.hint}, got '{text}'.")
                return INVALID
            return text
        if isinstance(spec, Boolean):
            if not self._expect(node, yaml.ScalarNode, "bool", path):
                return INVALID
            assert isinstance(node, yaml.ScalarNode)
            return _CONSTRUCTOR.construct_yaml_bool(node)
        if not self._expect(node, yaml.ScalarNode, "int", path):
            return INVALID
        assert isinstance(node, yaml.ScalarNode)
        number = _CONSTRUCTOR.construct_yaml_int(node)
        if spec.minimum is not None and number < spec.minimum:
            self.problem(node, path, f"expected {spec.what} >= {spec.minimum}, got {number}.")
            return INVALID
        if spec.choices and number not in spec.choices:
            supported = ", ".join(map(str, spec.choices))
            self.problem(node, path, f"unsupported {spec.what} {number} (supported: {supported}).")
            return INVALID
        return number


def _unknown_key(key: str, allowed: list[str]) -> str:
    return unknown_name("key", key, allowed, "Allowed keys")
