"""Card variants found in real card sets: each one parses without errors, lines exact."""

from __future__ import annotations

from typing import TYPE_CHECKING

from layerguard.contracts.cards.model import Card, Located, PlacementField
from layerguard.contracts.cards.parser import parse_card, read_card

if TYPE_CHECKING:
    from pathlib import Path


def _clean(text: str) -> Card:
    result = parse_card(text, "card.md")
    assert result.errors == ()
    assert result.card is not None
    return result.card


def test_header_only_card_has_no_blocks() -> None:
    card = _clean("# a.py\n\n**Path:** `backend/a.py`\n")
    assert card.source_path == Located("backend/a.py", 3)
    assert card.layer is None
    assert card.layer_id is None
    assert card.component is None
    assert card.placement == ()
    assert card.exports is None
    assert card.boundary is None
    assert card.pairing is None
    assert card.sections == ()


def test_missing_sections_leave_the_others_readable() -> None:
    card = _clean(
        "**Path:** `a.py`\n"  # 1
        "\n"
        "## Import Boundary\n"  # 3
        "\n"
        "```yaml\n"  # 5
        "boundary:\n"  # 6
        "  allowed_inbound: [x.*]\n"  # 7
        "```\n"
    )
    assert card.placement == ()
    assert card.exports is None
    assert card.pairing is None
    assert card.boundary is not None
    assert card.boundary.line == 6
    assert card.boundary.allowed_inbound == Located((Located("x.*", 7),), 7)


def test_keys_with_empty_values() -> None:
    card = _clean(
        "**Path:** `a.py`\n"
        "## Placement Card\n"
        "```\n"  # 3
        "File:            a.py\n"  # 4
        "Violations:\n"  # 5
        "```\n"
        "## Import Boundary\n"
        "```yaml\n"  # 8
        "boundary:\n"  # 9
        "  allowed_inbound:\n"  # 10
        "  forbidden_inbound: null\n"  # 11
        "  actual_imports:\n"  # 12
        "  violations:\n"  # 13
        "```\n"
        "## L5 Pairing Declaration\n"
        "```yaml\n"
        "pairing:\n"  # 17
        "```\n"
    )
    assert card.placement == (
        PlacementField("File", "a.py", 4),
        PlacementField("Violations", "", 5),
    )
    boundary = card.boundary
    assert boundary is not None
    assert boundary.allowed_inbound == Located(None, 10)
    assert boundary.forbidden_inbound == Located(None, 11)
    assert boundary.actual_imports == Located((), 12)
    assert boundary.violations == ()
    assert card.pairing is not None
    assert card.pairing.line == 17
    assert card.pairing.serves_domains == ()


def test_python_style_single_quoted_lists() -> None:
    card = _clean(
        "**Path:** `a.py`\n"
        "## Import Boundary\n"
        "```yaml\n"
        "boundary:\n"  # 4
        "  allowed_inbound: ['hoc.api.*', 'hoc_spine.adapters.*']\n"  # 5
        "  forbidden_inbound: ['app.db']\n"  # 6
        "  actual_imports:\n"  # 7
        "    external: ['sqlalchemy.ext.asyncio', \"fastapi\"]\n"  # 8
        "    custom_group: ['x.y']\n"  # 9
        "```\n"
    )
    boundary = card.boundary
    assert boundary is not None
    assert boundary.allowed_inbound == Located(
        (Located("hoc.api.*", 5), Located("hoc_spine.adapters.*", 5)), 5
    )
    assert boundary.forbidden_inbound == Located((Located("app.db", 6),), 6)
    assert boundary.imports("external") == (
        Located("sqlalchemy.ext.asyncio", 8),
        Located("fastapi", 8),
    )
    assert boundary.imports("custom_group") == (Located("x.y", 9),)


def test_classes_and_functions_given_as_bare_strings() -> None:
    card = _clean(
        "**Path:** `a.py`\n"
        "## Export Contract\n"
        "```yaml\n"
        "exports:\n"  # 4
        "  functions: [make_thing]\n"  # 5
        "  classes:\n"  # 6
        "    - Thing\n"  # 7
        "    - name: Other\n"  # 8
        "      methods: run\n"  # 9
        "      consumers: L2 APIs\n"  # 10
        "  protocols: ['Runner']\n"  # 11
        "```\n"
    )
    exports = card.exports
    assert exports is not None
    assert exports.line == 4
    assert [(f.name, f.signature, f.consumers) for f in exports.functions] == [
        (Located("make_thing", 5), None, ())
    ]
    assert [(c.name, c.methods, c.consumers) for c in exports.classes] == [
        (Located("Thing", 7), (), ()),
        (Located("Other", 8), (Located("run", 9),), (Located("L2 APIs", 10),)),
    ]
    assert [c.name for c in exports.protocols] == [Located("Runner", 11)]


def test_free_text_layer_names() -> None:
    card = _clean("**Path:** `a.py`\n**Layer:** L5/L6 — HYBRID  \n")
    assert card.layer == Located("L5/L6 — HYBRID", 2)
    assert card.layer_id == "L5/L6"
    assert _clean("**Path:** a.py\n**Layer:** L2.1-Facade\n").layer_id == "L2.1"
    assert _clean("**Path:** a.py\n**Layer:** HYBRID\n").layer_id == "HYBRID"


def test_extra_hand_written_sections_are_kept_as_sections() -> None:
    card = _clean(
        "**Path:** `a.py`\n"
        "## Notes\n"  # 2
        "Hand-written.\n"
        "```python\n"
        "# a comment, not a title\n"
        "x = '**Path:** `not/the/path.py`'\n"
        "```\n"
        "## Export Contract\n"  # 8
        "```yaml\n"
        "exports:\n"  # 10
        "  functions: []\n"
        "  notes: keys the tool does not read are ignored\n"
        "```\n"
        "## History\n"  # 14
        "- v1\n"
    )
    assert [(s.heading, s.kind, s.line, s.body_start, s.body_end) for s in card.sections] == [
        ("Notes", None, 2, 3, 8),
        ("Export Contract", "exports", 8, 9, 14),
        ("History", None, 14, 15, 16),
    ]
    assert card.source_path == Located("a.py", 1)
    assert card.exports is not None
    assert card.exports.line == 10


def test_headings_with_dashes_and_parentheses() -> None:
    card = _clean(
        "**Path:** `a.py`\n"
        "## Placement Card (generated)\n"  # 2
        "```\n"
        "Role: Engine\n"  # 4
        "```\n"
        "## Export Contract — v2\n"  # 6
        "```yaml\n"
        "exports: {functions: [f]}\n"  # 8
        "```\n"
        "## Import Boundary (generated) - do not edit\n"  # 10
        "```yaml\n"
        "boundary: {allowed_inbound: [x]}\n"  # 12
        "```\n"
        "## L5 Pairing Declaration: \n"  # 14
        "```yaml\n"
        "pairing: {serves_domains: [policies]}\n"  # 16
        "```\n"
    )
    assert [s.kind for s in card.sections] == ["placement", "exports", "boundary", "pairing"]
    assert card.placement == (PlacementField("Role", "Engine", 4),)
    assert card.exports is not None
    assert card.exports.functions[0].name == Located("f", 8)
    assert card.boundary is not None
    assert card.boundary.allowed_inbound == Located((Located("x", 12),), 12)
    assert card.pairing is not None
    assert card.pairing.serves_domains == (Located("policies", 16),)


def test_field_value_table_instead_of_header_lines() -> None:
    card = _clean(
        "# a.py\n"
        "\n"
        "| Field | Value |\n"
        "|-------|-------|\n"
        "| Path | `backend/app/a.py` |\n"  # 5
        "| **Layer** | L5/L6 — HYBRID |\n"  # 6
        "| Component: | Engine |\n"  # 7
    )
    assert card.source_path == Located("backend/app/a.py", 5)
    assert card.layer == Located("L5/L6 — HYBRID", 6)
    assert card.layer_id == "L5/L6"
    assert card.component == Located("Engine", 7)


def test_header_lines_with_the_colon_outside_the_bold() -> None:
    card = _clean("**Path**: `a.py`\n**Component**: Driver\n")
    assert card.source_path == Located("a.py", 1)
    assert card.component == Located("Driver", 2)


def test_stale_path_is_not_checked(tmp_path: Path) -> None:
    card_file = tmp_path / "gone.md"
    card_file.write_text("**Path:** `backend/app/removed_long_ago.py`\n", encoding="utf-8")
    result = read_card(card_file)
    assert result.errors == ()
    assert result.card is not None
    assert result.card.path == str(card_file)
    assert result.card.source_path == Located("backend/app/removed_long_ago.py", 1)


def test_crlf_line_endings_keep_line_numbers_and_values() -> None:
    card = _clean(
        "# a.py\r\n"
        "**Path:** `a.py`  \r\n"  # 2
        "## Placement Card\r\n"  # 3
        "```\r\n"
        "Transaction:     OWNS COMMIT\r\n"  # 5
        "```\r\n"
        "## Import Boundary\r\n"  # 7
        "```yaml\r\n"
        "boundary:\r\n"
        "  forbidden_inbound:\r\n"  # 10
        "```\r\n"
    )
    assert card.source_path == Located("a.py", 2)
    assert card.placement == (PlacementField("Transaction", "OWNS COMMIT", 5),)
    assert card.boundary is not None
    assert card.boundary.forbidden_inbound == Located(None, 10)
    assert [(s.line, s.body_start, s.body_end) for s in card.sections] == [(3, 4, 7), (7, 8, 12)]


def test_trailing_spaces_are_not_part_of_values() -> None:
    card = _clean(
        "# a.py  \n"
        "**Path:** `a.py`  \n"
        "**Layer:** L4 — Spine  \n"
        "**Component:** Orchestrator  \n"
        "## Placement Card  \n"
        "```  \n"
        "Role:   Orchestrator   \n"  # 7
        "```  \n"
    )
    assert card.title == Located("a.py", 1)
    assert card.source_path == Located("a.py", 2)
    assert card.layer == Located("L4 — Spine", 3)
    assert card.component == Located("Orchestrator", 4)
    assert card.sections[0].heading == "Placement Card"
    assert card.placement == (PlacementField("Role", "Orchestrator", 7),)


def test_placement_values_split_on_the_first_colon_and_continue_on_indented_lines() -> None:
    card = _clean(
        "**Path:** `a.py`\n"
        "## Placement Card\n"
        "```\n"
        "Purpose:         Module: x\n"  # 4
        "Inbound:         L2 APIs,\n"  # 5
        "                 L3 adapters: y\n"
        "\n"
        "Outbound:        none\n"  # 8
        "```\n"
    )
    assert card.placement == (
        PlacementField("Purpose", "Module: x", 4),
        PlacementField("Inbound", "L2 APIs, L3 adapters: y", 5),
        PlacementField("Outbound", "none", 8),
    )
    assert card.placement_field("INBOUND") == card.placement[1]
    assert card.placement_field("Transaction") is None


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    card_file = tmp_path / "bom.md"
    card_file.write_bytes(b"\xef\xbb\xbf# a.py\n**Path:** `a.py`\n")
    result = read_card(card_file)
    assert result.errors == ()
    assert result.card is not None
    assert result.card.title == Located("a.py", 1)


def test_prose_headings_named_like_section_kinds_are_not_duplicates() -> None:
    text = (
        "# x.py\n\n**Path:** `x.py`\n\n## Exports\n\nProse.\n\n"
        "## Export Contract\n\n```yaml\nexports:\n  functions: [f]\n```\n"
    )
    result = parse_card(text, "x.md")
    assert result.errors == ()
    assert result.card is not None
    assert result.card.exports is not None
    assert [f.name.value for f in result.card.exports.functions] == ["f"]
