"""The seed card (a copy of the reference card in data/): every value the linter relies on."""

from __future__ import annotations

import json
from pathlib import Path

from layerguard.contracts.cards.model import Card, Located
from layerguard.contracts.cards.parser import parse_card, read_card
from layerguard.contracts.cards.serialize import card_from_data, card_to_data

SEED = Path(__file__).parent / "data" / "operation_registry.md"


def _seed() -> Card:
    result = read_card(SEED)
    assert result.errors == ()
    assert result.card is not None
    return result.card


def test_header() -> None:
    card = _seed()
    assert card.path == str(SEED)
    assert card.title == Located("operation_registry.py", 1)
    assert card.source_path == Located(
        "backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.py", 3
    )
    assert card.layer == Located("L4 — HOC Spine (Orchestrator)", 4)
    assert card.layer_id == "L4"
    assert card.component == Located("Orchestrator", 5)


def test_placement_fields_in_order() -> None:
    card = _seed()
    assert [(f.key, f.line) for f in card.placement] == [
        ("File", 12),
        ("Lives in", 13),
        ("Role", 14),
        ("Inbound", 15),
        ("Outbound", 16),
        ("Transaction", 17),
        ("Cross-domain", 18),
        ("Purpose", 19),
        ("Violations", 20),
    ]
    transaction = card.placement_field("transaction")
    assert transaction is not None
    assert transaction.value == "OWNS COMMIT"
    assert card.placement[3].value == "L2 APIs (hoc/api/cus/{domain}/*.py)"


def test_export_contract() -> None:
    exports = _seed().exports
    assert exports is not None
    assert exports.line == 201
    assert [f.name.value for f in exports.functions] == [
        "get_operation_registry",
        "get_session_dep",
        "reset_operation_registry",
    ]
    session_dep = exports.functions[1]
    assert session_dep.name.line == 206
    assert session_dep.signature == Located(
        "get_session_dep() -> AsyncGenerator[AsyncSession, None]", 207
    )
    assert session_dep.consumers == (Located("L2 APIs", 208),)
    assert [(c.name.value, len(c.methods)) for c in exports.classes] == [
        ("OperationContext", 0),
        ("OperationResult", 2),
        ("OperationHandler", 1),
        ("OperationRegistry", 9),
    ]
    registry = exports.classes[3]
    assert registry.name.line == 225
    assert [m.value for m in registry.methods] == [
        "register",
        "freeze",
        "execute",
        "operations",
        "operation_count",
        "is_frozen",
        "has_operation",
        "get_handler",
        "status",
    ]
    assert registry.methods[0].line == 227
    assert exports.protocols == ()


def test_import_boundary() -> None:
    boundary = _seed().boundary
    assert boundary is not None
    assert boundary.line == 243
    assert boundary.allowed_inbound == Located(
        (Located("hoc.api.*", 245), Located("hoc_spine.adapters.*", 246)), 244
    )
    assert boundary.forbidden_inbound == Located(None, 247)
    assert boundary.actual_imports is not None
    assert [(g.name, g.line) for g in boundary.actual_imports.value] == [
        ("spine_internal", 249),
        ("l7_model", 250),
        ("external", 251),
    ]
    assert boundary.imports("spine_internal") == (
        Located("app.hoc.cus.hoc_spine.services.time", 249),
        Located("app.hoc.cus.hoc_spine.authority.runtime_switch", 249),
    )
    assert boundary.imports("l7_model") == ()
    assert boundary.imports("external") == (Located("sqlalchemy.ext.asyncio", 251),)
    assert boundary.imports("no_such_group") == ()
    assert boundary.violations == ()


def test_pairing() -> None:
    pairing = _seed().pairing
    assert pairing is not None
    assert pairing.line == 258
    assert pairing.serves_domains == ()
    assert pairing.expected_l5_consumers == ()
    assert pairing.orchestrator_operations == ()


def test_sections_tile_the_card_with_half_open_body_ranges() -> None:
    card = _seed()
    assert [(s.heading, s.kind, s.line, s.body_start, s.body_end) for s in card.sections] == [
        ("Placement Card", "placement", 9, 10, 23),
        ("Purpose", None, 23, 24, 82),
        ("Import Analysis", None, 82, 83, 92),
        ("Transaction Boundary", None, 92, 93, 98),
        ("Functions", None, 98, 99, 121),
        ("Classes", None, 121, 122, 194),
        ("Domain Usage", None, 194, 195, 198),
        ("Export Contract", "exports", 198, 199, 240),
        ("Import Boundary", "boundary", 240, 241, 255),
        ("L5 Pairing Declaration", "pairing", 255, 256, 263),
    ]


def test_preamble_and_section_bodies_rebuild_the_card_byte_for_byte() -> None:
    text = SEED.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    card = _seed()
    preamble = lines[: card.sections[0].line - 1]
    rebuilt = "".join(preamble)
    for section in card.sections:
        rebuilt += lines[section.line - 1]
        rebuilt += "".join(lines[section.body_start - 1 : section.body_end - 1])
    assert rebuilt == text


def test_to_data_round_trips_through_json() -> None:
    card = _seed()
    data = json.loads(json.dumps(card_to_data(card)))
    assert card_from_data(data) == card
    assert card_to_data(card_from_data(data)) == card_to_data(card)
    assert list(data) == [
        "path",
        "source_path",
        "title",
        "layer",
        "layer_id",
        "component",
        "placement",
        "exports",
        "boundary",
        "pairing",
        "sections",
    ]
    assert data["layer_id"] == "L4"
    assert data["boundary"]["forbidden_inbound"] == {"value": None, "line": 247}


def test_round_trip_keeps_absent_blocks_and_empty_lists_apart() -> None:
    text = (
        "**Path:** `a.py`\n\n## Import Boundary\n\n```yaml\nboundary:\n  allowed_inbound: []\n```\n"
    )
    card = parse_card(text, "a.md").card
    assert card is not None
    assert card.boundary is not None
    assert card.boundary.allowed_inbound == Located((), 7)
    assert card.boundary.forbidden_inbound is None
    assert card.boundary.actual_imports is None
    assert card.exports is None
    assert card.title is None
    assert card_from_data(json.loads(json.dumps(card_to_data(card)))) == card


def test_crlf_and_text_without_final_newline_give_the_same_card() -> None:
    text = SEED.read_text(encoding="utf-8")
    crlf = parse_card(text.replace("\n", "\r\n"), "seed.md")
    bare = parse_card(text.rstrip("\n"), "seed.md")
    plain = parse_card(text, "seed.md")
    assert crlf.errors == bare.errors == plain.errors == ()
    assert crlf.card == bare.card == plain.card
