"""`layerguard graph`: the project's dependency graph as the contract sees it.

The layer graph is what a reviewer or an architecture document wants (paste the Mermaid
output in a markdown file and GitHub draws it); `--layer`/`--domain` zoom into one layer's or
one domain's modules to find where a forbidden edge comes from.
"""

from __future__ import annotations

from typing import Annotated

import typer

from layerguard.cli.options import (
    ConfigOption,
    LegacyFormatOption,
    NoCacheOption,
    format_option,
    open_project,
    output_format,
    usage_errors,
)

GRAPH_FORMATS = ("mermaid", "dot")


def graph_command(
    config: ConfigOption = None,
    chosen_format: Annotated[
        str | None,
        format_option(
            GRAPH_FORMATS,
            "mermaid (renders in GitHub markdown; the default) or dot (Graphviz: `| dot -Tsvg`).",
        ),
    ] = None,
    legacy_format: LegacyFormatOption = None,
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
    from layerguard.linter.graph.formats import RENDERERS
    from layerguard.linter.graph.views import draw

    fmt = output_format(chosen_format, legacy_format, GRAPH_FORMATS)
    project = open_project(config)
    with usage_errors():
        graph = draw(project, layer, domain, use_cache=not no_cache)
    typer.echo(RENDERERS[fmt](graph), nl=False)
