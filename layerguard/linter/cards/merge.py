"""Bring the machine-owned parts of an existing card up to date, keeping everything else.

Machine-owned: the Export Contract block (but the hand-written `consumers` of each symbol, and
which classes are listed as protocols, are kept), the `actual_imports` key of the Import
Boundary block (`allowed_inbound`, `forbidden_inbound`, `violations` and anything else in the
block stay as written), and the bodies of the Transaction Boundary, Functions and Classes
sections. Every other byte of the card — header, Placement Card, Purpose, hand-written
sections, blank lines around the rewritten parts, line endings — is kept as it was.

Only parts the card has are synced: a missing section is not added (`cards generate --force`
rewrites a whole card). Pure: text in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from layerguard.contracts.cards.model import Card, ExportContract, Section, SectionKind
from layerguard.contracts.cards.parser import heading_name
from layerguard.linter.cards.content import CardContent
from layerguard.linter.cards.derive import normalise_signature, signature_matches
from layerguard.linter.cards.render import (
    actual_imports_lines,
    class_lines,
    exports_yaml,
    function_lines,
    transaction_lines,
    trimmed,
)

_FENCE = re.compile(r" {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_INDENT = re.compile(r"[ \t]*")


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The synced text, what changed (one description per part) and what could not be synced."""

    text: str
    changes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int  # 0-based index of the first replaced line
    end: int  # exclusive
    lines: list[str]
    change: str


def _blank(line: str) -> bool:
    return not line.strip()


def _indent(line: str) -> str:
    match = _INDENT.match(line)
    return match.group() if match else ""


def _fence(lines: Sequence[str], start: int, end: int) -> tuple[int, int] | None:
    """(opening line, closing line) of the first code block in `lines[start:end]`."""
    for i in range(start, end):
        opening = _FENCE.fullmatch(lines[i])
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            continue
        marker = opening["fence"]
        for j in range(i + 1, end):
            closing = _FENCE.fullmatch(lines[j])
            if (
                closing is not None
                and closing["fence"][0] == marker[0]
                and len(closing["fence"]) >= len(marker)
                and not closing["info"].strip()
            ):
                return i, j
        return None
    return None


def _of_kind(card: Card, kind: SectionKind) -> Section | None:
    """The first machine-owned section of a kind (the one the parser read)."""
    return next((s for s in card.sections if s.kind == kind), None)


def _prose(card: Card, name: str) -> Section | None:
    """The first prose section with this heading name (`functions`, ...)."""
    return next(
        (s for s in card.sections if s.kind is None and heading_name(s.heading) == name), None
    )


def _names(values: Sequence[str]) -> str:
    return ", ".join(f"`{value}`" for value in values)


def _export_change(exports: ExportContract, content: CardContent) -> str:
    declared = {f.name.value: f.signature.value if f.signature else None for f in exports.functions}
    methods = {
        c.name.value: tuple(m.value for m in c.methods)
        for c in (*exports.classes, *exports.protocols)
    }
    wanted = {f.name: f.signature for f in content.exported_functions}
    wanted_methods = {c.name: c.methods for c in content.exported_classes}
    before = {*declared, *methods}
    after = {*wanted, *wanted_methods}
    written = {name: declared[name] for name in wanted if name in declared}
    # A signature that only leaves defaults out is not a change (LG305 accepts it); sync
    # writes it as `cards generate` does, defaults included, and says so.
    changed = [
        name
        for name, signature in written.items()
        if signature is None or not signature_matches(signature, wanted[name])
    ]
    defaults = [
        name
        for name, signature in written.items()
        if name not in changed
        and normalise_signature(signature or "") != normalise_signature(wanted[name])
    ]
    changed += [
        name
        for name, names in wanted_methods.items()
        if name in methods and set(methods[name]) != set(names)
    ]
    parts = []
    if after - before:
        parts.append("added " + _names(sorted(after - before)))
    if before - after:
        parts.append("removed " + _names(sorted(before - after)))
    if changed:
        parts.append("changed " + _names(sorted(changed)))
    if defaults:
        parts.append("defaults written in " + _names(sorted(defaults)))
    return "Export Contract" + (f" ({'; '.join(parts)})" if parts else "")


class _Merger:
    """Collects the edits of one card; each part is found where the parser found it."""

    def __init__(self, lines: list[str], card: Card, content: CardContent) -> None:
        self.lines = lines
        self.card = card
        self.content = content
        self.edits: list[_Edit] = []
        self.problems: list[str] = []

    def exports(self) -> None:
        section = _of_kind(self.card, "exports")
        exports = self.card.exports
        if section is None or exports is None:
            return
        fence = _fence(self.lines, section.body_start - 1, section.body_end - 1)
        if fence is None:
            return
        consumers = {f.name.value: tuple(c.value for c in f.consumers) for f in exports.functions}
        for entry in (*exports.classes, *exports.protocols):
            consumers[entry.name.value] = tuple(c.value for c in entry.consumers)
        protocols = frozenset(p.name.value for p in exports.protocols)
        new = exports_yaml(self.content, consumers, protocols)
        self.edit(fence[0] + 1, fence[1], new, _export_change(exports, self.content))

    def actual_imports(self) -> None:
        boundary = self.card.boundary
        section = _of_kind(self.card, "boundary")
        if section is None or boundary is None or boundary.actual_imports is None:
            return
        fence = _fence(self.lines, section.body_start - 1, section.body_end - 1)
        key = boundary.actual_imports.line - 1
        if fence is None or not fence[0] < key < fence[1]:
            return
        key_line = self.lines[key]
        if not key_line.lstrip().startswith("actual_imports"):
            self.problems.append(
                f"line {key + 1}: `actual_imports` is not a key of its own line; write it as a "
                "block key so that sync can rewrite it"
            )
            return
        indent = _indent(key_line)
        end = key + 1
        while end < fence[1] and (
            _blank(self.lines[end]) or len(_indent(self.lines[end])) > len(indent)
        ):
            end += 1
        while end > key + 1 and _blank(self.lines[end - 1]):
            end -= 1
        inline = key_line.partition(":")[2].strip() not in ("", "|", ">")
        child = indent + "  "
        if not inline:
            child = next(
                (_indent(line) for line in self.lines[key + 1 : end] if not _blank(line)), child
            )
        written = {m.value for group in boundary.actual_imports.value for m in group.modules}
        wanted = {m for _, modules in self.content.import_groups for m in modules}
        parts = []
        if wanted - written:
            parts.append("added " + _names(sorted(wanted - written)))
        if written - wanted:
            parts.append("removed " + _names(sorted(written - wanted)))
        change = "actual_imports" + (f" ({'; '.join(parts)})" if parts else " (grouping)")
        new = actual_imports_lines(self.content.import_groups, indent, child)
        self.edit(key, end, new, change)

    def prose(self, name: str, heading: str, new: list[str]) -> None:
        section = _prose(self.card, name)
        if section is None:
            return
        new = trimmed(new)
        start, end = section.body_start - 1, section.body_end - 1
        filled = [i for i in range(start, end) if not _blank(self.lines[i])]
        if filled:
            self.edit(filled[0], filled[-1] + 1, new, heading)
        else:
            around = ["", *new, ""] if end < len(self.lines) else ["", *new]
            self.edit(start, end, around, heading)

    def edit(self, start: int, end: int, new: list[str], change: str) -> None:
        if self.lines[start:end] != new:
            self.edits.append(_Edit(start, end, new, change))


def merge_card(text: str, card: Card, content: CardContent) -> MergeResult:
    """`text` (the card `card` was parsed from) with its machine-owned parts regenerated."""
    raw = text.split("\n")
    final_newline = raw[-1] == ""
    if final_newline:
        raw.pop()
    crlf = any(line.endswith("\r") for line in raw)
    lines = [line.removesuffix("\r") for line in raw]
    syncer = _Merger(lines, card, content)
    syncer.exports()
    syncer.actual_imports()
    syncer.prose("transaction boundary", "Transaction Boundary", transaction_lines(content))
    syncer.prose("functions", "Functions", function_lines(content))
    syncer.prose("classes", "Classes", class_lines(content))
    if not syncer.edits:
        return MergeResult(text, (), tuple(syncer.problems))
    for edit in sorted(syncer.edits, key=lambda e: e.start, reverse=True):
        new = [line + "\r" for line in edit.lines] if crlf else edit.lines
        raw[edit.start : edit.end] = new
    joined = "\n".join(raw) + ("\n" if final_newline else "")
    changes = tuple(edit.change for edit in sorted(syncer.edits, key=lambda e: e.start))
    return MergeResult(joined, changes, tuple(syncer.problems))
