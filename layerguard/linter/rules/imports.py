"""LG1xx: imports that cross the layer contract.

Each rule reports an import statement once (`from x import a, b` is one finding naming what
it breaks). With `forbid.indirect: true`, LG101 and LG102 also report chains of imports from
the layer to what it must not import, on the project import graph (graph/import_graph.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import TYPE_CHECKING

from layerguard.contracts.config.model import AllowedImport, ImportScopePolicy, Layer
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.project.index import ProjectIndex, SourceFile
from layerguard.linter.rules import codes
from layerguard.linter.rules.base import Example, ImportRule

if TYPE_CHECKING:
    from layerguard.linter.graph.import_graph import Hop, ImportSite

API = "backend/app/hoc/api/cus/policies/policies.py"
FACADE = "backend/app/hoc/api/facades/cus/policies.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
OTHER_ENGINE = "backend/app/hoc/cus/incidents/L5_engines/incident_engine.py"
DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
OTHER_DRIVER = "backend/app/hoc/cus/incidents/L6_drivers/incident_driver.py"
SCHEMAS = "backend/app/hoc/cus/policies/L5_schemas/policy_schemas.py"
REGISTRY = "backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.py"


def allow_covers(
    index: ProjectIndex, allowed: AllowedImport, source: SourceFile, names: Iterable[str]
) -> bool:
    """Whether an `allow` entry covers an import of `names` by `source` (`{domain}` in it
    stands for the importing file's domain)."""
    layer_map = index.layer_map
    domain = source.layer.domain if source.layer is not None else None
    importer = source.module.name if source.module is not None else ""
    if allowed.importer is not None and not layer_map.module_matches(
        allowed.importer, importer, domain
    ):
        return False
    return any(layer_map.module_matches(allowed.module, name, domain) for name in names)


def allowed_by_exception(
    index: ProjectIndex, layer: Layer, source: SourceFile, names: Iterable[str]
) -> bool:
    """Whether one of the importer layer's `allow` entries covers an import of `names`."""
    names = tuple(names)
    return any(allow_covers(index, allowed, source, names) for allowed in layer.allow)


def indirect_chains(
    rule: ImportRule, index: ProjectIndex, layer: Layer, targets: Collection[str]
) -> Iterator[tuple[SourceFile, list[tuple[tuple[str, ...], tuple[Hop, ...]]]]]:
    """The chains (three modules or more: direct imports are the rule's own findings) from
    the modules of `layer` to the `targets`, through modules that are neither, on the graph of
    the imports `rule` counts; each with the text of its imports. A chain whose ends an
    `allow` entry of the layer covers is left out, as the direct import would be."""
    from layerguard.linter.graph.contracts import graph_for

    policy = rule.scope_policy(index)
    graph = graph_for(index, policy)
    sources = {
        source.module.name: source
        for source in index.files.values()
        if source.module is not None and source.layer is not None and source.layer.layer == layer.id
    }
    by_site: dict[ImportSite, list[tuple[tuple[str, ...], tuple[Hop, ...]]]] = {}
    for chain in sorted(graph.chains_between(sources, targets).values()):
        if len(chain) < 3 or allowed_by_exception(index, layer, sources[chain[0]], chain[-1:]):
            continue
        hops = graph.hops(chain)
        if hops[0].sites:
            by_site.setdefault(hops[0].sites[0], []).append((chain, hops))
    for _, chains in sorted(by_site.items()):
        yield sources[chains[0][0][0]], chains


def chains_finding(
    rule: ImportRule,
    source: SourceFile,
    chains: list[tuple[tuple[str, ...], tuple[Hop, ...]]],
    subject: str,
    what: list[str],
    layer: Layer,
) -> Diagnostic:
    """One finding for the chains that start at one import statement: the first chain in
    full, the other modules they reach named."""
    from layerguard.linter.graph.import_graph import chain_text

    chain, hops = chains[0]
    site = hops[0].sites[0]
    also = f"; also reaches {', '.join(what[1:])} from there" if len(what) > 1 else ""
    ends = ", ".join(dict.fromkeys(c[-1] for c, _ in chains))
    return rule.finding(
        source,
        site.line,
        site.col,
        f"{subject} must not depend on {what[0]}, even indirectly: {chain_text(hops, site)}"
        f"{also}; remove an import of the chain, or add an `allow:` exception with a reason",
        f"{layer.id}:{chain[0]}->{ends}",
    )


def describe(index: ProjectIndex, layer_id: str, domain: str | None = None) -> str:
    """`L2 (API routes)`, or with a domain `L5 (Domain engines) of domain 'policies'`."""
    layer = index.layers.get(layer_id)
    name = f"{layer_id} ({layer.name})" if layer is not None else layer_id
    return f"{name} of domain '{domain}'" if domain else name


class ForbiddenLayerImport(ImportRule):
    code = codes.FORBIDDEN_LAYER_IMPORT
    summary = "A module imports a layer that its own layer may not import."
    catches = """
An import, in a file of a layer, of a module in one of the layers its layer lists under
`forbid.layers`, unless one of its layer's `allow` entries covers it. Every form counts:
`import x`, `from x import y`, relative imports, imports inside functions, and
`importlib.import_module("...")` with a literal name. By default every import scope counts.
"""
    why = """
`forbid.layers` lists the dependencies that break the architecture. HTTP routes that import
engines or drivers bypass the operation registry, and with it the authority check and the
audit record of every dispatch; an engine that imports a route turns the dependency graph
upside down, so that a change to the HTTP surface can break domain logic.
"""
    instead = """
Depend on a layer you may use instead: a route dispatches an operation through the registry
rather than calling the engine. When the dependency is intended, declare it under the
importing layer's `allow:` with a reason, where it is reviewed with the contract.
"""
    options = """
- `layers[].forbid.layers`: the layers each layer must not import.
- `layers[].allow`: exceptions, each a `module` pattern with a `reason`, optionally narrowed
  to importing modules matching `importer`; `{domain}` in `module` stands for the importing
  file's own domain.
- `layers[].paths`, `layers[].modules`, `layers[].exclude`: which files and modules belong to
  which layer, on both sides of an import.
"""
    valid = (
        Example(
            {
                API: """
                    from app.hoc.cus.hoc_spine.orchestrator.operation_registry import (
                        get_operation_registry,
                    )
                    from app.hoc.cus.policies.L5_schemas.policy_schemas import PolicyIn
                """,
                REGISTRY: "",
                SCHEMAS: "",
            },
            title="A route uses the registry and its own domain's schemas",
        ),
    )
    invalid = (
        Example(
            {
                API: """
                    from app.hoc.cus.policies.L5_engines.policy_engine import PolicyEngine
                    from ....cus.policies.L6_drivers import policy_driver

                    async def handler():
                        import app.models.policy as models
                """,
                ENGINE: "",
                DRIVER: "",
                "backend/app/models/policy.py": "",
            },
            expected=((API, 1), (API, 2), (API, 5)),
            title="A route imports an engine, a driver (relative) and a model (lazily)",
        ),
        Example(
            {
                FACADE: """
                    import importlib

                    def load():
                        return importlib.import_module(
                            "app.hoc.cus.policies.L5_engines.policy_engine"
                        )
                """,
                ENGINE: "",
            },
            expected=((FACADE, 4),),
            title="A facade loads an engine dynamically",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        yield from self.direct(index)
        for layer in index.config.layers:
            if layer.forbid_indirect and layer.forbidden_layers:
                yield from self._indirect(index, layer)

    def direct(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        """The findings of direct imports (the graph view marks their edges)."""
        forbidding = {layer.id: frozenset(layer.forbidden_layers) for layer in index.config.layers}
        constrained = [layer_id for layer_id, forbidden in forbidding.items() if forbidden]
        for source, layer, statement in self.constrained_statements(index, constrained):
            targets: dict[str, str] = {}  # imported module -> its layer
            for resolved in statement:
                target = resolved.layer
                if target is None or target.layer not in forbidding[layer.id]:
                    continue
                if not allowed_by_exception(index, layer, source, resolved.names):
                    targets.setdefault(resolved.target, target.layer)
            if targets:
                what = ", ".join(
                    f"{describe(index, t)} `{module}`" for module, t in targets.items()
                )
                yield self.statement_finding(
                    source,
                    statement,
                    f"{describe(index, layer.id)} must not import {what}; go through a layer "
                    f"{layer.id} may use, or add an `allow:` exception with a reason",
                    targets,
                )

    def _indirect(self, index: ProjectIndex, layer: Layer) -> Iterator[Diagnostic]:
        forbidden = frozenset(layer.forbidden_layers)
        targets: dict[str, str] = {}
        for module in sorted({*index.by_module, *index.packages}):
            match = index.layer_of_module(module)
            if match is not None and match.layer in forbidden:
                targets[module] = match.layer
        for source, chains in indirect_chains(self, index, layer, targets):
            what = [
                f"{describe(index, targets[end])} `{end}`"
                for end in dict.fromkeys(chain[-1] for chain, _ in chains)
            ]
            yield chains_finding(self, source, chains, describe(index, layer.id), what, layer)


class ForbiddenModuleImport(ImportRule):
    code = codes.FORBIDDEN_MODULE_IMPORT
    summary = "A module imports an external package or module its layer forbids."
    default_scope = ImportScopePolicy(type_checking=False)
    catches = """
An import, in a file of a layer, of a package or module its layer lists under
`forbid.modules`, matched by dotted prefix: `sqlalchemy` forbids `sqlalchemy.ext.asyncio` and
`from sqlalchemy import text` alike, not `sqlalchemy_utils`. An `allow` entry of the layer
covers an exception. Imports under `if TYPE_CHECKING:` do not count by default.
"""
    why = """
`forbid.layers` can only name layers of the contract; `forbid.modules` keeps out what no layer
describes, usually third-party packages. In the hoc preset HTTP routes never touch
`sqlalchemy`, `sqlmodel` or `app.db`: the session reaches them through the runtime's
dependency and the database work happens below, in the request's unit of work. Type-only
imports are exempt by default because they cost nothing at run time.
"""
    instead = """
Move the code that needs the package into a layer that may use it, or use what the runtime
exports (`layerguard.runtime.integrations.fastapi.SessionDep` instead of `AsyncSession`). An
import needed only for annotations belongs under `if TYPE_CHECKING:`.
"""
    options = """
- `layers[].forbid.modules`: the packages and modules each layer must not import.
- `layers[].allow`: exceptions, each a `module` pattern with a `reason` and an optional
  `importer`, as for LG101.
- `layers[].paths`, `layers[].modules`, `layers[].exclude`: which files belong to which layer.
"""
    valid = (
        Example(
            {
                API: """
                    from typing import TYPE_CHECKING
                    if TYPE_CHECKING:
                        from sqlalchemy.ext.asyncio import AsyncSession
                    from layerguard.runtime import OperationContext
                """
            },
            title="A type-only import, and the runtime's own types",
        ),
    )
    invalid = (
        Example(
            {
                API: """
                    from sqlalchemy.ext.asyncio import AsyncSession
                    from sqlalchemy import text
                    import sqlmodel
                    from app import db
                    from app.db.session import get_db

                    def lazy():
                        import sqlalchemy.orm
                """
            },
            expected=((API, 1), (API, 2), (API, 3), (API, 4), (API, 5), (API, 8)),
            title="A route reaches the database directly",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        constrained = [layer.id for layer in index.config.layers if layer.forbidden_modules]
        for source, layer, statement in self.constrained_statements(index, constrained):
            imported: dict[str, str] = {}  # imported name -> the forbidden entry it is in
            for resolved in statement:
                forbidden = _forbidden_prefix(frozenset(layer.forbidden_modules), resolved.names)
                if forbidden is None:
                    continue
                if not allowed_by_exception(index, layer, source, resolved.names):
                    imported.setdefault(resolved.names[-1], forbidden)
            if imported:
                names = ", ".join(f"`{name}`" for name in imported)
                entries = ", ".join(f"`{entry}`" for entry in dict.fromkeys(imported.values()))
                yield self.statement_finding(
                    source,
                    statement,
                    f"{describe(index, layer.id)} must not import {names} (forbidden: "
                    f"{entries}); move this code to a layer that may use it",
                    imported,
                )
        for layer in index.config.layers:
            if layer.forbid_indirect and layer.forbidden_modules:
                yield from self._indirect(index, layer)

    def _indirect(self, index: ProjectIndex, layer: Layer) -> Iterator[Diagnostic]:
        from layerguard.linter.graph.contracts import graph_for

        policy = self.scope_policy(index)
        forbidden = frozenset(layer.forbidden_modules)
        targets = {
            module: entry
            for module in graph_for(index, policy).graph.modules
            if (entry := _forbidden_prefix(forbidden, (module,))) is not None
        }
        for source, chains in indirect_chains(self, index, layer, targets):
            what = [
                f"`{end}` (forbidden: `{targets[end]}`)"
                for end in dict.fromkeys(chain[-1] for chain, _ in chains)
            ]
            yield chains_finding(self, source, chains, describe(index, layer.id), what, layer)


def _forbidden_prefix(forbidden: frozenset[str], names: tuple[str, ...]) -> str | None:
    """The forbidden package or module that one of `names` is, or is inside of."""
    for name in names:
        end = len(name)
        while end > 0:
            if name[:end] in forbidden:
                return name[:end]
            end = name.rfind(".", 0, end)
    return None


class CrossDomainImport(ImportRule):
    code = codes.CROSS_DOMAIN_IMPORT
    summary = "A domain-isolated module imports the same layers of another domain."
    catches = """
An import, in a file of one of the `cross_domain_layers`, of a module in one of those layers
that belongs to another domain — the directory `{domain}` matches in their paths: an engine of
`policies` importing a driver or an engine of `incidents`. Modules without a domain are not
concerned, and an `allow` entry of the importing layer covers an exception.
"""
    why = """
Domains are meant to change independently. An engine of `policies` that imports a driver of
`incidents` couples the two below the orchestration spine, where nobody sees it: a change to
the incidents driver can break policies, and no operation boundary shows the dependency.
"""
    instead = """
Cross-domain work goes through the registry: dispatch the other domain's operation, or move
the shared piece to a spine service.
"""
    options = """
- `cross_domain_layers`: the layers private to their domain (L5 and L6 in the hoc preset);
  each needs `{domain}` in its paths or modules.
- `placeholders.domain`: which directory names are domains (`values`, `exclude`).
- `layers[].allow`: exceptions, as for LG101.
"""
    valid = (
        Example(
            {
                ENGINE: "from app.hoc.cus.policies.L6_drivers.policy_driver import load\n",
                DRIVER: "",
            },
            title="An engine uses its own domain's driver",
        ),
    )
    invalid = (
        Example(
            {
                ENGINE: """
                    from app.hoc.cus.incidents.L6_drivers.incident_driver import load
                    from app.hoc.cus.incidents.L5_engines import incident_engine
                """,
                OTHER_DRIVER: "",
                OTHER_ENGINE: "",
            },
            expected=((ENGINE, 1), (ENGINE, 2)),
            title="A policies engine reaches into incidents",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        isolated = frozenset(index.config.cross_domain_layers)
        for source, layer, statement in self.constrained_statements(index, isolated):
            own = source.layer
            if own is None or not own.domain:
                continue
            targets: dict[str, str] = {}  # imported module -> how its layer is described
            for resolved in statement:
                other = resolved.layer
                if other is None or other.layer not in isolated:
                    continue
                if not other.domain or other.domain == own.domain:
                    continue
                if not allowed_by_exception(index, layer, source, resolved.names):
                    targets.setdefault(resolved.target, describe(index, other.layer, other.domain))
            if targets:
                what = ", ".join(f"{where} `{module}`" for module, where in targets.items())
                yield self.statement_finding(
                    source,
                    statement,
                    f"{describe(index, own.layer, own.domain)} imports {what}; dispatch the "
                    "other domain's operation through the registry or move the shared code to "
                    "a spine service",
                    targets,
                )
