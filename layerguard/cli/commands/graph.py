"""`layerguard graph`: the project's dependency graph as the contract sees it.

The layer graph is what a reviewer or an architecture document wants (paste the Mermaid
output in a markdown file and GitHub draws it); `--layer`/`--domain` zoom into one layer's or
one domain's modules to find where a forbidden edge comes from.
"""

from __future__ import annotations

from typing import Annotated

import typer

from layerguard.cli.options import (
    CacheDirOption,
    ColorOption,
    ConfigOption,
    LegacyFormatOption,
    NoCacheOption,
    QuietOption,
    format_option,
    open_project,
    output_format,
    parsing_progress,
    usage_errors,
    warn_unwritten_cache,
)

GRAPH_FORMATS = ("mermaid", "dot", "text")


def graph_command(
    config: ConfigOption = None,
    chosen_format: Annotated[
        str | None,
        format_option(
            GRAPH_FORMATS,
            "mermaid (renders in GitHub markdown; the default), dot (Graphviz: `| dot -Tsvg`) "
            "or text (a contract's chains as import-linter lists them).",
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
    contract: Annotated[
        str | None,
        typer.Option(
            help="Draw the broken chains of this contract (by id) of `contracts:`.",
            show_default=False,
        ),
    ] = None,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
    color: ColorOption = None,
) -> None:
    """Print the dependency graph: layers and the number of imports between them.

    Edges with imports the contract forbids (LG101, LG103) are red and dashed. With --layer
    and/or --domain, print the modules of that layer/domain and the project modules they
    import instead; with --contract, the broken chains of that contract (their first imports,
    where they are reported, in red). Exit status: 0 printed; 2 unknown layer, domain or
    contract, or invalid configuration.
    """
    from layerguard.linter.graph.formats import RENDERERS
    from layerguard.linter.graph.views import draw

    fmt = output_format(chosen_format, legacy_format, GRAPH_FORMATS)
    project = open_project(config)
    # Mermaid and DOT are read by programs: no bar beside them, as beside `check`'s JSON.
    with usage_errors(), parsing_progress(quiet, fmt == "text") as progress:
        graph, written = draw(
            project,
            layer,
            domain,
            use_cache=not no_cache,
            contract=contract,
            cache_dir=cache_dir,
            progress=progress,
        )
    typer.echo(RENDERERS[fmt](graph), nl=False)
    warn_unwritten_cache(written)
