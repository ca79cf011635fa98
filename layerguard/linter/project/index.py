"""ProjectIndex: the facts of every file joined with the contract — what rules query.

It maps files to modules (source roots, namespace packages), modules and files to layers and
domains, and resolves every import to an absolute target. It reads nothing from disk: the
engine hands it the facts and the cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from layerguard.contracts.cards.location import card_source_file
from layerguard.contracts.cards.model import CardParseResult
from layerguard.contracts.config.model import ImportScopePolicy, ProjectConfig
from layerguard.contracts.layers import LayerMap, LayerMatch
from layerguard.linter.facts.model import (
    FileFacts,
    ImportFact,
    RegistryCall,
    Scope,
    SessionConstruction,
    TransactionCall,
)
from layerguard.linter.facts.settings import SQLALCHEMY_PACKAGES
from layerguard.linter.project.modules import ModuleName, module_for_path, resolve_relative


@dataclass(slots=True)
class SourceFile:
    path: str  # project-relative, posix
    module: ModuleName | None  # None outside every source root
    layer: LayerMatch | None
    facts: FileFacts
    imports: list[ResolvedImport] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ResolvedImport:
    """An import fact with its absolute target.

    `target` is the submodule for `from pkg import sub` when `pkg.sub` is a project module,
    else the `from` module. `names` are the dotted names to test against forbidden prefixes:
    for an external `from pkg import name`, `name` may be a submodule, so both count.
    """

    fact: ImportFact
    target: str
    names: tuple[str, ...]
    file: SourceFile | None  # the project file of `target`, if it is one
    layer: LayerMatch | None


@dataclass(frozen=True, slots=True)
class OperationSite:
    """A registry call in a file: a registration, a dispatch or a handler lookup."""

    file: SourceFile
    call: RegistryCall


def counts(scope: int, policy: ImportScopePolicy) -> bool:
    """Whether an import in `scope` counts for a rule with `policy`."""
    if scope & Scope.TYPE_CHECKING and not policy.type_checking:
        return False
    if scope & Scope.LAZY and not policy.lazy:
        return False
    return not (scope & Scope.CONDITIONAL and not policy.conditional)


class ProjectIndex:
    def __init__(
        self,
        config: ProjectConfig,
        layer_map: LayerMap,
        facts: dict[str, FileFacts],
        cards: dict[str, CardParseResult] | None = None,
        other_files: frozenset[str] = frozenset(),
        documents: frozenset[str] = frozenset(),
    ) -> None:
        self.config = config
        self.layer_map = layer_map
        self.layers = {layer.id: layer for layer in config.layers}
        self.cards: dict[str, CardParseResult] = cards or {}
        self.other_files = other_files
        """Files that cards describe which exist but are not project files (excluded, outside
        the source roots): their cards are not stale."""
        self.documents = documents
        """Markdown files under `cards.paths` that are not cards (index pages, summaries):
        counted, never checked."""
        self.derived: dict[str, Any] = {}
        """What other modules derive from the files and keep for the index's lifetime (the
        import graphs, the contract checks): dropped with the cached properties when a file's
        facts are replaced."""
        self.files: dict[str, SourceFile] = {}
        self.by_module: dict[str, SourceFile] = {}
        self.packages: set[str] = set()  # every package, namespace packages included
        top_packages: set[str] = set()
        roots = layer_map.source_roots
        for path in sorted(facts):
            module = module_for_path(path, roots)
            source = SourceFile(path, module, layer_map.classify_path(path), facts[path])
            self.files[path] = source
            if module is not None:
                self.by_module.setdefault(module.name, source)
                parts = module.name.split(".")
                self.packages.update(".".join(parts[:i]) for i in range(1, len(parts)))
                top_packages.add(parts[0])
        self.top_packages = frozenset(top_packages)
        """The first name of every project module: an import of a name under one of them is
        internal (the import graph, the contracts)."""
        for source in self.files.values():
            source.imports = self._resolve_imports(source)

    def replace_facts(self, path: str, facts: FileFacts) -> None:
        """New facts for a project file the index has (`check --watch` after a save): the
        file keeps its module and layer, its imports are resolved again, and whatever the
        index derived from the files is derived again on next use. Other files' resolved
        imports stay: they depend on which modules exist, not on their content."""
        source = self.files[path]
        source.facts = facts
        source.imports = self._resolve_imports(source)
        self.derived.clear()
        for name, member in vars(ProjectIndex).items():
            if isinstance(member, cached_property):
                self.__dict__.pop(name, None)

    def layer_of_module(self, module: str) -> LayerMatch | None:
        """A project module's file decides its layer; other modules go by their virtual path."""
        source = self.by_module.get(module)
        if source is not None:
            return source.layer
        return self.layer_map.classify_module(module)

    def transaction_calls(self, source: SourceFile) -> list[TransactionCall]:
        """The file's transaction calls but those on a project module, which a `from` import
        named (`from app import git` then `git.commit()`): a module is not a session. (The
        extractor already dropped the modules `import` statements name.)"""
        return [
            call
            for call in source.facts.transaction_calls
            if call.origin is None
            or (target := self._absolute(source, call.origin)) is None
            or (target not in self.by_module and target not in self.packages)
        ]

    def session_constructions(self, source: SourceFile) -> list[SessionConstruction]:
        """The file's session constructions whose factory is SQLAlchemy's (or SQLModel's), the
        project's own, or of no known origin (a name no import binds: the file defines it, or
        a star import brought it): never another package's (`requests.Session()`)."""
        return [
            built
            for built in source.facts.session_constructions
            if built.origin is None
            or built.origin.startswith(".")
            or (top := built.origin.partition(".")[0]) in SQLALCHEMY_PACKAGES
            or top in self.top_packages
        ]

    @staticmethod
    def _absolute(source: SourceFile, origin: str) -> str | None:
        """An origin with the leading dots of a relative import made absolute."""
        name = origin.lstrip(".")
        level = len(origin) - len(name)
        if not level:
            return origin
        return resolve_relative(source.module, level, name) if source.module is not None else None

    def _resolve_imports(self, source: SourceFile) -> list[ResolvedImport]:
        resolved = []
        for fact in source.facts.imports:
            base: str | None = fact.module
            if fact.level:
                base = (
                    resolve_relative(source.module, fact.level, fact.module)
                    if source.module is not None
                    else None
                )
            if not base and fact.name in (None, "*"):
                continue  # unresolvable relative import: Python itself would refuse it
            target, names = self._target(base or "", fact.name)
            if not target:
                continue
            file = self.by_module.get(target)
            layer = file.layer if file is not None else self.layer_map.classify_module(target)
            resolved.append(ResolvedImport(fact, target, names, file, layer))
        return resolved

    def _target(self, base: str, name: str | None) -> tuple[str, tuple[str, ...]]:
        if name is None or name == "*":
            return base, (base,)
        child = f"{base}.{name}" if base else name
        if child in self.by_module or child in self.packages:
            return child, (child,)
        if not base:
            return "", ()
        if base in self.by_module:
            return base, (base,)
        return base, (base, child)

    @cached_property
    def card_sources(self) -> dict[str, str | None]:
        """Card path -> the project-relative file its `**Path:**` names (None: no such path).

        Only cards that could be read are present.
        """
        root = self.config.cards.root
        return {
            path: card_source_file(result.card.source_path.value, root)
            for path, result in self.cards.items()
            if result.card is not None
        }

    @cached_property
    def card_of_file(self) -> dict[str, str]:
        """Project file -> the path of the card describing it (the first one, by card path)."""
        found: dict[str, str] = {}
        for card_path, source in sorted(self.card_sources.items()):
            if source is not None and source in self.files:
                found.setdefault(source, card_path)
        return found

    @cached_property
    def registrations(self) -> dict[str, list[OperationSite]]:
        """Operation name -> the `register` calls that register it."""
        return self._sites("register")

    @cached_property
    def dispatches(self) -> dict[str, list[OperationSite]]:
        """Operation name -> the `execute` calls that dispatch it."""
        return self._sites("execute")

    def _sites(self, kind: str) -> dict[str, list[OperationSite]]:
        sites: dict[str, list[OperationSite]] = {}
        for source in self.files.values():
            for call in source.facts.registry_calls:
                if call.kind == kind and call.operation is not None:
                    sites.setdefault(call.operation, []).append(OperationSite(source, call))
        return sites
