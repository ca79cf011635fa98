"""Randomly damaged seed cards: the parser returns a card, card errors or (once nothing card-like
is left) a document, and never raises."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerguard.contracts.cards.model import Card
from layerguard.contracts.cards.parser import parse_card
from layerguard.contracts.cards.serialize import card_from_data, card_to_data

SEED_LINES = (
    (Path(__file__).parent / "data" / "operation_registry.md")
    .read_text(encoding="utf-8")
    .splitlines()
)

YAML_GARBAGE = (
    "&a [*a, *a]",
    "*undefined_alias",
    "!!python/object/apply:os.system ['true']",
    "? [complex, key]\n: value",
    "{ unclosed: mapping",
    "- [" * 60,
    "\t- tab indented",
    "key: 'unterminated",
    "---\nsecond: document",
    "%YAML 1.1",
    "!!binary notbase64",
    "functions: !!int nope",
    "  - name: \x00",
    "<<: *merge",
    "exports: [a, {b: c}]",
    "boundary: {allowed_inbound: {a: b}}",
    "```",
    "~~~~",
    "## Export Contract",
    "**Path:**",
    "| Path | |",
    ":",
    "\ufeff\u2028\x85",
)

mutation = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 400)),
    st.tuples(st.just("duplicate"), st.integers(0, 400)),
    st.tuples(st.just("swap"), st.integers(0, 400), st.integers(0, 400)),
    st.tuples(st.just("insert"), st.integers(0, 400), st.text(max_size=40)),
    st.tuples(st.just("garbage"), st.integers(0, 400), st.sampled_from(YAML_GARBAGE)),
    st.tuples(st.just("replace"), st.integers(0, 400), st.integers(0, 200), st.characters()),
    st.tuples(st.just("truncate"), st.integers(0, 400)),
)


def _mutate(lines: list[str], step: tuple[object, ...]) -> list[str]:
    kind, index, *rest = step
    assert isinstance(index, int)
    if not lines:
        return lines
    at = index % len(lines)
    if kind == "delete":
        del lines[at]
    elif kind == "duplicate":
        lines.insert(at, lines[at])
    elif kind == "swap":
        other = int(str(rest[0])) % len(lines)
        lines[at], lines[other] = lines[other], lines[at]
    elif kind in ("insert", "garbage"):
        lines.insert(at, str(rest[0]))
    elif kind == "replace":
        line = lines[at]
        column = int(str(rest[0])) % (len(line) + 1)
        lines[at] = line[:column] + str(rest[1]) + line[column + 1 :]
    else:
        del lines[at:]
    return lines


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(mutation, min_size=1, max_size=8),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_damaged_cards_give_a_card_errors_or_a_document(
    steps: list[tuple[object, ...]], newline: str
) -> None:
    """A damaged card is a card, or errors saying why it is not; or, once the damage removed
    everything that made it look like a card (its `**Path:**`, its title, its card sections),
    a document, which is never a silent skip of something that looks like a card."""
    lines = list(SEED_LINES)
    for step in steps:
        lines = _mutate(lines, step)
    text = newline.join(lines)
    result = parse_card(text, "seed.md")
    line_count = max(1, len(text.split("\n")))
    for error in result.errors:
        assert error.path == "seed.md"
        assert 1 <= error.line <= line_count
        assert error.message
    if result.document:
        assert result.card is None
        assert result.errors == ()
        card_section = re.compile(r"^ {0,3}##[ \t]+(Placement Card|Export Contract)", re.M)
        assert card_section.search(text) is None
    elif result.card is None:
        assert result.errors
    else:
        assert isinstance(result.card, Card)
        assert card_from_data(card_to_data(result.card)) == result.card
