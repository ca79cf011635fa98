"""`layerguard graph`: the project's dependency graph as the contract sees it.

The layer graph is what a reviewer or an architecture document wants (paste the Mermaid
output in a markdown file and GitHub draws it); `--layer`/`--domain` zoom into one layer's or
one domain's modules to find where a forbidden edge comes from.
"""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from layerguard.cli import exit_codes
from layerguard.cli.config_option import ConfigOption, load_project_config
from layerguard.cli.index_options import NoCacheOption


class GraphFormat(enum.StrEnum):
    mermaid = "mermaid"
    dot = "dot"


def graph_command(
    config: ConfigOption = None,
    graph_format: Annotated[
        GraphFormat,
        typer.Option(
            "--format",
            help="mermaid (renders in GitHub markdown) or dot (Graphviz: `| dot -Tsvg`).",
        ),
    ] = GraphFormat.mermaid,
    layer: Annotated[
        str | None,
        typer.Option(
            help="Draw the modules of this layer (by id) instead of the layers.", show_default=False
        ),
    ] = None,
    domain: Annotated[
        str | None,
        typer.Option(
            help="Draw the modules of this domain (with --layer: of both).", show_default=False
        ),
    ] = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Print the dependency graph: layers and the number of imports between them.

    Edges with imports the contract forbids (LG101, LG103) are red and dashed. With --layer
    and/or --domain, print the modules of that layer/domain and the project modules they
    import instead. Exit status: 0 printed; 2 unknown layer or domain, or invalid configuration.
    """
    from layerguard.contracts.config.errors import ConfigError
    from layerguard.linter.engine import build_index
    from layerguard.linter.graph.formats import RENDERERS
    from layerguard.linter.graph.views import domains, layer_graph, module_graph
    from layerguard.linter.project.extraction import default_jobs

    project = load_project_config(config)
    layer_ids = [entry.id for entry in project.layers]
    if layer is not None and layer not in layer_ids:
        typer.echo(
            f"layerguard: unknown layer '{layer}'; the contract's layers are: "
            f"{', '.join(layer_ids)}",
            err=True,
        )
        raise typer.Exit(exit_codes.USAGE_ERROR)
    try:
        index, _, _ = build_index(project, default_jobs(), use_cache=not no_cache)
    except ConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(exit_codes.USAGE_ERROR) from None
    if domain is not None and domain not in (known := domains(index)):
        typer.echo(
            f"layerguard: no project file belongs to domain '{domain}'; domains: "
            f"{', '.join(known) or '(none)'}",
            err=True,
        )
        raise typer.Exit(exit_codes.USAGE_ERROR)
    if layer is None and domain is None:
        graph = layer_graph(index)
    else:
        graph = module_graph(index, layer, domain)
    typer.echo(RENDERERS[graph_format.value](graph), nl=False)
