"""Checking the `contracts:` of layerguard.yaml on the project import graph.

Each contract type is checked with import-linter's semantics, on grimp's graph of layerguard's
facts: `acyclic_siblings` with `nominate_cycle_breakers`, `protected` and direct `forbidden`
with direct imports, as import-linter does. Chains (`layers`, `independence`, `forbidden`) are
judged as `find_illegal_dependencies_for_layers` and `find_shortest_chains` judge them, but
every pair of modules with a chain is reported: those functions remove each chain found
before looking for the next, so that what they return depends on the order grimp meets
modules (see `ProjectGraph.chains_between` and `layered_chains`). What differs otherwise is
what the graph holds (see import_graph.py) and how module patterns are written
(layerguard's, with `{placeholder}` segments).

A check returns plain data: the broken chains (each with where its first import stands), the
`ignore_imports` entries that matched nothing, and the modules a contract names that the
project does not have. Rules (rules/contracts.py) turn them into findings; `layerguard graph
--contract` draws them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from layerguard.contracts.config.model import (
    AcyclicSiblingsContract,
    ForbiddenContract,
    IgnoredImport,
    ImportContract,
    ImportScopePolicy,
    IndependenceContract,
    LayersContract,
    ProjectConfig,
    ProtectedContract,
)
from layerguard.contracts.patterns import MODULE, PlaceholderRule, pattern_regex
from layerguard.linter.graph.import_graph import (
    Hop,
    ImportSite,
    ProjectGraph,
    Unit,
    chain_text,
    project_graph,
)
from layerguard.linter.project.index import ProjectIndex
from layerguard.linter.rules import codes

if TYPE_CHECKING:
    import grimp

CONTRACT_CODES: dict[str, str] = {
    LayersContract.type: codes.LAYERS_CONTRACT_BROKEN,
    ForbiddenContract.type: codes.FORBIDDEN_CONTRACT_BROKEN,
    IndependenceContract.type: codes.INDEPENDENCE_CONTRACT_BROKEN,
    AcyclicSiblingsContract.type: codes.ACYCLIC_SIBLINGS_CONTRACT_BROKEN,
    ProtectedContract.type: codes.PROTECTED_CONTRACT_BROKEN,
}
"""The rule that reports each contract type's violations."""


@dataclass(frozen=True, slots=True)
class Violation:
    """A chain of imports a contract forbids (two modules long when the import is direct),
    reported at `site`: a statement of its first import, in the importing file.

    `what` says in words which part of the contract it breaks, e.g. "`pkg.low` is below
    `pkg.high`"; chains from one statement to one `upstream` module break the same part.
    """

    chain: tuple[str, ...]
    hops: tuple[Hop, ...]
    site: ImportSite
    what: str
    upstream: str  # the contract's module the chain reaches: a higher layer, a forbidden one
    downstream: str | None = None  # the contract's module it starts in, if it names one

    def text(self) -> str:
        return chain_text(self.hops, self.site)

    @property
    def importer(self) -> str:
        return self.chain[0]

    @property
    def imported(self) -> str:
        return self.chain[-1]


@dataclass(frozen=True, slots=True)
class Undeclared:
    """A child of a container that an exhaustive `layers` contract does not list."""

    module: str
    container: str


@dataclass(frozen=True, slots=True)
class MissingModule:
    """A module a contract names that the project does not have (`key_path` in the file)."""

    key_path: str
    text: str
    message: str


@dataclass(slots=True)
class ContractCheck:
    """Everything a contract found wrong."""

    contract: ImportContract
    violations: list[Violation] = field(default_factory=list)
    undeclared: list[Undeclared] = field(default_factory=list)
    missing: list[MissingModule] = field(default_factory=list)
    unmatched: list[IgnoredImport] = field(default_factory=list)


def contract_policy(config: ProjectConfig, contract: ImportContract) -> ImportScopePolicy:
    """The imports a contract counts: every import (as import-linter counts them), then the
    `import_scopes` of its rule code, then its own."""
    policy = config.scope_policy(CONTRACT_CODES[contract.type], ImportScopePolicy())
    return policy if contract.import_scopes is None else contract.import_scopes.apply(policy)


def named_externals(config: ProjectConfig, top_packages: Collection[str]) -> frozenset[str]:
    """External modules some contract or indirect `forbid.modules` names (those under none
    of the project's `top_packages`): they get nodes of their own, so that `sqlalchemy.orm`
    can be forbidden while `sqlalchemy.sql` is not."""
    names = {
        name
        for contract in config.contracts
        if isinstance(contract, ForbiddenContract)
        for name in contract.forbidden_modules
        if "*" not in name and "{" not in name
    }
    names.update(
        name for layer in config.layers if layer.forbid_indirect for name in layer.forbidden_modules
    )
    return frozenset(name for name in names if name.split(".")[0] not in top_packages)


def graph_for(index: ProjectIndex, policy: ImportScopePolicy) -> ProjectGraph:
    """The shared project graph of `policy`, with the external nodes every contract needs."""
    return project_graph(index, policy, named_externals(index.config, index.top_packages))


def check_contracts(index: ProjectIndex) -> dict[str, ContractCheck]:
    """Every contract's check, by contract id; computed once per index (each contract type's
    rule reads its own)."""
    found: dict[str, ContractCheck] | None = index.derived.get("contract checks")
    if found is None:
        found = {c.id: check_contract(index, c) for c in index.config.contracts}
        index.derived["contract checks"] = found
    return found


def check_contract(index: ProjectIndex, contract: ImportContract) -> ContractCheck:
    graph = graph_for(index, contract_policy(index.config, contract))
    checker = _Checker(index, contract, graph)
    checker.remove_ignored_imports()
    if isinstance(contract, LayersContract):
        checker.layers(contract)
    elif isinstance(contract, ForbiddenContract):
        checker.forbidden(contract)
    elif isinstance(contract, IndependenceContract):
        checker.independence(contract)
    elif isinstance(contract, AcyclicSiblingsContract):
        checker.acyclic_siblings(contract)
    elif isinstance(contract, ProtectedContract):
        checker.protected(contract)
    return checker.result


class _Checker:
    def __init__(self, index: ProjectIndex, contract: ImportContract, graph: ProjectGraph) -> None:
        self.index = index
        self.contract = contract
        self.project_graph = graph
        self.graph: grimp.ImportGraph = graph.graph
        self.result = ContractCheck(contract)
        self.rules = {
            p.name: PlaceholderRule(values=p.values, exclude=p.exclude)
            for p in index.config.placeholders
        }
        self.key_path = f"contracts[{index.config.contracts.index(contract)}]"

    # --- module patterns --------------------------------------------------------------------

    def regex(self, pattern: str) -> re.Pattern[str]:
        return re.compile(pattern_regex(pattern, MODULE, self.rules, below=False))

    def matching(self, pattern: str, modules: Iterable[str]) -> set[str]:
        """The modules a pattern names (exactly: not what is below them)."""
        if "*" not in pattern and "{" not in pattern:
            return {pattern} & set(modules)
        regex = self.regex(pattern)
        return {module for module in modules if regex.match("." + module)}

    def expand(
        self, key: str, patterns: Iterable[str], modules: Collection[str], required: bool = True
    ) -> set[str]:
        """The modules of a contract's list; a pattern that names none is reported."""
        found: set[str] = set()
        for i, pattern in enumerate(patterns):
            matches = self.matching(pattern, modules)
            if not matches and required:
                self.missing(
                    f"{key}[{i}]", pattern, f"`{pattern}` matches no module of the project"
                )
            found |= matches
        return found

    def missing(self, key: str, text: str, message: str) -> None:
        self.result.missing.append(MissingModule(f"{self.key_path}.{key}", text, message))

    @property
    def internal(self) -> frozenset[str]:
        return self.project_graph.internal

    # --- violations -------------------------------------------------------------------------

    def chain(
        self, chain: tuple[str, ...], what: str, upstream: str, downstream: str | None = None
    ) -> None:
        """One violation for a chain, at the first statement of its first import; a direct
        import gives one per statement."""
        hops = self.project_graph.hops(chain)
        if not hops or not hops[0].sites:
            return
        sites = hops[0].sites if len(chain) == 2 else hops[0].sites[:1]
        for site in sites:
            self.result.violations.append(Violation(chain, hops, site, what, upstream, downstream))

    def remove_ignored_imports(self) -> None:
        """Leave the `ignore_imports` out of this contract's graph (on a copy), noting the
        entries that match no import."""
        if not self.contract.ignore_imports:
            return
        edges = self.project_graph.edges
        removed: set[tuple[str, str]] = set()
        for entry in self.contract.ignore_imports:
            importer, imported = self.regex(entry.importer), self.regex(entry.imported)
            matched = {
                (a, b)
                for a, b in edges
                if importer.match("." + a) is not None and imported.match("." + b) is not None
            }
            if matched:
                removed |= matched
            else:
                self.result.unmatched.append(entry)
        if removed:
            self.project_graph = self.project_graph.copy()
            self.graph = self.project_graph.graph
            for a, b in sorted(removed):
                self.graph.remove_import(importer=a, imported=b)

    # --- layers -----------------------------------------------------------------------------

    def layers(self, contract: LayersContract) -> None:

        containers: list[str] = []
        if contract.containers:
            containers = sorted(self.expand("containers", contract.containers, self.internal))
            for container in containers:
                for j, layer in enumerate(contract.layers):
                    for name in layer.modules:
                        module = f"{container}.{name}"
                        if name not in layer.optional and module not in self.internal:
                            self.missing(
                                f"layers[{j}]",
                                name,
                                f"layer `{name}` is missing in container `{container}` (write "
                                f"`({name})` if it is optional)",
                            )
        else:
            for j, layer in enumerate(contract.layers):
                for name in layer.modules:
                    if name not in layer.optional and name not in self.internal:
                        self.missing(
                            f"layers[{j}]", name, f"layer `{name}` matches no module of the project"
                        )
        if contract.exhaustive:
            declared = {n for layer in contract.layers for n in layer.modules}
            declared |= set(contract.exhaustive_ignores)
            for container in containers:
                for child in sorted(self.graph.find_children(container)):
                    if child.rpartition(".")[2] not in declared:
                        self.result.undeclared.append(Undeclared(child, container))
        if contract.containers and not containers:
            return
        groups = [
            [
                Unit(
                    f"{container}.{name}" if container else name,
                    j,
                    layer.independent,
                    frozenset(self.package(f"{container}.{name}" if container else name)),
                )
                for j, layer in enumerate(contract.layers)
                for name in layer.modules
            ]
            for container in (containers or [""])
        ]
        self.layered(groups)

    def layered(self, groups: list[list[Unit]]) -> None:
        for lower, upper, chain in self.project_graph.layered_chains(groups):
            if upper.level == lower.level:
                what = f"`{lower.name}` and `{upper.name}` are independent siblings on one level"
            else:
                what = f"`{lower.name}` is below `{upper.name}`"
            self.chain(chain, what, upper.name, lower.name)

    # --- forbidden --------------------------------------------------------------------------

    def forbidden(self, contract: ForbiddenContract) -> None:
        sources = self.expand("source_modules", contract.source_modules, self.internal)
        nodes = self.graph.modules
        forbidden: set[str] = set()
        for i, pattern in enumerate(contract.forbidden_modules):
            matches = self.matching(pattern, nodes)
            internal = pattern.split(".")[0] in self.index.top_packages
            if not matches and internal:
                self.missing(
                    f"forbidden_modules[{i}]",
                    pattern,
                    f"`{pattern}` matches no module of the project",
                )
            forbidden |= matches
        as_packages = contract.as_packages
        for source in sorted(sources):
            reachable = (
                self.graph.find_upstream_modules(source, as_package=as_packages)
                if contract.indirect
                else self.graph.find_modules_directly_imported_by(source, as_package=as_packages)
            )
            if as_packages:
                reachable = {a for name in reachable for a in _self_and_ancestors(name)}
            for target in sorted(reachable & forbidden):
                if _overlap(source, target, as_packages):
                    continue
                what = f"`{source}` must not import `{target}`"
                chains: Iterable[tuple[str, ...]]
                if contract.indirect:
                    chains = self.project_graph.chains_between(
                        self.package(source, as_packages), self.package(target, as_packages)
                    ).values()
                else:
                    chains = self.direct_chains(source, target, as_packages)
                for chain in sorted(chains):
                    self.chain(chain, what, target, source)

    def package(self, module: str, as_packages: bool = True) -> set[str]:
        """A module, with what is below it when modules stand for packages (none when the
        project has no such module)."""
        if module not in self.graph.modules:
            return set()
        return {module} | (self.graph.find_descendants(module) if as_packages else set())

    def direct_chains(self, source: str, target: str, as_packages: bool) -> set[tuple[str, ...]]:
        sources, targets = self.package(source, as_packages), self.package(target, as_packages)
        return {
            (module, imported)
            for module in sources
            for imported in self.graph.find_modules_directly_imported_by(module)
            if imported in targets
        }

    # --- independence -----------------------------------------------------------------------

    def independence(self, contract: IndependenceContract) -> None:
        modules = self.expand("modules", contract.modules, self.internal)
        # A match inside another (`a.*` and `a.b`) is part of it: units do not overlap.
        outermost = [m for m in sorted(modules) if not any(m.startswith(o + ".") for o in modules)]
        units = [Unit(m, 0, True, frozenset(self.package(m))) for m in outermost]
        for lower, upper, chain in self.project_graph.layered_chains([units]):
            what = f"`{lower.name}` and `{upper.name}` must be independent"
            self.chain(chain, what, upper.name, lower.name)

    # --- acyclic siblings -------------------------------------------------------------------

    def acyclic_siblings(self, contract: AcyclicSiblingsContract) -> None:
        ancestors = self.expand("ancestors", contract.ancestors, self.internal)
        skipped = self.expand("skip_descendants", contract.skip_descendants, self.internal)
        for ancestor in sorted(ancestors):
            for package, breakers in self.cycle_breakers(ancestor, contract.depth, skipped):
                depth = package.count(".") + 2
                for importer, imported in sorted(breakers):
                    downstream = ".".join(importer.split(".")[:depth])
                    upstream = ".".join(imported.split(".")[:depth])
                    back = self.graph.find_shortest_chain(upstream, downstream, as_packages=True)
                    through = " → ".join(f"`{module}`" for module in back or ())
                    what = f"`{downstream}` and `{upstream}` (in `{package}`) import each other"
                    if through:
                        what += f" (back through {through})"
                    self.chain((importer, imported), what, upstream, downstream)

    def cycle_breakers(
        self, ancestor: str, depth: int, skipped: set[str]
    ) -> Iterator[tuple[str, set[tuple[str, str]]]]:
        children = self.graph.find_children(ancestor)
        if len(children) >= 2:
            breakers = self.graph.nominate_cycle_breakers(ancestor)
            if breakers:
                yield ancestor, breakers
        if depth:
            for child in sorted(children - skipped):
                yield from self.cycle_breakers(child, depth - 1, skipped)

    # --- protected --------------------------------------------------------------------------

    def protected(self, contract: ProtectedContract) -> None:
        as_packages = contract.as_packages
        allowed = self.expand(
            "allowed_importers", contract.allowed_importers, self.internal, required=False
        )
        if as_packages:
            allowed |= {d for module in allowed for d in self.graph.find_descendants(module)}
        tops = self.expand("protected_modules", contract.protected_modules, self.internal)
        for top in sorted(tops):
            protected = {top}
            if as_packages:
                protected |= self.graph.find_descendants(top)
            importers = (
                self.graph.find_modules_that_directly_import(top, as_package=as_packages)
                - allowed
                - protected
            )
            links = sorted(
                (importer, module)
                for importer in importers
                for module in self.graph.find_modules_directly_imported_by(importer) & protected
            )
            for importer, module in links:
                self.chain(
                    (importer, module), f"only the allowed importers may import `{top}`", top
                )


def _self_and_ancestors(name: str) -> Iterator[str]:
    while name:
        yield name
        name = name.rpartition(".")[0]


def _overlap(source: str, target: str, as_packages: bool) -> bool:
    """import-linter skips a source and a forbidden module that are one, or (as packages)
    one inside the other: they describe no import to forbid."""
    if source == target:
        return True
    return as_packages and (source.startswith(target + ".") or target.startswith(source + "."))
