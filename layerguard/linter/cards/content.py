"""Everything a generated card says about one file, as plain data ready to be written.

`card_content` assembles it from the index (through `derive`, like the card rules); `render`
turns it into text. Keeping the two apart lets the round-trip test compare what generation
meant with what the parser reads back.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from layerguard.contracts.cards.location import card_path_value
from layerguard.contracts.config.model import EXTERNAL_IMPORT_GROUP
from layerguard.linter.cards.derive import (
    ImportGroups,
    group_imports,
    is_transaction_owner,
    lazy_imports,
    listed_imports,
    other_domains,
    public_classes,
    public_functions,
    public_methods,
    registered_operations,
    transaction_use,
    transaction_value,
)
from layerguard.linter.facts.model import FunctionFact
from layerguard.linter.project.index import ProjectIndex, SourceFile


@dataclass(frozen=True, slots=True)
class FunctionDoc:
    """A function or method as the prose sections show it."""

    signature: str  # methods that are coroutines: with an `async ` prefix
    docstring: str | None


@dataclass(frozen=True, slots=True)
class ClassDoc:
    heading: str  # `Name(Base, Other)`
    docstring: str | None
    methods: tuple[FunctionDoc, ...]


@dataclass(frozen=True, slots=True)
class ExportedFunctionEntry:
    name: str
    signature: str


@dataclass(frozen=True, slots=True)
class ExportedClassEntry:
    name: str
    methods: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TransactionSummary:
    """The Transaction Boundary section: which kinds of call the file makes."""

    commits: bool
    flushes: bool
    rollbacks: bool
    others: tuple[str, ...]  # other controlled methods it calls (`begin`, `begin_nested`, ...)


@dataclass(frozen=True, slots=True)
class CardContent:
    title: str  # the file name
    path_value: str  # `**Path:**`, relative to `cards.root`
    layer: str | None  # `L4 — Orchestration spine`; None outside every layer
    component: str
    placement: tuple[tuple[str, str], ...]  # Placement Card `Key: Value` fields, in order
    purpose: str | None  # the module docstring
    import_groups: ImportGroups  # `actual_imports`
    lazy_imports: tuple[tuple[str, str | None], ...]  # (module, enclosing function)
    transactions: TransactionSummary
    functions: tuple[FunctionDoc, ...]
    classes: tuple[ClassDoc, ...]
    exported_functions: tuple[ExportedFunctionEntry, ...]
    exported_classes: tuple[ExportedClassEntry, ...]
    callers: str
    serves_domains: tuple[str, ...]
    operations: tuple[str, ...]


def _doc(function: FunctionFact, method: bool) -> FunctionDoc:
    """As the seed shows them: methods with an `async ` prefix, top-level functions without."""
    prefix = "async " if function.is_async and method else ""
    return FunctionDoc(prefix + function.signature, function.docstring)


def _component(path: str) -> str:
    """The parent directory, as a name: `orchestrator/` -> Orchestrator, `L5_engines/` ->
    L5 engines."""
    directory = posixpath.basename(posixpath.dirname(path))
    if not directory:
        return "Project root"
    words = directory.replace("_", " ")
    return words[0].upper() + words[1:]


def _callers(index: ProjectIndex, importing: list[SourceFile]) -> str:
    layer_ids = {s.layer.layer for s in importing if s.layer is not None}
    named = []
    for layer in index.config.layers:
        if layer.id in layer_ids:
            named.append(f"{layer.id} ({layer.name})")
    if any(s.layer is None for s in importing):
        named.append("unlayered modules")
    return ", ".join(named) or "none"


def _first_line(text: str | None) -> str | None:
    if not text:
        return None
    return next((line.strip() for line in text.splitlines() if line.strip()), None)


def card_content(
    index: ProjectIndex, source: SourceFile, importing: list[SourceFile]
) -> CardContent:
    """What a generated card says about `source`; `importing` are the files importing it."""
    config = index.config
    facts = source.facts
    listed = listed_imports(index, source)
    groups = group_imports(config, listed)
    use = transaction_use(index, source)
    layer = config.layer(source.layer.layer) if source.layer is not None else None
    name = posixpath.basename(source.path)
    callers = _callers(index, importing)
    outbound = [i.module for i in listed if i.group != EXTERNAL_IMPORT_GROUP]
    domains = other_domains(source)
    placement = (
        ("File", name),
        ("Lives in", (posixpath.basename(posixpath.dirname(source.path)) or ".") + "/"),
        ("Role", _component(source.path)),
        ("Inbound", callers),
        ("Outbound", ", ".join(outbound) or "none"),
        ("Transaction", transaction_value(use, is_transaction_owner(index, source)).value),
        ("Cross-domain", ", ".join(domains) or "none"),
        ("Purpose", _first_line(facts.docstring) or "none"),
        ("Violations", "none"),
    )
    controlled = {call.method for call in use.controlled}
    return CardContent(
        title=name,
        path_value=card_path_value(source.path, config.cards.root),
        layer=None if layer is None else f"{layer.id} — {' '.join(layer.name.split())}",
        component=_component(source.path),
        placement=placement,
        purpose=facts.docstring,
        import_groups=groups,
        lazy_imports=lazy_imports(index, source),
        transactions=TransactionSummary(
            commits="commit" in controlled,
            flushes=bool(use.flushes) or "flush" in controlled,
            rollbacks="rollback" in controlled,
            others=tuple(sorted(controlled - {"commit", "rollback", "flush"})),
        ),
        functions=tuple(_doc(f, method=False) for f in facts.functions),
        classes=tuple(
            ClassDoc(
                heading=f"{cls.name}({', '.join(cls.bases)})" if cls.bases else cls.name,
                docstring=cls.docstring,
                methods=tuple(_doc(m, method=True) for m in cls.methods),
            )
            for cls in facts.classes
        ),
        exported_functions=tuple(
            ExportedFunctionEntry(f.name, f.signature) for f in public_functions(facts)
        ),
        exported_classes=tuple(
            ExportedClassEntry(c.name, public_methods(c)) for c in public_classes(facts)
        ),
        callers=callers,
        serves_domains=domains,
        operations=registered_operations(facts),
    )
