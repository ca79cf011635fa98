"""`layerguard layers`: which files each layer holds, and which files are in no layer.

The way to see what a contract reaches before trusting its findings: a layer written as
`src/app/{domain}/**/views.py` lists the views it claims (with their domains), an empty layer
says so, and the files left in no layer are listed last. Nothing is parsed.
"""

from __future__ import annotations

from typing import Annotated

import typer

from layerguard.cli.options import (
    ColorOption,
    ConfigOption,
    format_option,
    open_project,
    usage_errors,
)

LISTING_FORMATS = ("text", "json")


def layers_command(
    config: ConfigOption = None,
    chosen_format: Annotated[
        str,
        format_option(LISTING_FORMATS, "text (the default) or json."),
    ] = "text",
    color: ColorOption = None,
) -> None:
    """List each layer's files (project-relative, with their domain) and the files in no layer.

    Exit status: 0 listed; 2 invalid configuration.
    """
    from layerguard.linter.layers.listing import list_layers
    from layerguard.linter.layers.render import RENDERERS

    project = open_project(config)
    with usage_errors():
        listing = list_layers(project)
    typer.echo(RENDERERS[chosen_format](listing), nl=False)
