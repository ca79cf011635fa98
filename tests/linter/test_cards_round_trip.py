"""Generated cards parse back (`parse_card`) to exactly what the generator meant.

`meant` lists what a `CardContent` says in the terms of the card model; `read` lists the same
of a parsed card. Equal for every card generated from a real project, and for arbitrary
content (names YAML would misread, signatures with quotes and backslashes, docstrings full of
markdown that looks like structure).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerguard.contracts.cards.model import Card, Names
from layerguard.contracts.cards.parser import parse_card
from layerguard.contracts.config.loader import load_config
from layerguard.linter.cards.content import (
    CardContent,
    ClassDoc,
    ExportedClassEntry,
    ExportedFunctionEntry,
    FunctionDoc,
    TransactionSummary,
)
from layerguard.linter.cards.derive import importers
from layerguard.linter.cards.merge import merge_card
from layerguard.linter.cards.render import SECTIONS, render_card
from layerguard.linter.project.build import build_index
from tests.cli.test_cards_write_cli import PROJECT
from tests.helpers import write_project


def one_line(text: str) -> str:
    """Header and Placement Card values are written on one line, whitespace collapsed."""
    return " ".join(text.split())


def meant(content: CardContent) -> dict[str, Any]:
    return {
        "title": one_line(content.title),
        "path": content.path_value,
        "layer": None if content.layer is None else one_line(content.layer),
        "component": one_line(content.component),
        "placement": [(key, one_line(value)) for key, value in content.placement],
        "functions": [(f.name, f.signature, []) for f in content.exported_functions],
        "classes": [(c.name, list(c.methods), []) for c in content.exported_classes],
        "protocols": [],
        "inbound": ("empty", "empty"),
        "actual_imports": [(name, list(modules)) for name, modules in content.import_groups],
        "violations": [],
        "pairing": (list(content.serves_domains), [], list(content.operations)),
        "sections": list(SECTIONS),
    }


def _values(names: Names) -> list[str]:
    return [name.value for name in names]


def read(card: Card) -> dict[str, Any]:
    assert card.exports is not None
    assert card.boundary is not None
    assert card.boundary.actual_imports is not None
    assert card.pairing is not None
    boundary = card.boundary
    inbound = tuple(
        "absent" if entry is None else "empty" if entry.value is None else _values(entry.value)
        for entry in (boundary.allowed_inbound, boundary.forbidden_inbound)
    )
    return {
        "title": card.title.value if card.title else None,
        "path": card.source_path.value,
        "layer": card.layer.value if card.layer else None,
        "component": card.component.value if card.component else None,
        "placement": [(f.key, f.value) for f in card.placement],
        "functions": [
            (f.name.value, f.signature.value if f.signature else None, _values(f.consumers))
            for f in card.exports.functions
        ],
        "classes": [
            (c.name.value, _values(c.methods), _values(c.consumers)) for c in card.exports.classes
        ],
        "protocols": [c.name.value for c in card.exports.protocols],
        "inbound": inbound,
        "actual_imports": [(g.name, _values(g.modules)) for g in boundary.actual_imports.value],
        "violations": _values(boundary.violations),
        "pairing": (
            _values(card.pairing.serves_domains),
            _values(card.pairing.expected_l5_consumers),
            _values(card.pairing.orchestrator_operations),
        ),
        "sections": [s.heading for s in card.sections],
    }


def parsed(text: str) -> Card:
    result = parse_card(text, "card.md")
    assert result.errors == ()
    assert result.card is not None
    return result.card


def test_every_card_of_a_project(tmp_path: Path) -> None:
    write_project(tmp_path, PROJECT)
    index = build_index(load_config(tmp_path / "layerguard.yaml"), 1, use_cache=False).index
    inbound = importers(index)
    from layerguard.linter.cards.content import card_content

    contents = [
        card_content(index, source, inbound.get(path, []))
        for path, source in index.files.items()
        if source.facts.syntax_error is None
    ]
    assert len(contents) == len(PROJECT)
    for content in contents:
        assert read(parsed(render_card(content))) == meant(content)


# --- arbitrary content ---------------------------------------------------------------------

_IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
_TRICKY_NAMES = st.sampled_from(["yes", "No", "null", "on", "True", "inf", "y", "ñame", "_"])
_NAME = st.one_of(_IDENT, _TRICKY_NAMES)
_MODULE = st.lists(_IDENT, min_size=1, max_size=4).map(".".join)
_LINE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=40
)
_STRUCTURE = st.sampled_from(
    [
        "## Export Contract",
        "# title",
        "```yaml",
        "~~~",
        "**Path:** `other.py`",
        "**Layer:** L9 — Fake",
        "| Component | Fake |",
        "---",
        "   ## indented",
        "exports:",
    ]
)
_TEXT = st.lists(st.one_of(_LINE, _STRUCTURE), max_size=8).map("\n".join)
_PATH = st.lists(_IDENT, min_size=1, max_size=4).map(lambda parts: "/".join(parts) + ".py")
_FUNCTION_DOC = st.builds(FunctionDoc, _LINE, st.none() | _TEXT)


def _placement(values: list[str]) -> tuple[tuple[str, str], ...]:
    keys = ("File", "Lives in", "Role", "Inbound", "Outbound", "Transaction", "Purpose")
    return tuple(zip(keys, values, strict=False))


CONTENT = st.builds(
    CardContent,
    title=_IDENT.map(lambda name: name + ".py"),
    path_value=_PATH,
    layer=st.none() | st.tuples(_IDENT, _LINE).map(lambda t: f"{t[0]} — {t[1]}".strip()),
    component=_IDENT,
    placement=st.lists(_LINE.filter(lambda v: v.strip()), min_size=7, max_size=7).map(_placement),
    purpose=st.none() | _TEXT,
    import_groups=st.lists(
        st.tuples(_NAME, st.lists(_MODULE, max_size=3).map(tuple)), max_size=4
    ).map(lambda groups: tuple(dict(groups).items())),
    lazy_imports=st.lists(st.tuples(_MODULE, st.none() | _IDENT), max_size=2).map(tuple),
    transactions=st.builds(
        TransactionSummary, st.booleans(), st.booleans(), st.booleans(), st.just(())
    ),
    functions=st.lists(_FUNCTION_DOC, max_size=3).map(tuple),
    classes=st.lists(
        st.builds(
            ClassDoc, _LINE, st.none() | _TEXT, st.lists(_FUNCTION_DOC, max_size=2).map(tuple)
        ),
        max_size=2,
    ).map(tuple),
    exported_functions=st.lists(st.builds(ExportedFunctionEntry, _NAME, _LINE), max_size=3).map(
        tuple
    ),
    exported_classes=st.lists(
        st.builds(ExportedClassEntry, _NAME, st.lists(_NAME, max_size=3).map(tuple)), max_size=3
    ).map(tuple),
    callers=_LINE,
    serves_domains=st.lists(_IDENT, max_size=2).map(tuple),
    operations=st.lists(st.text(max_size=20), max_size=3).map(tuple),
)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(CONTENT)
def test_arbitrary_content(content: CardContent) -> None:
    assert read(parsed(render_card(content))) == meant(content)


MACHINE_OWNED = ("functions", "classes", "protocols", "actual_imports")


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(CONTENT, CONTENT)
def test_sync_turns_one_content_into_another(old: CardContent, new: CardContent) -> None:
    text = render_card(old)
    synced = merge_card(text, parsed(text), new)
    result = read(parsed(synced.text))
    for key, value in meant(old).items():
        assert result[key] == (meant(new)[key] if key in MACHINE_OWNED else value), key
    assert merge_card(synced.text, parsed(synced.text), new).text == synced.text  # idempotent
    assert synced.problems == ()
    assert (synced.text == text) == (synced.changes == ())
