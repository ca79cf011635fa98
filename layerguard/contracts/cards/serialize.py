"""Cards to and from JSON-compatible data: the linter caches parsed cards as JSON.

A located value is `{"value": ..., "line": ...}`; key order is fixed so that equal cards give
equal JSON. `card_from_data` checks the type of every value it reads: data `card_to_data` cannot
have written (a damaged or hand-edited cache entry) raises KeyError, TypeError or ValueError,
which the cache treats as a miss, and never becomes a card with `line="x"`.
"""

from __future__ import annotations

from typing import Any, cast, get_args

from layerguard.contracts.cards.model import (
    Card,
    ExportContract,
    ExportedClass,
    ExportedFunction,
    ImportBoundary,
    ImportGroup,
    Located,
    Names,
    PairingDeclaration,
    PatternList,
    PlacementField,
    Section,
    SectionKind,
)

Data = dict[str, Any]


def card_to_data(card: Card) -> Data:
    return {
        "path": card.path,
        "source_path": _text(card.source_path),
        "title": _optional_text(card.title),
        "layer": _optional_text(card.layer),
        "layer_id": card.layer_id,
        "component": _optional_text(card.component),
        "placement": [{"key": f.key, "value": f.value, "line": f.line} for f in card.placement],
        "exports": None if card.exports is None else _exports_to_data(card.exports),
        "boundary": None if card.boundary is None else _boundary_to_data(card.boundary),
        "pairing": None if card.pairing is None else _pairing_to_data(card.pairing),
        "sections": [
            {
                "heading": s.heading,
                "kind": s.kind,
                "line": s.line,
                "body_start": s.body_start,
                "body_end": s.body_end,
            }
            for s in card.sections
        ],
    }


def card_from_data(data: Data) -> Card:
    """The inverse of `card_to_data` (derived entries such as `layer_id` are recomputed)."""
    if type(data) is not dict:
        raise TypeError("not a card")
    return Card(
        path=_str(data["path"]),
        source_path=_text_from(data["source_path"]),
        title=_optional_text_from(data["title"]),
        layer=_optional_text_from(data["layer"]),
        component=_optional_text_from(data["component"]),
        placement=tuple(
            PlacementField(key=_str(f["key"]), value=_str(f["value"]), line=_int(f["line"]))
            for f in _list(data["placement"])
        ),
        exports=None if data["exports"] is None else _exports_from(data["exports"]),
        boundary=None if data["boundary"] is None else _boundary_from(data["boundary"]),
        pairing=None if data["pairing"] is None else _pairing_from(data["pairing"]),
        sections=tuple(
            Section(
                heading=_str(s["heading"]),
                line=_int(s["line"]),
                body_start=_int(s["body_start"]),
                body_end=_int(s["body_end"]),
                kind=_section_kind(s["kind"]),
            )
            for s in _list(data["sections"])
        ),
    )


def _text(value: Located[str]) -> Data:
    return {"value": value.value, "line": value.line}


def _optional_text(value: Located[str] | None) -> Data | None:
    return None if value is None else _text(value)


def _names(values: Names) -> list[Data]:
    return [_text(value) for value in values]


def _patterns(values: PatternList | None) -> Data | None:
    if values is None:
        return None
    return {
        "value": None if values.value is None else _names(values.value),
        "line": values.line,
    }


def _function_to_data(function: ExportedFunction) -> Data:
    return {
        "name": _text(function.name),
        "signature": _optional_text(function.signature),
        "consumers": _names(function.consumers),
    }


def _class_to_data(cls: ExportedClass) -> Data:
    return {
        "name": _text(cls.name),
        "methods": _names(cls.methods),
        "consumers": _names(cls.consumers),
    }


def _exports_to_data(exports: ExportContract) -> Data:
    return {
        "line": exports.line,
        "functions": [_function_to_data(f) for f in exports.functions],
        "classes": [_class_to_data(c) for c in exports.classes],
        "protocols": [_class_to_data(p) for p in exports.protocols],
    }


def _boundary_to_data(boundary: ImportBoundary) -> Data:
    actual = boundary.actual_imports
    return {
        "line": boundary.line,
        "allowed_inbound": _patterns(boundary.allowed_inbound),
        "forbidden_inbound": _patterns(boundary.forbidden_inbound),
        "actual_imports": None
        if actual is None
        else {
            "value": [
                {"name": g.name, "line": g.line, "modules": _names(g.modules)} for g in actual.value
            ],
            "line": actual.line,
        },
        "violations": _names(boundary.violations),
    }


def _pairing_to_data(pairing: PairingDeclaration) -> Data:
    return {
        "line": pairing.line,
        "serves_domains": _names(pairing.serves_domains),
        "expected_l5_consumers": _names(pairing.expected_l5_consumers),
        "orchestrator_operations": _names(pairing.orchestrator_operations),
    }


def _str(value: object) -> str:
    if type(value) is not str:
        raise TypeError("not a string")
    return value


def _int(value: object) -> int:
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def _list(value: object) -> list[Any]:
    if type(value) is not list:
        raise TypeError("not a list")
    return value


def _text_from(data: Data) -> Located[str]:
    return Located(_str(data["value"]), _int(data["line"]))


def _optional_text_from(data: Data | None) -> Located[str] | None:
    return None if data is None else _text_from(data)


def _names_from(data: list[Data]) -> Names:
    return tuple([_text_from(item) for item in _list(data)])


def _patterns_from(data: Data | None) -> PatternList | None:
    if data is None:
        return None
    value = data["value"]
    return Located(None if value is None else _names_from(value), _int(data["line"]))


def _class_from(data: Data) -> ExportedClass:
    return ExportedClass(
        name=_text_from(data["name"]),
        methods=_names_from(data["methods"]),
        consumers=_names_from(data["consumers"]),
    )


def _exports_from(data: Data) -> ExportContract:
    return ExportContract(
        line=_int(data["line"]),
        functions=tuple(
            ExportedFunction(
                name=_text_from(f["name"]),
                signature=_optional_text_from(f["signature"]),
                consumers=_names_from(f["consumers"]),
            )
            for f in _list(data["functions"])
        ),
        classes=tuple(_class_from(c) for c in _list(data["classes"])),
        protocols=tuple(_class_from(p) for p in _list(data["protocols"])),
    )


def _boundary_from(data: Data) -> ImportBoundary:
    actual = data["actual_imports"]
    return ImportBoundary(
        line=_int(data["line"]),
        allowed_inbound=_patterns_from(data["allowed_inbound"]),
        forbidden_inbound=_patterns_from(data["forbidden_inbound"]),
        actual_imports=None
        if actual is None
        else Located(
            tuple(
                ImportGroup(
                    name=_str(g["name"]), line=_int(g["line"]), modules=_names_from(g["modules"])
                )
                for g in _list(actual["value"])
            ),
            _int(actual["line"]),
        ),
        violations=_names_from(data["violations"]),
    )


def _pairing_from(data: Data) -> PairingDeclaration:
    return PairingDeclaration(
        line=_int(data["line"]),
        serves_domains=_names_from(data["serves_domains"]),
        expected_l5_consumers=_names_from(data["expected_l5_consumers"]),
        orchestrator_operations=_names_from(data["orchestrator_operations"]),
    )


_SECTION_KINDS = frozenset(get_args(SectionKind))


def _section_kind(value: str | None) -> SectionKind | None:
    if value is not None and value not in _SECTION_KINDS:
        raise ValueError(f"unknown section kind {value!r}")
    return cast("SectionKind | None", value)
