"""Malformed cards: each error kind with its exact line, and the rest of the card still read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from layerguard.contracts.cards.model import CardError, Located, PlacementField
from layerguard.contracts.cards.parser import parse_card, read_card

if TYPE_CHECKING:
    from pathlib import Path


def _errors(text: str) -> list[tuple[int, str]]:
    return [(e.line, e.message) for e in parse_card(text, "card.md").errors]


BROKEN_EXPORTS = (
    "**Path:** `a.py`\n"  # 1
    "## Export Contract\n"  # 2
    "```yaml\n"  # 3
    "exports:\n"  # 4
    "  functions:\n"  # 5
    "    - name: f\n"  # 6
    "      signature: f(x: int) -> None\n"  # 7
    "```\n"  # 8
    "## Import Boundary\n"  # 9
    "```yaml\n"  # 10
    "boundary:\n"  # 11
    "  allowed_inbound: ['hoc.api.*']\n"  # 12
    "```\n"
)


def test_yaml_that_does_not_parse_is_reported_at_its_card_line() -> None:
    result = parse_card(BROKEN_EXPORTS, "card.md")
    [error] = result.errors
    assert (error.path, error.line) == ("card.md", 7)
    # libyaml says "... in this context", the pure-Python loader "... here"
    assert error.message.startswith(
        "expected valid YAML in the 'Export Contract' block: mapping values are not allowed"
    )
    card = result.card
    assert card is not None
    assert card.exports is None
    assert card.boundary is not None
    assert card.boundary.allowed_inbound == Located((Located("hoc.api.*", 12),), 12)


def test_unclosed_quote_is_reported_where_it_opens() -> None:
    assert _errors(
        "**Path:** `a.py`\n"
        "## L5 Pairing Declaration\n"
        "```yaml\n"
        "pairing:\n"  # 4
        "  serves_domains: ['policies]\n"  # 5
        "  orchestrator_operations: []\n"  # 6
        "```\n"
    ) == [
        (
            5,
            "expected valid YAML in the 'L5 Pairing Declaration' block: found unexpected end "
            "of stream (while scanning a quoted scalar)",
        )
    ]


def test_yaml_of_the_wrong_shape() -> None:
    text = (
        "**Path:** `a.py`\n"
        "## Export Contract\n"
        "```yaml\n"
        "exports:\n"  # 4
        "  - get_thing\n"  # 5
        "```\n"
        "## Import Boundary\n"
        "```yaml\n"
        "boundary:\n"  # 9
        "  allowed_inbound: {hoc: api}\n"  # 10
        "  forbidden_inbound: [app.db, [nested]]\n"  # 11
        "  actual_imports: [x]\n"  # 12
        "```\n"
        "## L5 Pairing Declaration\n"
        "```yaml\n"
        "- pairing\n"  # 16
        "```\n"
    )
    result = parse_card(text, "card.md")
    assert [(e.line, e.message) for e in result.errors] == [
        (5, "exports: expected a mapping of functions, classes and protocols, found a list"),
        (10, "boundary.allowed_inbound: expected a list of module patterns, found a mapping"),
        (11, "boundary.forbidden_inbound[1]: expected a module pattern, found a list"),
        (12, "boundary.actual_imports: expected a mapping of import groups, found a list"),
        (16, "the block: expected a mapping with the `pairing:` key, found a list"),
    ]
    card = result.card
    assert card is not None
    assert card.exports is None
    assert card.pairing is None
    assert card.boundary is not None
    assert card.boundary.allowed_inbound == Located((), 10)
    assert card.boundary.forbidden_inbound == Located((Located("app.db", 11),), 11)
    assert card.boundary.actual_imports is None


def test_entries_without_a_name_are_reported_and_left_out() -> None:
    text = (
        "**Path:** `a.py`\n"
        "## Export Contract\n"
        "```yaml\n"
        "exports:\n"
        "  functions:\n"
        "    - signature: f() -> None\n"  # 6
        "    - name: g\n"  # 7
        "      signature: [g]\n"  # 8
        "    - name:\n"  # 9
        "    -\n"  # 10
        "    - name: h\n"  # 11
        "  classes:\n"
        "    - methods: [run]\n"  # 13
        "    - name: K\n"  # 14
        "      methods: [{run: 1}]\n"  # 15
        "```\n"
    )
    result = parse_card(text, "card.md")
    assert [(e.line, e.message) for e in result.errors] == [
        (6, "exports.functions[0]: expected a `name:` key in this entry"),
        (8, "exports.functions[1].signature: expected a signature, found a list"),
        (9, "exports.functions[2].name: expected a name, found nothing"),
        (10, "exports.functions[3]: expected a `name:` key in this entry"),
        (13, "exports.classes[0]: expected a `name:` key in this entry"),
        (15, "exports.classes[1].methods[0]: expected a method name, found a mapping"),
    ]
    assert result.card is not None
    exports = result.card.exports
    assert exports is not None
    assert [(f.name, f.signature) for f in exports.functions] == [
        (Located("g", 7), None),
        (Located("h", 11), None),
    ]
    assert [(c.name, c.methods) for c in exports.classes] == [(Located("K", 14), ())]


def test_block_without_its_top_level_key() -> None:
    assert _errors(
        "**Path:** `a.py`\n"
        "## Import Boundary\n"
        "```yaml\n"
        "allowed_inbound: [x]\n"  # 4
        "```\n"
        "## Export Contract\n"
        "```yaml\n"  # 7
        "```\n"
    ) == [
        (4, "expected the `boundary:` key in this block"),
        (7, "expected the `exports:` key in this block"),
    ]


def test_duplicate_yaml_keys() -> None:
    assert _errors(
        "**Path:** `a.py`\n"
        "## Import Boundary\n"
        "```yaml\n"
        "boundary:\n"
        "  allowed_inbound: [a]\n"  # 5
        "  allowed_inbound: [b]\n"  # 6
        "```\n"
    ) == [(6, "boundary: expected one `allowed_inbound:` key, found another at line 5")]


def test_unterminated_code_fence_ends_at_the_next_section() -> None:
    text = (
        "**Path:** `a.py`\n"
        "## Placement Card\n"
        "```\n"  # 3
        "File: a.py\n"  # 4
        "\n"
        "## Import Boundary\n"  # 6
        "```yaml\n"
        "boundary:\n"  # 8
        "  forbidden_inbound: [app.db]\n"  # 9
        "```\n"
        "## Notes\n"  # 11
        "~~~~\n"  # 12
        "unclosed at the end of the card\n"
    )
    result = parse_card(text, "card.md")
    assert [(e.line, e.message) for e in result.errors] == [
        (3, "expected a closing ``` for this code block before the next section"),
        (12, "expected a closing ~~~~ for this code block before the next section"),
    ]
    card = result.card
    assert card is not None
    assert card.placement == (PlacementField("File", "a.py", 4),)
    assert card.boundary is not None
    assert card.boundary.forbidden_inbound == Located((Located("app.db", 9),), 9)
    assert [s.line for s in card.sections] == [2, 6, 11]


def test_placement_line_without_a_colon() -> None:
    result = parse_card(
        "**Path:** `a.py`\n"
        "## Placement Card\n"
        "```\n"
        "   continued before any key\n"  # 4
        "File: a.py\n"  # 5
        "Role Orchestrator\n"  # 6
        ": no key\n"  # 7
        "Transaction: OWNS COMMIT\n"  # 8
        "file: again.py\n"  # 9
        "```\n",
        "card.md",
    )
    assert [(e.line, e.message) for e in result.errors] == [
        (4, "expected `Key: Value` before an indented continuation line"),
        (6, "expected `Key: Value` (a key, a colon, then the value)"),
        (7, "expected `Key: Value` (a key, a colon, then the value)"),
        (9, "expected one 'file' key, found another at line 5"),
    ]
    assert result.card is not None
    assert result.card.placement == (
        PlacementField("File", "a.py", 5),
        PlacementField("Transaction", "OWNS COMMIT", 8),
    )


def test_card_without_a_path_is_no_card_but_its_other_errors_are_reported() -> None:
    result = parse_card(
        "# a.py\n"
        "**Layer:** L4\n"
        "## Placement Card\n"
        "```\n"
        "no colon here\n"  # 5
        "```\n",
        "card.md",
    )
    assert result.card is None
    assert result.errors == (
        CardError(
            "card.md", 1, "expected a `**Path:**` line naming the source file the card describes"
        ),
        CardError("card.md", 5, "expected `Key: Value` (a key, a colon, then the value)"),
    )


def test_empty_path() -> None:
    result = parse_card("# a.py\n**Path:**  \n", "card.md")
    assert result.card is None
    assert result.errors == (
        CardError("card.md", 2, "expected the described source file after `**Path:**`"),
    )


def test_duplicate_sections() -> None:
    result = parse_card(
        "**Path:** `a.py`\n"
        "## Import Boundary\n"  # 2
        "```yaml\n"
        "boundary: {allowed_inbound: [first]}\n"  # 4
        "```\n"
        "## Notes\n"  # 6
        "## Import Boundary (generated)\n"  # 7
        "```yaml\n"
        "boundary: {allowed_inbound: [second]}\n"
        "```\n"
        "## notes\n",  # 11
        "card.md",
    )
    assert [(e.line, e.message) for e in result.errors] == [
        (
            7,
            "expected one 'Import Boundary (generated)' section, found another at line 2 "
            "(only that one is read)",
        ),
        (11, "expected one 'notes' section, found another at line 6 (only that one is read)"),
    ]
    assert result.card is not None
    assert result.card.boundary is not None
    assert result.card.boundary.allowed_inbound == Located((Located("first", 4),), 4)
    assert len(result.card.sections) == 4


def test_machine_section_without_a_code_block() -> None:
    assert _errors("**Path:** `a.py`\n## Export Contract\nTODO\n## Notes\n```\n```\n") == [
        (2, "expected a ``` code block in the 'Export Contract' section")
    ]


def test_control_characters_in_yaml() -> None:
    [(line, message)] = _errors(
        "**Path:** `a.py`\n"
        "## L5 Pairing Declaration\n"
        "```yaml\n"
        "pairing:\n"
        "  serves_domains: [\x00]\n"  # 5
        "```\n"
    )
    assert line == 5
    # libyaml says "control characters", the pure-Python loader "special characters"
    assert message.startswith("expected valid YAML in the 'L5 Pairing Declaration' block: ")
    assert message.endswith("characters are not allowed")


def test_unreadable_file(tmp_path: Path) -> None:
    result = read_card(tmp_path)
    assert result.card is None
    assert result.errors == (
        CardError(str(tmp_path), 1, "cannot read the card: a directory, not a regular file"),
    )
    missing = tmp_path / "missing.md"
    assert read_card(missing).errors == (
        CardError(str(missing), 1, "cannot read the card: No such file or directory"),
    )


def test_bad_encoding_is_reported_at_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    card_file = tmp_path / "latin1.md"
    card_file.write_bytes("# a.py\n**Path:** `a.py`\n**Component:** Café\n".encode("latin-1"))
    result = read_card(card_file)
    assert result.card is None
    assert result.errors == (
        CardError(
            str(card_file), 3, "expected UTF-8 text, found byte 0xe9 (invalid continuation byte)"
        ),
    )
