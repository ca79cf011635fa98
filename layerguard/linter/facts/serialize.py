"""FileFacts <-> JSON-compatible data, compactly: each fact is a list of its fields in order.

The cache stores thousands of these; lists instead of dicts keep it small and fast to load.
The field order is part of the cache format: changing a fact class changes the tool version,
which invalidates the cache.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from layerguard.linter.facts.model import (
    ClassFact,
    FileFacts,
    FunctionFact,
    ImportFact,
    RegistryCall,
    SessionConstruction,
    Suppression,
    SyntaxErrorFact,
    TransactionCall,
)

_T = TypeVar("_T")

_FLAT_FACTS: dict[str, type[Any]] = {
    "imports": ImportFact,
    "transaction_calls": TransactionCall,
    "session_constructions": SessionConstruction,
    "registry_calls": RegistryCall,
    "functions": FunctionFact,
    "suppressions": Suppression,
}
_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls))
    for cls in (*_FLAT_FACTS.values(), ClassFact, SyntaxErrorFact)
}


def _row(fact: object) -> list[Any]:
    row = [getattr(fact, name) for name in _FIELD_NAMES[type(fact)]]
    return [list(v) if isinstance(v, tuple) else v for v in row]


def _function_from_row(row: list[Any]) -> FunctionFact:
    name, line, col, signature, is_async, docstring, decorators = row
    return FunctionFact(name, line, col, signature, is_async, docstring, tuple(decorators))


def facts_to_data(facts: FileFacts) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in _FLAT_FACTS:
        values = getattr(facts, key)
        if values:
            data[key] = [_row(v) for v in values]
    if facts.classes:
        data["classes"] = [
            [c.name, c.line, c.col, list(c.bases), [_row(m) for m in c.methods], c.docstring]
            for c in facts.classes
        ]
    if facts.docstring is not None:
        data["docstring"] = facts.docstring
    if facts.all_names is not None:
        data["all_names"] = list(facts.all_names)
    if facts.syntax_error is not None:
        data["syntax_error"] = _row(facts.syntax_error)
    return data


def facts_from_data(data: dict[str, Any]) -> FileFacts:
    def rows(key: str, cls: type[_T]) -> tuple[_T, ...]:
        return tuple(cls(*row) for row in data.get(key, ()))

    suppressions = tuple(
        Suppression(line, col, tuple(codes), reason, own_line)
        for line, col, codes, reason, own_line in data.get("suppressions", ())
    )
    classes = tuple(
        ClassFact(name, line, col, tuple(bases), tuple(_function_from_row(m) for m in methods), doc)
        for name, line, col, bases, methods, doc in data.get("classes", ())
    )
    all_names = data.get("all_names")
    syntax_error = data.get("syntax_error")
    return FileFacts(
        imports=rows("imports", ImportFact),
        transaction_calls=rows("transaction_calls", TransactionCall),
        session_constructions=rows("session_constructions", SessionConstruction),
        registry_calls=rows("registry_calls", RegistryCall),
        functions=tuple(_function_from_row(r) for r in data.get("functions", ())),
        classes=classes,
        suppressions=suppressions,
        docstring=data.get("docstring"),
        all_names=tuple(all_names) if all_names is not None else None,
        syntax_error=SyntaxErrorFact(*syntax_error) if syntax_error is not None else None,
    )
