"""FileFacts <-> JSON-compatible data, compactly: each fact is the list of its fields in order.

The cache stores thousands of these; lists instead of dicts keep it small and fast to load,
and since facts are NamedTuples a row becomes a fact again with one `_make` call. The field
order is part of the cache format: changing a fact class changes the tool version, which
invalidates the cache.
"""

from __future__ import annotations

from typing import Any

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

_SCALAR_FACTS: dict[str, Any] = {  # key -> NamedTuple class with only scalar fields
    "imports": ImportFact,
    "transaction_calls": TransactionCall,
    "session_constructions": SessionConstruction,
    "registry_calls": RegistryCall,
}


def _function(row: list[Any]) -> FunctionFact:
    name, line, col, signature, is_async, docstring, decorators = row
    return FunctionFact(name, line, col, signature, is_async, docstring, tuple(decorators))


def facts_to_data(facts: FileFacts) -> dict[str, Any]:
    """Non-empty fields only; tuples become JSON arrays as they are."""
    data: dict[str, Any] = {}
    for key in (*_SCALAR_FACTS, "functions", "classes", "suppressions"):
        values = getattr(facts, key)
        if values:
            data[key] = values
    for key in ("docstring", "all_names", "syntax_error"):
        value = getattr(facts, key)
        if value is not None:
            data[key] = value
    return data


def facts_from_data(data: dict[str, Any]) -> FileFacts:
    scalars = {
        key: tuple(map(cls._make, data[key])) for key, cls in _SCALAR_FACTS.items() if key in data
    }
    classes = tuple(
        ClassFact(name, line, col, tuple(bases), tuple(map(_function, methods)), doc)
        for name, line, col, bases, methods, doc in data.get("classes", ())
    )
    suppressions = tuple(
        Suppression(line, col, tuple(codes), reason, own_line)
        for line, col, codes, reason, own_line in data.get("suppressions", ())
    )
    all_names = data.get("all_names")
    syntax_error = data.get("syntax_error")
    return FileFacts(
        **scalars,
        functions=tuple(map(_function, data.get("functions", ()))),
        classes=classes,
        suppressions=suppressions,
        docstring=data.get("docstring"),
        all_names=tuple(all_names) if all_names is not None else None,
        syntax_error=SyntaxErrorFact(*syntax_error) if syntax_error is not None else None,
    )
