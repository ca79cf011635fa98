"""The operation catalogue: every operation the code names, who handles it, who dispatches it.

It is built from the index (cached facts), so it describes exactly what the LG4xx rules check:
files the config excludes are not in it. Operations are sorted by name; sites by path, line and
column. A call whose operation name is computed cannot be attributed to an operation, so it is
listed on its own as a *dynamic* site rather than silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from layerguard.contracts.config.model import ProjectConfig
from layerguard.linter.operations.handlers import HandlerClass, Handlers, RegistrationKey
from layerguard.linter.project.index import ProjectIndex

if TYPE_CHECKING:
    from layerguard.linter.project.extraction import Progress


@dataclass(frozen=True, slots=True, order=True)
class CallSite:
    """A registry call: `kind` is execute, register or lookup (a direct handler fetch)."""

    path: str
    line: int
    col: int
    kind: str
    callee: str  # as written, e.g. "registry.execute"
    symbol: str | None  # the enclosing function or method, None at module level
    operation: str | None  # None: the name is computed


@dataclass(frozen=True, slots=True)
class Registration:
    site: CallSite
    expression: str | None  # the handler as written, e.g. "PolicyQueryHandler"
    handler: HandlerClass | None  # None when the expression cannot be resolved


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    registrations: tuple[Registration, ...]
    dispatches: tuple[CallSite, ...]
    lookups: tuple[CallSite, ...]

    @property
    def registered(self) -> bool:
        return bool(self.registrations)

    @property
    def duplicated(self) -> bool:
        return len(self.registrations) > 1


@dataclass(frozen=True, slots=True)
class Catalogue:
    operations: tuple[Operation, ...]
    dynamic: tuple[CallSite, ...]  # registry calls with a computed operation name
    files: int
    unparsed: tuple[str, ...]  # files that do not parse: their registry calls are unknown

    @property
    def unregistered(self) -> tuple[Operation, ...]:
        return tuple(op for op in self.operations if not op.registered)


def build_catalogue(index: ProjectIndex, handlers: Handlers | None = None) -> Catalogue:
    """The catalogue of the indexed project; `handlers` may be shared with the rules."""
    handlers = handlers or Handlers(index)
    registrations: dict[str, list[Registration]] = {}
    dispatches: dict[str, list[CallSite]] = {}
    lookups: dict[str, list[CallSite]] = {}
    dynamic: list[CallSite] = []
    unparsed: list[str] = []
    for source in index.files.values():
        if source.facts.syntax_error is not None:
            unparsed.append(source.path)
        for call in source.facts.registry_calls:
            site = CallSite(
                source.path,
                call.line,
                call.col,
                call.kind,
                call.callee,
                call.symbol,
                call.operation,
            )
            if call.operation is None:
                dynamic.append(site)
            elif call.kind == "register":
                handler = handlers.registered.get(RegistrationKey(source.path, call.line, call.col))
                registrations.setdefault(call.operation, []).append(
                    Registration(site, call.handler, handler)
                )
            elif call.kind == "execute":
                dispatches.setdefault(call.operation, []).append(site)
            else:
                lookups.setdefault(call.operation, []).append(site)
    names = sorted({*registrations, *dispatches, *lookups})
    operations = tuple(
        Operation(
            name,
            tuple(sorted(registrations.get(name, []), key=lambda r: r.site)),
            tuple(sorted(dispatches.get(name, []))),
            tuple(sorted(lookups.get(name, []))),
        )
        for name in names
    )
    return Catalogue(operations, tuple(sorted(dynamic)), len(index.files), tuple(sorted(unparsed)))


def project_catalogue(
    project: ProjectConfig,
    jobs: int,
    use_cache: bool,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> tuple[Catalogue, bool]:
    """`layerguard operations`: the catalogue of the project, from the same cached facts as
    `check`, and whether the caches could be written."""
    from layerguard.linter.project.build import build_index

    built = build_index(project, jobs, use_cache, None, cache_dir, progress)
    return build_catalogue(built.index), built.cache_written
