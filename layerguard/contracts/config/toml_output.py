"""A `layerguard.yaml` text rewritten as the `[tool.layerguard]` table of `pyproject.toml`.

`layerguard init --pyproject` writes a preset into pyproject.toml. The presets are YAML, and
their comments are the user's first documentation, so the rewrite keeps them: each full-line
comment goes before the key (or table header) it stood above, each end-of-line comment after
the value it followed. Block mappings become tables (or inline tables when short, flat and
uncommented), lists of mappings arrays of tables; TOML wants a table's plain values before its
sub-tables, so those move up, their comments with them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

_TAG = "tag:yaml.org,2002:"
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_WIDTH = 100


@dataclass
class _Comments:
    """The comments of a YAML text, by the line of the key they belong to."""

    leading: dict[int, list[str]] = field(default_factory=dict)  # anchor line -> lines above
    trailing: dict[int, str] = field(default_factory=dict)  # line -> its end-of-line comment
    tail: list[str] = field(default_factory=list)  # after the last key


def yaml_to_toml(text: str, table: str = "tool.layerguard") -> str:
    """The TOML text of the mapping document `text` as the table `table`; comments kept."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        raise ValueError("the YAML document is not a mapping")
    comments = _read_comments(text, sorted(_anchor_lines(root)))
    writer = _Writer(comments)
    first_key = root.value[0][0] if root.value else None
    if first_key is not None:
        writer.comments_before(first_key, blank=False)
    writer.table(table, root, header=f"[{table}]")
    writer.lines += [f"# {c}" if c else "#" for c in comments.tail]
    return "\n".join(writer.lines).strip("\n") + "\n"


def _anchor_lines(node: yaml.Node) -> Iterator[int]:
    """The 0-based lines of every mapping key: where comments attach."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key.start_mark.line
            yield from _anchor_lines(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _anchor_lines(item)


def _read_comments(text: str, anchors: list[int]) -> _Comments:
    comments = _Comments()
    for number, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if stripped.startswith("#"):
            body = stripped[1:].removeprefix(" ")
            at = bisect.bisect_right(anchors, number)
            if at < len(anchors):
                comments.leading.setdefault(anchors[at], []).append(body)
            else:
                comments.tail.append(body)
        elif (trailing := _end_of_line_comment(line)) is not None:
            comments.trailing[number] = trailing
    return comments


def _end_of_line_comment(line: str) -> str | None:
    """The comment after a value (a `#` after a space, outside quotes), or None."""
    quote = None
    for index, char in enumerate(line):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#" and index > 0 and line[index - 1] in " \t":
            return line[index + 1 :].strip()
    return None


class _Writer:
    def __init__(self, comments: _Comments) -> None:
        self.comments = comments
        self.lines: list[str] = []
        self.used: set[int] = set()  # anchor lines whose leading comments were written

    def comments_before(self, key: yaml.Node, blank: bool = True) -> None:
        line = key.start_mark.line
        found = self.comments.leading.get(line)
        if found and line not in self.used:
            self.used.add(line)
            if blank and self.lines and not self.lines[-1].startswith(("[", "#")):
                self.lines.append("")
            self.lines += [f"# {c}" if c else "#" for c in found]

    def table(self, name: str, node: yaml.MappingNode, header: str) -> None:
        """A table: its header, its plain values, then its sub-tables and arrays of tables."""
        if self.lines and not self.lines[-1].startswith("#") and self.lines[-1] != "":
            self.lines.append("")
        self.lines.append(header)
        nested = []
        for key, value in node.value:
            if self._is_table(value) or self._is_array_of_tables(value):
                nested.append((key, value))
                continue
            self.comments_before(key)
            line = f"{_key(key.value)} = {self._inline(value)}"
            trailing = self.comments.trailing.get(key.start_mark.line)
            if len(line) > _WIDTH and isinstance(value, yaml.SequenceNode):
                line = (
                    f"{_key(key.value)} = [\n"
                    + "".join(f"    {self._inline(item)},\n" for item in value.value)
                    + "]"
                )
            self.lines.append(line + (f"  # {trailing}" if trailing else ""))
        for key, value in nested:
            path = f"{name}.{_key(key.value)}"
            if isinstance(value, yaml.MappingNode):
                self.comments_before(key)
                self.table(path, value, f"[{path}]")
                continue
            assert isinstance(value, yaml.SequenceNode)
            self.comments_before(key)
            for item in value.value:
                assert isinstance(item, yaml.MappingNode)
                if item.value:
                    self.comments_before(item.value[0][0])
                self.table(path, item, f"[[{path}]]")

    def _is_table(self, node: yaml.Node) -> bool:
        """A block mapping that is not better written inline (short, flat, uncommented)."""
        if not isinstance(node, yaml.MappingNode):
            return False
        if node.flow_style or not node.value:
            return False
        flat = all(not isinstance(v, yaml.MappingNode) for _, v in node.value)
        quiet = not any(
            k.start_mark.line in self.comments.leading
            or k.start_mark.line in self.comments.trailing
            for k, _ in node.value
        )
        return not (flat and quiet and len(self._inline(node)) <= _WIDTH // 2)

    @staticmethod
    def _is_array_of_tables(node: yaml.Node) -> bool:
        return (
            isinstance(node, yaml.SequenceNode)
            and not node.flow_style
            and bool(node.value)
            and all(isinstance(item, yaml.MappingNode) for item in node.value)
        )

    def _inline(self, node: yaml.Node) -> str:
        if isinstance(node, yaml.MappingNode):
            body = ", ".join(f"{_key(k.value)} = {self._inline(v)}" for k, v in node.value)
            return f"{{ {body} }}" if body else "{}"
        if isinstance(node, yaml.SequenceNode):
            return "[" + ", ".join(self._inline(item) for item in node.value) + "]"
        assert isinstance(node, yaml.ScalarNode)
        return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> str:
    tag = str(node.tag).removeprefix(_TAG)
    if tag == "bool":
        return "true" if _CONSTRUCTOR.construct_yaml_bool(node) else "false"
    if tag == "int":
        return str(_CONSTRUCTOR.construct_yaml_int(node))
    if tag == "float":
        return repr(_CONSTRUCTOR.construct_yaml_float(node))
    if tag == "str":
        return _string(str(node.value))
    raise ValueError(f"line {node.start_mark.line + 1}: no TOML form for a YAML {tag}")


def _string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped) + '"'


def _key(name: Any) -> str:
    text = str(name)
    return text if _BARE_KEY.match(text) else _string(text)
