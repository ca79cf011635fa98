"""Text forms of a dependency graph: Mermaid (renders in GitHub markdown) and Graphviz DOT.

Only formatting: the graph's order is the output's order, so equal graphs print equal text.
Forbidden edges are red and dashed, labelled with how many of their imports are forbidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from layerguard.contracts.escaping import printable
from layerguard.linter.diagnostics import plural
from layerguard.linter.graph.views import Edge, Graph, Node

FORBIDDEN_COLOUR = "#d32f2f"


def edge_label(edge: Edge) -> str:
    imports = plural(edge.imports, "import")
    return f"{imports}, {edge.forbidden} forbidden" if edge.forbidden else imports


def _grouped(graph: Graph) -> list[tuple[str | None, list[Node]]]:
    """Nodes by group, in the graph's order (ungrouped nodes form one None group)."""
    groups: dict[str | None, list[Node]] = {}
    for node in graph.nodes:
        groups.setdefault(node.group, []).append(node)
    return list(groups.items())


# --- Mermaid ---------------------------------------------------------------------------------


def _mermaid_ids(graph: Graph) -> dict[str, str]:
    """Node id -> a Mermaid identifier (letters, digits, underscores; unique)."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for node in graph.nodes:
        base = re.sub(r"\W", "_", node.id, flags=re.ASCII) or "node"
        candidate, number = base, 2
        while candidate in taken:
            candidate, number = f"{base}_{number}", number + 1
        taken.add(candidate)
        ids[node.id] = candidate
    return ids


def _mermaid_text(text: str) -> str:
    return '"' + printable(text).replace('"', "#quot;") + '"'


def render_mermaid(graph: Graph) -> str:
    ids = _mermaid_ids(graph)
    lines = ["flowchart LR"]
    taken_groups: set[str] = set()
    for group, nodes in _grouped(graph):
        indent = "    "
        if group is not None:
            group_id = re.sub(r"\W", "_", f"group_{group}", flags=re.ASCII)
            while group_id in taken_groups or group_id in ids.values():
                group_id += "_"
            taken_groups.add(group_id)
            label = graph.groups.get(group, group)
            lines.append(f"    subgraph {group_id}[{_mermaid_text(label)}]")
            indent = "        "
        lines.extend(f"{indent}{ids[node.id]}[{_mermaid_text(node.label)}]" for node in nodes)
        if group is not None:
            lines.append("    end")
    forbidden = []
    for number, edge in enumerate(graph.edges):
        arrow = "-.->" if edge.forbidden else "-->"
        label = _mermaid_text(edge_label(edge))
        lines.append(f"    {ids[edge.source]} {arrow}|{label}| {ids[edge.target]}")
        if edge.forbidden:
            forbidden.append(str(number))
    outside = [ids[node.id] for node in graph.nodes if node.outside]
    if outside:
        lines.append("    classDef outside stroke-dasharray: 4 4,color:#666")
        lines.append(f"    class {','.join(outside)} outside")
    if forbidden:
        style = f"stroke:{FORBIDDEN_COLOUR},stroke-width:2px,color:{FORBIDDEN_COLOUR}"
        lines.append(f"    linkStyle {','.join(forbidden)} {style}")
    return "\n".join(lines) + "\n"


# --- Graphviz DOT ----------------------------------------------------------------------------


def _dot_text(text: str) -> str:
    return '"' + printable(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_attributes(**attributes: str) -> str:
    return ", ".join(f"{name}={_dot_text(value)}" for name, value in attributes.items())


def render_dot(graph: Graph) -> str:
    lines = [
        f"digraph {_dot_text(graph.title)} {{",
        "    rankdir=LR;",
        '    node [shape=box, fontname="Helvetica"];',
        '    edge [fontname="Helvetica"];',
    ]
    for group, nodes in _grouped(graph):
        indent = "    "
        if group is not None:
            label = graph.groups.get(group, group)
            lines.append(f"    subgraph {_dot_text('cluster_' + group)} {{")
            lines.append(f"        label={_dot_text(label)};")
            indent = "        "
        for node in nodes:
            attributes = {"label": node.label}
            if node.outside:
                attributes |= {"style": "dashed", "fontcolor": "#666666"}
            lines.append(f"{indent}{_dot_text(node.id)} [{_dot_attributes(**attributes)}];")
        if group is not None:
            lines.append("    }")
    for edge in graph.edges:
        attributes = {"label": edge_label(edge)}
        if edge.forbidden:
            attributes |= {
                "color": FORBIDDEN_COLOUR,
                "fontcolor": FORBIDDEN_COLOUR,
                "style": "dashed",
            }
        lines.append(
            f"    {_dot_text(edge.source)} -> {_dot_text(edge.target)} "
            f"[{_dot_attributes(**attributes)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- text -----------------------------------------------------------------------------------


def render_text(graph: Graph) -> str:
    """The chains of a contract's view, grouped by what they break (as import-linter lists
    them); for the other views, one line per edge."""
    if graph.chains:
        lines = [f"{graph.title}: {plural(len(graph.chains), 'broken chain')}"]
        for what in dict.fromkeys(what for what, _ in graph.chains):
            lines += ["", f"{what}:"]
            lines += [f"- {text}" for broken, text in graph.chains if broken == what]
    elif not graph.nodes:
        lines = [f"{graph.title}: nothing to draw"]
    else:
        labels = {node.id: node.label for node in graph.nodes}
        lines = [graph.title]
        lines += [f"{labels[e.source]} → {labels[e.target]}: {edge_label(e)}" for e in graph.edges]
    # Layer names, contract names and modules come from the contract and the code.
    return "".join(printable(line) + "\n" for line in lines)


RENDERERS: dict[str, Callable[[Graph], str]] = {
    "mermaid": render_mermaid,
    "dot": render_dot,
    "text": render_text,
}
