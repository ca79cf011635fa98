"""`layerguard operations`: the operation catalogue — each operation, its handler, its callers.

It reads the same cached facts as `check` (never parsing a file the cache already knows), so the
catalogue and the LG4xx findings always describe the same project. It reports; it does not
judge: the exit status is 0 whatever the wiring looks like (`check` is the gate).
"""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from layerguard.cli import exit_codes
from layerguard.cli.config_option import ConfigOption, load_project_config
from layerguard.cli.index_options import JobsOption, NoCacheOption


class CatalogueFormat(enum.StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def operations_command(
    config: ConfigOption = None,
    output_format: Annotated[
        CatalogueFormat,
        typer.Option(
            "--format",
            help="text: a table for the terminal. json: a stable document (schema in "
            "docs/operations.md). markdown: a table to paste into docs.",
        ),
    ] = CatalogueFormat.text,
    jobs: JobsOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """List every operation: its handler class (file and line) and every call site that
    dispatches it, sorted by name. Operations dispatched but never registered are marked, and
    calls whose operation name is computed are listed as dynamic.

    Exit status: 0, or 2 on a usage or configuration error.
    """
    from layerguard.contracts.config.errors import ConfigError
    from layerguard.linter.engine import build_index
    from layerguard.linter.operations.catalogue import build_catalogue
    from layerguard.linter.operations.render import FORMATS
    from layerguard.linter.project.extraction import default_jobs

    project = load_project_config(config)
    try:
        index, _, written = build_index(project, jobs or default_jobs(), not no_cache)
    except ConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(exit_codes.USAGE_ERROR) from None
    catalogue = build_catalogue(index)
    typer.echo(FORMATS[output_format.value](catalogue, str(project.root)), nl=False)
    if catalogue.unparsed:
        typer.echo(
            f"layerguard: warning: {len(catalogue.unparsed)} file(s) do not parse, so their "
            f"registry calls are missing: {', '.join(catalogue.unparsed)} (`layerguard check` "
            "says why)",
            err=True,
        )
    if not written:
        typer.echo("layerguard: warning: could not write .layerguard_cache/", err=True)
