"""FileFacts <-> JSON-compatible data, compactly: each fact is the list of its fields in order.

The cache stores thousands of these; lists instead of dicts keep it small and fast to load,
and since facts are NamedTuples a row becomes a fact again with one `_make` call. The field
order is part of the cache format: changing a fact class changes the code fingerprint, which
invalidates the cache.

Data read back is checked against the fact classes' annotations (every field of every row has
its declared type) before it becomes facts: a damaged or hand-edited cache entry raises
`InvalidFactsDataError`, which the cache treats as a miss, instead of reaching the rules as
`line="x"`. The check is one type-signature lookup per row.
"""

from __future__ import annotations

import itertools
import sys
import types
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple, Union, get_args, get_origin, get_type_hints

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


class InvalidFactsDataError(ValueError):
    """Cached facts data that `facts_to_data` cannot have written."""


def _signatures(cls: type[NamedTuple]) -> frozenset[tuple[type, ...]]:
    """Every tuple of JSON value types a row of `cls` may have (`str | None` gives two), from
    the class's annotations; a tuple field is a JSON list (its items are checked apart)."""
    hints = get_type_hints(cls, vars(sys.modules[cls.__module__]))
    options: list[tuple[type, ...]] = []
    for name in cls._fields:
        hint = hints[name]
        if get_origin(hint) in (Union, types.UnionType):
            options.append(tuple(type(None) if a is type(None) else a for a in get_args(hint)))
        elif get_origin(hint) is tuple:
            options.append((list, tuple))
        elif get_origin(hint) is Literal:
            options.append(tuple({type(value) for value in get_args(hint)}))
        else:
            options.append((hint,))
    return frozenset(itertools.product(*options))


_ROW_TYPES = {
    cls: _signatures(cls)
    for cls in (*_SCALAR_FACTS.values(), FunctionFact, ClassFact, Suppression, SyntaxErrorFact)
}


def _rows(cls: Any, rows: object) -> Sequence[Sequence[Any]]:
    """`rows` checked to be a list of rows of `cls` (JSON arrays, or the tuples of facts
    data that never went through JSON)."""
    if not isinstance(rows, list | tuple):
        raise InvalidFactsDataError(f"{cls.__name__}: not a list")
    if not _ROW_TYPES[cls].issuperset(map(tuple, map(_types, rows))):
        raise InvalidFactsDataError(f"{cls.__name__}: a row of the wrong shape")
    return rows


def _types(row: object) -> Any:
    """The types of a row's values (a row that is not a list matches no signature)."""
    return map(type, row) if isinstance(row, list | tuple) else (row,)


def _strings(values: Sequence[Any]) -> tuple[str, ...]:
    if values and set(map(type, values)) != _STR:
        raise InvalidFactsDataError("a list of names holds something else")
    return tuple(values)


_STR = {str}


def _function(row: Sequence[Any]) -> FunctionFact:
    name, line, col, signature, is_async, docstring, decorators = row
    return FunctionFact(name, line, col, signature, is_async, docstring, _strings(decorators))


_KEYS = frozenset(FileFacts._fields)


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


def facts_from_data(data: object) -> FileFacts:
    """The facts `facts_to_data` turned into `data`; InvalidFactsDataError if it cannot have."""
    if type(data) is not dict or not _KEYS.issuperset(data):
        raise InvalidFactsDataError("not a facts object")
    scalars = {
        key: tuple(map(cls._make, _rows(cls, data[key])))
        for key, cls in _SCALAR_FACTS.items()
        if key in data
    }
    classes = tuple(
        ClassFact(
            name,
            line,
            col,
            _strings(bases),
            tuple(map(_function, _rows(FunctionFact, methods))),
            doc,
        )
        for name, line, col, bases, methods, doc in _rows(ClassFact, data.get("classes", []))
    )
    suppressions = tuple(
        Suppression(line, col, _strings(codes), reason, own_line)
        for line, col, codes, reason, own_line in _rows(Suppression, data.get("suppressions", []))
    )
    docstring = data.get("docstring")
    if docstring is not None and type(docstring) is not str:
        raise InvalidFactsDataError("docstring: not a string")
    all_names = data.get("all_names")
    syntax_error = data.get("syntax_error")
    return FileFacts(
        **scalars,
        functions=tuple(map(_function, _rows(FunctionFact, data.get("functions", [])))),
        classes=classes,
        suppressions=suppressions,
        docstring=docstring,
        all_names=None if all_names is None else _strings(_list(all_names)),
        syntax_error=None
        if syntax_error is None
        else SyntaxErrorFact._make(_rows(SyntaxErrorFact, [syntax_error])[0]),
    )


def _list(value: object) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise InvalidFactsDataError("not a list")
    return value
