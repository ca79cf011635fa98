"""Which classes are operation handlers, and so which modules are handler modules.

One answer serves LG403 and the catalogue. A class is a handler when

- a `register` call registers it: the handler expression (`PolicyQueryHandler()`,
  `policies_handler.PolicyQueryHandler`) is resolved through the registering file's own
  classes and imports, following re-exports; or
- it lives in a layer listed in `registry.handler_layers`, has an `execute` method (the
  OperationHandler protocol) and no project class derives from it: a shared base class is
  plumbing, not a handler, and importing it couples nothing.

Facts do not record import aliases, so a handler reached only through `import x as y` is found
by its class name when exactly one project class has that name and the file binds no import to
the expression's first name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from layerguard.linter.facts.model import ClassFact
from layerguard.linter.project.index import ProjectIndex, ResolvedImport, SourceFile
from layerguard.linter.project.modules import resolve_relative

MAX_REEXPORT_HOPS = 8  # `__init__` re-exporting from a module re-exporting from ...: enough


@dataclass(frozen=True, slots=True)
class HandlerClass:
    """A class that handles operations, where it is defined."""

    path: str
    module: str | None
    name: str
    line: int
    col: int

    @property
    def qualified_name(self) -> str:
        return f"{self.module}.{self.name}" if self.module else self.name


def _handler(source: SourceFile, cls: ClassFact) -> HandlerClass:
    module = source.module.name if source.module is not None else None
    return HandlerClass(source.path, module, cls.name, cls.line, cls.col)


def _class_named(source: SourceFile, name: str) -> ClassFact | None:
    return next((cls for cls in source.facts.classes if cls.name == name), None)


def _from_base(source: SourceFile, resolved: ResolvedImport) -> str | None:
    """The absolute module of a `from X import name` statement."""
    fact = resolved.fact
    if not fact.level:
        return fact.module
    if source.module is None:
        return None
    return resolve_relative(source.module, fact.level, fact.module)


def _binds(resolved: ResolvedImport, name: str) -> bool:
    """Whether the import binds `name` in the importing module (aliases are not recorded)."""
    fact = resolved.fact
    if fact.dynamic:
        return False
    if fact.name is not None:
        return fact.name == name
    return fact.module.split(".")[0] == name


class HandlerResolver:
    """Resolves dotted expressions in a file to project classes, through imports."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index

    @cached_property
    def _classes_by_name(self) -> dict[str, list[tuple[SourceFile, ClassFact]]]:
        found: dict[str, list[tuple[SourceFile, ClassFact]]] = {}
        for source in self.index.files.values():
            for cls in source.facts.classes:
                found.setdefault(cls.name, []).append((source, cls))
        return found

    def resolve(self, source: SourceFile, expression: str) -> HandlerClass | None:
        """The project class `expression` names in `source`, if it can be known."""
        parts = expression.split(".")
        if not all(part.isidentifier() for part in parts):
            return None
        for length in range(len(parts), 0, -1):  # `Handler.create()`: a factory classmethod
            found = self._lookup(source, parts[:length], 0, attribute=False)
            if found is not None:
                return found
        head = parts[0]
        bound = _class_named(source, head) is not None or any(
            _binds(resolved, head) for resolved in source.imports
        )
        candidates = self._classes_by_name.get(parts[-1], [])
        if not bound and len(candidates) == 1:
            return _handler(*candidates[0])
        return None

    def resolve_imported(self, source: SourceFile, resolved: ResolvedImport) -> HandlerClass | None:
        """The project class a `from m import Name` brings in, following re-exports."""
        fact = resolved.fact
        if fact.name is None or fact.name == "*" or resolved.file is None:
            return None
        if self._is_submodule(source, resolved):
            return None
        return self._lookup(resolved.file, [fact.name], 1, attribute=True)

    def _is_submodule(self, source: SourceFile, resolved: ResolvedImport) -> bool:
        base = _from_base(source, resolved)
        name = resolved.fact.name
        return base is not None and resolved.target == (f"{base}.{name}" if base else name)

    def _lookup(
        self, source: SourceFile, parts: list[str], depth: int, *, attribute: bool
    ) -> HandlerClass | None:
        """`parts` as seen from `source`; `attribute`: as an attribute of its module."""
        if depth > MAX_REEXPORT_HOPS or not parts:
            return None
        head, rest = parts[0], parts[1:]
        if not rest:
            cls = _class_named(source, head)
            if cls is not None:
                return _handler(source, cls)
        if attribute and rest and source.module is not None:
            child = self.index.by_module.get(f"{source.module.name}.{head}")
            if child is not None:
                return self._lookup(child, rest, depth + 1, attribute=True)
        for resolved in reversed(source.imports):  # the last binding wins, as in Python
            if not _binds(resolved, head):
                continue
            return self._through_import(source, resolved, parts, depth)
        return None

    def _through_import(
        self, source: SourceFile, resolved: ResolvedImport, parts: list[str], depth: int
    ) -> HandlerClass | None:
        fact = resolved.fact
        if fact.name is not None:  # from m import head
            if resolved.file is None:
                return None  # an external module, or a namespace package
            if self._is_submodule(source, resolved):
                rest = parts[1:]
                return self._lookup(resolved.file, rest, depth + 1, attribute=True)
            return self._lookup(resolved.file, parts, depth + 1, attribute=True)
        for length in range(len(parts) - 1, 0, -1):  # import a.b.c; a.b.c.Handler
            module = self.index.by_module.get(".".join(parts[:length]))
            if module is not None:
                return self._lookup(module, parts[length:], depth + 1, attribute=True)
        return None


@dataclass(frozen=True, slots=True)
class RegistrationKey:
    """Identifies one `register` call."""

    path: str
    line: int
    col: int


class Handlers:
    """Every handler class of the project, by file, and the class each registration names."""

    def __init__(self, index: ProjectIndex) -> None:
        self.resolver = HandlerResolver(index)
        self.registered: dict[RegistrationKey, HandlerClass | None] = {}
        self.operations_of: dict[HandlerClass, list[str]] = {}
        by_path: dict[str, dict[str, HandlerClass]] = {}
        for sites in index.registrations.values():
            for site in sites:
                call = site.call
                handler = None
                if call.handler is not None:
                    handler = self.resolver.resolve(site.file, call.handler)
                self.registered[RegistrationKey(site.file.path, call.line, call.col)] = handler
                if handler is not None and call.operation is not None:
                    by_path.setdefault(handler.path, {})[handler.name] = handler
                    self.operations_of.setdefault(handler, []).append(call.operation)
        layers = frozenset(index.config.registry.handler_layers)
        if layers:
            derived = {
                base.split("[", 1)[0].rsplit(".", 1)[-1]
                for source in index.files.values()
                for cls in source.facts.classes
                for base in cls.bases
            }
            for source in index.files.values():
                if source.layer is None or source.layer.layer not in layers:
                    continue
                for cls in source.facts.classes:
                    if cls.name in derived or not any(m.name == "execute" for m in cls.methods):
                        continue
                    by_path.setdefault(source.path, {}).setdefault(cls.name, _handler(source, cls))
        self.by_path: dict[str, tuple[HandlerClass, ...]] = {
            path: tuple(sorted(classes.values(), key=lambda h: (h.line, h.col)))
            for path, classes in sorted(by_path.items())
        }

    def is_handler_module(self, path: str) -> bool:
        return path in self.by_path

    def is_handler(self, cls: HandlerClass) -> bool:
        return cls in self.by_path.get(cls.path, ())

    def describe_module(self, path: str) -> str:
        """`IncidentQueryHandler ('incidents.query')` for a message."""
        described = []
        for handler in self.by_path.get(path, ()):
            operations = sorted(set(self.operations_of.get(handler, [])))
            names = ", ".join(f"'{op}'" for op in operations)
            described.append(f"{handler.name} ({names})" if names else handler.name)
        return ", ".join(described)
