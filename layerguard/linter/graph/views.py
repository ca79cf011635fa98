"""The dependency graph of the project as the contract sees it (`layerguard graph`).

Three views, all pure over the index and rendered by formats.py:

- the layer graph: one node per layer of the contract, one edge per pair of layers that
  imports cross, with the number of imports;
- the module graph of one layer and/or one domain: its modules, the project modules they
  import (drawn as outside the selection), and the imports between them;
- the broken chains of one contract of `contracts:`: the modules of its chains, grouped by
  the contract's modules they start and end in, with the chains themselves for the text form.

An import counts once per imported name (`from m import a, b` is two), wherever it stands
(module level, inside a function, under `if TYPE_CHECKING:`): the graph shows every dependency.
An edge is *forbidden* when some of its imports are reported by LG101 (a layer the importer may
not use) or LG103 (another domain's L5/L6) — the rules themselves decide, before suppressions
and the baseline, so allowed exceptions (`allow:`) are not marked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from layerguard.contracts.config.model import ProjectConfig
from layerguard.linter.errors import UsageError
from layerguard.linter.project.index import ProjectIndex, ResolvedImport, SourceFile
from layerguard.linter.rules.imports import CrossDomainImport, ForbiddenLayerImport

if TYPE_CHECKING:
    from layerguard.linter.project.extraction import Progress

UNLAYERED = "(no layer)"


@dataclass(frozen=True, slots=True)
class Node:
    id: str  # a layer id, or a module name (a path for files outside the source roots)
    label: str
    group: str | None = None  # module graphs: the layer the module belongs to
    outside: bool = False  # module graphs: imported by the selection, not part of it


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    imports: int
    forbidden: int = 0  # how many of the imports break the contract


@dataclass(frozen=True, slots=True)
class Graph:
    """Nodes in display order, edges sorted by (source, target) in that order. A contract's
    view also has its broken chains, as (what they break, the chain with its lines)."""

    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    groups: dict[str, str] = field(default_factory=dict)  # group id -> label
    chains: tuple[tuple[str, str], ...] = ()


def _violations(index: ProjectIndex) -> frozenset[tuple[str, int, int]]:
    """Where LG101 and LG103 report an import: (path, line, column)."""
    found = {(d.path, d.line, d.col) for d in ForbiddenLayerImport().direct(index)}
    found.update((d.path, d.line, d.col) for d in CrossDomainImport().check(index))
    return frozenset(found)


def _forbidden(
    violations: frozenset[tuple[str, int, int]], source: SourceFile, r: ResolvedImport
) -> bool:
    return (source.path, r.fact.line, r.fact.col) in violations


def _layer_label(index: ProjectIndex, layer_id: str) -> str:
    layer = index.config.layer(layer_id)
    return f"{layer_id}: {layer.name}" if layer is not None and layer.name else layer_id


def layer_graph(index: ProjectIndex) -> Graph:
    """Every layer of the contract (in its order) and the imports between different layers."""
    violations = _violations(index)
    counts: dict[tuple[str, str], list[int]] = {}
    for source in index.files.values():
        if source.layer is None:
            continue
        for resolved in source.imports:
            if resolved.layer is None or resolved.layer.layer == source.layer.layer:
                continue
            tally = counts.setdefault((source.layer.layer, resolved.layer.layer), [0, 0])
            tally[0] += 1
            tally[1] += _forbidden(violations, source, resolved)
    order = {layer.id: position for position, layer in enumerate(index.config.layers)}
    nodes = tuple(Node(layer.id, _layer_label(index, layer.id)) for layer in index.config.layers)
    edges = tuple(
        Edge(source, target, imports, forbidden)
        for (source, target), (imports, forbidden) in sorted(
            counts.items(), key=lambda item: (order[item[0][0]], order[item[0][1]])
        )
    )
    return Graph("layers", nodes, edges)


def module_graph(index: ProjectIndex, layer: str | None = None, domain: str | None = None) -> Graph:
    """The modules of one layer and/or domain, and the project modules they import."""
    violations = _violations(index)

    def selected(source: SourceFile) -> bool:
        match = source.layer
        if layer is not None and (match is None or match.layer != layer):
            return False
        return domain is None or (match is not None and match.domain == domain)

    nodes: dict[str, Node] = {}
    counts: dict[tuple[str, str], list[int]] = {}
    for source in index.files.values():
        if not selected(source):
            continue
        name = _node_id(source)
        nodes[name] = _module_node(source, outside=False)
        for resolved in source.imports:
            target = resolved.file
            if target is None or target.path == source.path:
                continue
            target_name = _node_id(target)
            if not selected(target):
                nodes.setdefault(target_name, _module_node(target, outside=True))
            tally = counts.setdefault((name, target_name), [0, 0])
            tally[0] += 1
            tally[1] += _forbidden(violations, source, resolved)
    layers = {layer.id: position for position, layer in enumerate(index.config.layers)}

    def group_order(group: str | None) -> tuple[int, str]:
        return layers.get(group or UNLAYERED, len(layers)), group or UNLAYERED

    ordered = sorted(nodes.values(), key=lambda n: (group_order(n.group), n.outside, n.id))
    position = {node.id: i for i, node in enumerate(ordered)}
    edges = tuple(
        Edge(source, target, imports, forbidden)
        for (source, target), (imports, forbidden) in sorted(
            counts.items(), key=lambda item: (position[item[0][0]], position[item[0][1]])
        )
    )
    groups = {
        group: _layer_label(index, group) if group != UNLAYERED else group
        for group in sorted({node.group or UNLAYERED for node in ordered}, key=group_order)
    }
    parts = [f"layer {layer}" if layer else "", f"domain {domain}" if domain else ""]
    return Graph("modules of " + ", ".join(p for p in parts if p), tuple(ordered), edges, groups)


def _node_id(source: SourceFile) -> str:
    return source.module.name if source.module is not None else source.path


def _module_node(source: SourceFile, outside: bool) -> Node:
    group = source.layer.layer if source.layer is not None else UNLAYERED
    return Node(_node_id(source), _node_id(source), group, outside)


ELSEWHERE = "(through)"


def contract_graph(index: ProjectIndex, contract_id: str) -> Graph:
    """The broken chains of one contract: every module on them, grouped by the contract's
    module a chain starts or ends in (the modules between are `(through)`), every import on
    them, and the first import of each chain — where it is reported — marked forbidden."""
    from layerguard.linter.graph.contracts import check_contract

    contract = next(c for c in index.config.contracts if c.id == contract_id)
    violations = sorted(check_contract(index, contract).violations, key=lambda v: (v.chain, v.site))
    groups: dict[str, str] = {}
    for violation in violations:
        groups.setdefault(violation.chain[-1], violation.upstream)
        groups.setdefault(violation.chain[0], violation.downstream or ELSEWHERE)
    for violation in violations:
        for module in violation.chain[1:-1]:
            groups.setdefault(module, ELSEWHERE)
    edges: dict[tuple[str, str], list[int]] = {}
    reported: set[tuple[str, str, int]] = set()
    for violation in violations:
        for number, hop in enumerate(violation.hops):
            tally = edges.setdefault((hop.importer, hop.imported), [len(hop.sites), 0])
            site = violation.site
            if number == 0 and (hop.importer, hop.imported, site.line) not in reported:
                reported.add((hop.importer, hop.imported, site.line))
                tally[1] += 1
    order = sorted(dict.fromkeys(groups.values()), key=lambda g: (g == ELSEWHERE, g))
    nodes = tuple(
        Node(module, module, group)
        for group in order
        for module in sorted(m for m, g in groups.items() if g == group)
    )
    position = {node.id: i for i, node in enumerate(nodes)}
    return Graph(
        f"contract {contract.id}",
        nodes,
        tuple(
            Edge(a, b, imports, forbidden)
            for (a, b), (imports, forbidden) in sorted(
                edges.items(), key=lambda item: (position[item[0][0]], position[item[0][1]])
            )
        ),
        {group: group for group in order},
        tuple((v.what, v.text()) for v in violations),
    )


def domains(index: ProjectIndex) -> list[str]:
    """Every domain some project file belongs to, sorted."""
    return sorted({s.layer.domain for s in index.files.values() if s.layer and s.layer.domain})


def draw(
    project: ProjectConfig,
    layer: str | None = None,
    domain: str | None = None,
    use_cache: bool = True,
    contract: str | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> tuple[Graph, bool]:
    """The graph `layerguard graph` prints: the layer graph, with `layer` and/or `domain` the
    module graph of that selection, or with `contract` its broken chains (raises UsageError
    for an unknown layer, domain or contract, or a contract with a layer or domain); and
    whether the caches could be written."""
    from layerguard.linter.project.build import build_index
    from layerguard.linter.project.extraction import default_jobs

    if contract is not None:
        if layer is not None or domain is not None:
            raise UsageError("--contract draws a contract's chains: leave out --layer and --domain")
        ids = [entry.id for entry in project.contracts]
        if contract not in ids:
            raise UsageError(
                f"unknown contract '{contract}'; the contracts are: {', '.join(ids) or '(none)'}"
            )
        built = build_index(project, default_jobs(), use_cache, None, cache_dir, progress)
        return contract_graph(built.index, contract), built.cache_written
    layer_ids = [entry.id for entry in project.layers]
    if layer is not None and layer not in layer_ids:
        raise UsageError(
            f"unknown layer '{layer}'; the contract's layers are: {', '.join(layer_ids)}"
        )
    built = build_index(project, default_jobs(), use_cache, None, cache_dir, progress)
    index = built.index
    if domain is not None and domain not in (known := domains(index)):
        raise UsageError(
            f"no project file belongs to domain '{domain}'; domains: {', '.join(known) or '(none)'}"
        )
    if layer is None and domain is None:
        return layer_graph(index), built.cache_written
    return module_graph(index, layer, domain), built.cache_written
