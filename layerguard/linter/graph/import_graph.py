"""The project import graph: every module of the project and the imports between them, from
layerguard's own facts, in a grimp graph (the library import-linter is built on).

Built from the index rather than by grimp's own scanner, so it holds what the index knows and
other tools miss: modules in directories without `__init__.py`, imports inside functions with
their scope, `importlib.import_module("literal")`, relative dynamic imports; a file that does
not parse is LG001 and the rest of the project is still in the graph.

Nodes are the project's modules and packages (namespace packages too) and the external
packages they import: an external import is one node per top-level package, as grimp has it,
unless a contract names a module inside that package (`sqlalchemy.orm`), which then gets a
node of its own. Importing `pkg` is an edge to `pkg` (its `__init__.py`), so a re-export in a
package's `__init__.py` makes a chain through the package.

grimp is imported here only, and only when a graph is built: a run answered by the results
cache never imports it.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layerguard.contracts.config.model import ImportScopePolicy
from layerguard.linter.project.index import ProjectIndex, ResolvedImport, counts

if TYPE_CHECKING:
    import grimp


@dataclass(frozen=True, slots=True, order=True)
class ImportSite:
    """Where an import statement behind an edge of the graph stands (1-based line, column)."""

    path: str
    line: int
    col: int


Edge = tuple[str, str]
"""(importer, imported): a direct import between two modules of the graph."""


@dataclass(frozen=True, slots=True)
class Hop:
    """One import of a chain, with every statement that makes it (in file order)."""

    importer: str
    imported: str
    sites: tuple[ImportSite, ...]


def chain_text(hops: tuple[Hop, ...], site: ImportSite) -> str:
    """`a.x` → `b.y` (a/x.py:3) → `c.z` (b/y.py:7, 9): each import with where it stands. The
    first is shown at `site` alone when the chain is one import (each statement is its own
    finding), else with all its lines."""
    parts = [f"`{hops[0].importer}`"]
    for number, hop in enumerate(hops):
        sites = (site,) if number == 0 and len(hops) == 1 else hop.sites
        lines = ", ".join(str(s.line) for s in sites)
        parts.append(f"`{hop.imported}` ({sites[0].path}:{lines})")
    return " → ".join(parts)


class ProjectGraph:
    """The import graph of one import-scope policy, and where each of its edges comes from.

    `graph` is grimp's: contracts query it, and may remove edges from a `copy()`.
    """

    def __init__(
        self,
        graph: grimp.ImportGraph,
        sites: dict[Edge, list[ImportSite]],
        internal: frozenset[str],
    ) -> None:
        self.graph = graph
        self._sites = sites
        self.internal = internal  # the project's modules and packages

    def copy(self) -> ProjectGraph:
        """A graph whose edges can be removed without touching this one (sites are shared:
        they describe imports, which removing an edge does not change)."""
        return ProjectGraph(copy.deepcopy(self.graph), self._sites, self.internal)

    @property
    def edges(self) -> Collection[Edge]:
        """Every edge the graph was built with (including those removed since)."""
        return self._sites.keys()

    def sites(self, importer: str, imported: str) -> list[ImportSite]:
        """The import statements of an edge, in file order."""
        return self._sites.get((importer, imported), [])

    def hops(self, chain: tuple[str, ...]) -> tuple[Hop, ...]:
        return tuple(Hop(a, b, tuple(self.sites(a, b))) for a, b in itertools.pairwise(chain))

    def chains_between(
        self, sources: Collection[str], targets: Collection[str]
    ) -> dict[tuple[str, str], tuple[str, ...]]:
        """The shortest chain from each source to each target it reaches through modules that
        are neither: a chain leaves the sources at its first import and stops at the first
        target it reaches.

        Every (source, target) pair that has such a chain gets one, which is what a reader
        needs to fix them all. (grimp's `find_shortest_chains` removes each chain's imports
        before it looks for the next, so a shared import hides the other modules that depend
        on the target through it, and which ones it hides depends on the order it meets them.)
        On a copy of the graph, the imports into a source and out of a target are removed; then
        each source's targets are those it still reaches.
        """
        modules = self.graph.modules
        source_set = {m for m in sources if m in modules}
        target_set = {m for m in targets if m in modules} - source_set
        if not source_set or not target_set:
            return {}
        graph = copy.deepcopy(self.graph)
        for module in source_set:
            for importer in graph.find_modules_that_directly_import(module):
                graph.remove_import(importer=importer, imported=module)
        for module in target_set:
            for imported in graph.find_modules_directly_imported_by(module):
                graph.remove_import(importer=module, imported=imported)
        chains: dict[tuple[str, str], tuple[str, ...]] = {}
        for source in sorted(source_set):
            for target in sorted(graph.find_upstream_modules(source) & target_set):
                chain = graph.find_shortest_chain(source, target)
                if chain:
                    chains[(source, target)] = chain
        return chains

    def layered_chains(
        self, groups: Iterable[list[Unit]]
    ) -> Iterator[tuple[Unit, Unit, tuple[str, ...]]]:
        """Each module of a unit that depends on a module of a unit above it (or of an
        independent sibling), with the shortest chain between them through modules of no unit
        of its group — as grimp's `find_illegal_dependencies_for_layers` judges a layered
        architecture (a group is a container; a chain through another layer is that layer's
        own violation), but every such pair, not the chains left after removing the middle of
        each chain found, which depend on the order grimp meets modules.

        On a copy of the graph, each group in turn: every module of a unit gets an entry node
        that takes its incoming imports, so that a chain can end at a unit's module but not
        pass through it; from each module, the entries it reaches are what it depends on.
        """
        graph = copy.deepcopy(self.graph)
        modules = graph.modules
        for group in groups:
            owner = {m: unit for unit in group for m in unit.modules if m in modules}
            entries = {module: f"{_ENTRY}.{n}" for n, module in enumerate(sorted(owner))}
            moved = []
            for module, entry in entries.items():
                graph.add_module(entry)
                for importer in graph.find_modules_that_directly_import(module):
                    graph.remove_import(importer=importer, imported=module)
                    graph.add_import(importer=importer, imported=entry)
                    moved.append((importer, module, entry))
            by_entry = {entry: module for module, entry in entries.items()}
            for source in sorted(owner):
                lower = owner[source]
                for entry in sorted(graph.find_upstream_modules(source) & by_entry.keys()):
                    target = by_entry[entry]
                    upper = owner[target]
                    above = upper.level < lower.level
                    sibling = (
                        upper.level == lower.level and upper is not lower and lower.independent
                    )
                    if not (above or sibling):
                        continue
                    chain = graph.find_shortest_chain(source, entry)
                    if chain:
                        yield lower, upper, (*chain[:-1], target)
            for importer, module, entry in moved:
                graph.remove_import(importer=importer, imported=entry)
                graph.add_import(importer=importer, imported=module)
            for entry in entries.values():
                graph.remove_module(entry)


@dataclass(frozen=True, slots=True)
class Unit:
    """A module of a layered contract with what is below it: a layer, or one of the sibling
    modules on a level. `level` 0 is the highest; siblings on an `independent` level must not
    import each other either."""

    name: str
    level: int
    independent: bool
    modules: frozenset[str]


_ENTRY = "__layerguard_entry__"
"""The synthetic package of the entry nodes `layered_chains` gives the modules of units."""


def nearest_module(name: str, modules: Collection[str]) -> str | None:
    """`name`, or the closest package above it that is one of `modules`: Python imports the
    packages of `a.b.missing` before it fails, and grimp records the import on the closest
    module that exists (`from pkg import name` lands on `pkg` already in the index)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def external_node(resolved: ResolvedImport, named: Collection[str]) -> str:
    """The node of an external import: the longest of the `named` modules it is inside of,
    else its top-level package."""
    best = ""
    for name in resolved.names:
        candidate = name
        while candidate:
            if candidate in named and len(candidate) > len(best):
                best = candidate
                break
            candidate = candidate.rpartition(".")[0]
    return best or resolved.target.split(".")[0]


def build_graph(
    index: ProjectIndex, policy: ImportScopePolicy, external_names: Iterable[str] = ()
) -> ProjectGraph:
    """The graph of the imports `policy` counts. `external_names` are the external modules
    some contract names, which get a node of their own."""
    import grimp

    named = frozenset(external_names)
    internal = frozenset({*index.by_module, *index.packages})
    roots = index.top_packages
    graph = grimp.ImportGraph()
    for module in sorted(internal):
        graph.add_module(module)
    sites: dict[Edge, list[ImportSite]] = {}
    everything = policy == ImportScopePolicy()
    externals: set[str] = set()
    for source in index.files.values():
        if source.module is None:
            continue
        importer = source.module.name
        for resolved in source.imports:
            fact = resolved.fact
            if not everything and not counts(fact.scope, policy):
                continue
            if resolved.target.split(".")[0] in roots:
                imported = nearest_module(resolved.target, internal)
                if imported is None:
                    continue
            else:
                imported = external_node(resolved, named)
                externals.add(imported)
            if imported == importer:
                continue
            site = ImportSite(source.path, fact.line, fact.col)
            edge_sites = sites.get((importer, imported))
            if edge_sites is None:
                sites[(importer, imported)] = [site]
            elif site not in edge_sites:
                edge_sites.append(site)
    for external in sorted(externals):
        parent = external.rpartition(".")[0]
        while parent and parent not in externals:  # a named module's packages are nodes too
            graph.add_module(parent)
            parent = parent.rpartition(".")[0]
        graph.add_module(external)
    for (importer, imported), edge_sites in sites.items():
        edge_sites.sort()
        graph.add_import(importer=importer, imported=imported)
    return ProjectGraph(graph, sites, internal)


def project_graph(
    index: ProjectIndex, policy: ImportScopePolicy, external_names: Iterable[str] = ()
) -> ProjectGraph:
    """The graph of `index` for `policy`, built once per index: every rule and contract that
    counts the same imports shares it (they copy it before removing edges)."""
    graphs: dict[tuple[ImportScopePolicy, frozenset[str]], ProjectGraph] = index.derived.setdefault(
        "import graphs", {}
    )
    key = (policy, frozenset(external_names))
    found = graphs.get(key)
    if found is None:
        found = graphs[key] = build_graph(index, policy, key[1])
    return found
