"""`layerguard operations`: the operation catalogue — each operation, its handler, its callers.

It reads the same cached facts as `check` (never parsing a file the cache already knows), so the
catalogue and the LG4xx findings always describe the same project. It reports; it does not
judge: the exit status is 0 whatever the wiring looks like (`check` is the gate).
"""

from __future__ import annotations

from typing import Annotated

import typer

from layerguard.cli.options import (
    CacheDirOption,
    ColorOption,
    ConfigOption,
    JobsOption,
    LegacyFormatOption,
    NoCacheOption,
    QuietOption,
    format_option,
    jobs_to_use,
    open_project,
    output_format,
    parsing_progress,
    say,
    usage_errors,
    warn_unwritten_cache,
)

CATALOGUE_FORMATS = ("text", "json", "markdown")


def operations_command(
    config: ConfigOption = None,
    chosen_format: Annotated[
        str | None,
        format_option(
            CATALOGUE_FORMATS,
            "text: a table for the terminal (the default). json: a stable document "
            "(schema in docs/operations.md). markdown: a table to paste into docs.",
        ),
    ] = None,
    legacy_format: LegacyFormatOption = None,
    jobs: JobsOption = None,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
    color: ColorOption = None,
) -> None:
    """List every operation: its handler class (file and line) and every call site that
    dispatches it, sorted by name. Operations dispatched but never registered are marked, and
    calls whose operation name is computed are listed as dynamic.

    Exit status: 0, or 2 on a usage or configuration error.
    """
    from layerguard.linter.operations.catalogue import project_catalogue
    from layerguard.linter.operations.render import FORMATS, render_text

    fmt = output_format(chosen_format, legacy_format, CATALOGUE_FORMATS)
    project = open_project(config)
    with usage_errors(), parsing_progress(quiet, fmt == "text") as progress:
        catalogue, written = project_catalogue(
            project, jobs_to_use(jobs), not no_cache, cache_dir, progress
        )
    if fmt == "text":  # the only format with a summary line, which --quiet drops
        shown = render_text(catalogue, str(project.root), summary=not quiet)
    else:
        shown = FORMATS[fmt](catalogue, str(project.root))
    typer.echo(shown, nl=False)
    if catalogue.unparsed:
        say(
            f"{len(catalogue.unparsed)} file(s) do not parse, so their registry calls are "
            f"missing: {', '.join(catalogue.unparsed)} (`layerguard check` says why)",
            "warning",
        )
    warn_unwritten_cache(written)
