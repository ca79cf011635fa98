"""A placement card as plain, immutable data.

The linter compares cards with the code, `cards sync` rewrites their machine-owned sections, and
both need to point back into the card: every value therefore carries the 1-based card line it
came from. Lines are numbered as `text.split("\\n")` numbers them (a `\\r` before the `\\n` is
part of the line ending, not of the line).
"""

from __future__ import annotations

import re
from typing import Generic, Literal, NamedTuple, TypeVar

T = TypeVar("T")

_LAYER_ID = re.compile(r"[^\s\u2014\u2013-]+")  # up to the first space or dash (-, – or —)


class Located(NamedTuple, Generic[T]):
    """A value and the card line it was read from."""

    value: T
    line: int


Names = tuple[Located[str], ...]
"""A list of strings from a YAML block (module patterns, consumers, method names, ...)."""


class PlacementField(NamedTuple):
    """One `Key: Value` line of the Placement Card block (continuation lines joined by spaces)."""

    key: str
    value: str
    line: int


class ExportedFunction(NamedTuple):
    name: Located[str]
    signature: Located[str] | None = None
    consumers: Names = ()


class ExportedClass(NamedTuple):
    """An exported class or protocol; cards may list it as a bare name (no methods, consumers)."""

    name: Located[str]
    methods: Names = ()
    consumers: Names = ()


class ExportContract(NamedTuple):
    """The `exports:` block; `line` is the line of the `exports:` key."""

    line: int
    functions: tuple[ExportedFunction, ...] = ()
    classes: tuple[ExportedClass, ...] = ()
    protocols: tuple[ExportedClass, ...] = ()


class ImportGroup(NamedTuple):
    """One group of `actual_imports` (spine_internal, l7_model, external, or any other name)."""

    name: str
    line: int
    modules: Names = ()


PatternList = Located[Names | None]
"""A list-valued key that may be written empty: `value` is None for `key:` / `key: null`."""


class ImportBoundary(NamedTuple):
    """The `boundary:` block.

    `allowed_inbound` and `forbidden_inbound` are None when the key is absent, a PatternList
    with value None when it is present but empty (`key:`, as generated cards leave them: not
    decided yet), and a PatternList of patterns otherwise (`key: []` is an empty tuple: for
    `allowed_inbound`, nothing may import the file; see LG104). `actual_imports` is None when
    absent; its groups keep the card's order.
    """

    line: int
    allowed_inbound: PatternList | None = None
    forbidden_inbound: PatternList | None = None
    actual_imports: Located[tuple[ImportGroup, ...]] | None = None
    violations: Names = ()

    def imports(self, group: str) -> Names:
        """The modules of one `actual_imports` group (empty when the group is absent)."""
        groups = self.actual_imports.value if self.actual_imports is not None else ()
        for candidate in groups:
            if candidate.name == group:
                return candidate.modules
        return ()


class PairingDeclaration(NamedTuple):
    """The `pairing:` block (L5 Pairing Declaration)."""

    line: int
    serves_domains: Names = ()
    expected_l5_consumers: Names = ()
    orchestrator_operations: Names = ()


SectionKind = Literal["placement", "exports", "boundary", "pairing"]
"""The machine-owned sections, which `cards sync` may regenerate."""


class Section(NamedTuple):
    """A `## heading` and the lines of its body.

    The body is the half-open range `[body_start, body_end)` of 1-based card lines, so that
    `lines[body_start - 1 : body_end - 1]` of the card's line list is the body exactly: sections
    tile the card from the first heading to the end, and anything before the first heading
    (title, header lines) is the preamble. `kind` names machine-owned sections (which
    `cards sync` may regenerate); hand-written ones have kind None and must be kept as they are.
    """

    heading: str
    line: int
    body_start: int
    body_end: int
    kind: SectionKind | None = None


class Card(NamedTuple):
    """A parsed placement card.

    `path` is the card file; `source_path` is the file the card describes (`**Path:**`), as
    written (it may be stale: the parser does not look at the file system). Blocks whose section
    is missing are None (the Placement Card: an empty tuple).
    """

    path: str
    source_path: Located[str]
    title: Located[str] | None = None
    layer: Located[str] | None = None
    component: Located[str] | None = None
    placement: tuple[PlacementField, ...] = ()
    exports: ExportContract | None = None
    boundary: ImportBoundary | None = None
    pairing: PairingDeclaration | None = None
    sections: tuple[Section, ...] = ()

    @property
    def layer_id(self) -> str | None:
        """The layer's leading token: `L4` for "L4 — HOC Spine", `L5/L6` for "L5/L6 — HYBRID"."""
        if self.layer is None:
            return None
        match = _LAYER_ID.match(self.layer.value)
        return match.group() if match else None

    def placement_field(self, key: str) -> PlacementField | None:
        """The Placement Card field named `key` (case-insensitive), if the card has one."""
        wanted = key.casefold()
        for placement_field in self.placement:
            if placement_field.key.casefold() == wanted:
                return placement_field
        return None


class CardError(NamedTuple):
    """A card that cannot be read as written: where, and what was expected there."""

    path: str
    line: int
    message: str


class CardParseResult(NamedTuple):
    """What parsing a card yields: the card (None when it cannot describe any file) and errors.

    A card with errors is still returned when its `**Path:**` was read: the errors say which
    parts of it are missing. `document` is set for a markdown file that does not look like a
    card at all (an index page, a summary, a long-form document): no card, no errors.
    """

    card: Card | None
    errors: tuple[CardError, ...] = ()
    document: bool = False
