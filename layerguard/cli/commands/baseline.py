"""`layerguard baseline create|update`: record today's findings so that only new ones fail.

The flows are the linter's (linter/baseline/recording.py); `check` applies the baseline itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from layerguard.cli.options import (
    FINDINGS,
    CacheDirOption,
    ColorOption,
    ConfigOption,
    NoCacheOption,
    QuietOption,
    open_project,
    parsing_progress,
    say,
    usage_errors,
    warn_unwritten_cache,
)

baseline_app = typer.Typer(
    help="Record today's findings so that `check` fails only on new ones (legacy adoption).",
    no_args_is_help=True,
)

FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="The baseline file (default: .layerguard-baseline.json next to the contract file).",
        dir_okay=False,
        show_default=False,
    ),
]


@baseline_app.command("create")
def create_command(
    config: ConfigOption = None,
    file: FileOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing baseline file.")
    ] = False,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
    color: ColorOption = None,
) -> None:
    """Record every current finding (of the configured rules) in a new baseline file.

    Info findings are not recorded: they never fail a check. Exit status: 0 when written; 2
    when the file exists (without --force: `baseline update` is the safe way to change it) or
    the configuration is invalid.
    """
    from layerguard.linter.baseline.apply import default_baseline_path
    from layerguard.linter.baseline.recording import create_baseline

    project = open_project(config)
    path = file or default_baseline_path(project)
    with usage_errors(), parsing_progress(quiet, text_output=True) as progress:
        baseline, written = create_baseline(
            project,
            path,
            replace=force,
            use_cache=not no_cache,
            cache_dir=cache_dir,
            progress=progress,
        )
    warn_unwritten_cache(written)
    if not quiet:
        typer.echo(
            f"wrote {path}: {baseline.description()}; `layerguard check` now reports only new "
            "findings"
        )


@baseline_app.command("update")
def update_command(
    config: ConfigOption = None,
    file: FileOption = None,
    allow_new: Annotated[
        bool,
        typer.Option("--allow-new", help="Also record findings the baseline does not have yet."),
    ] = False,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
    color: ColorOption = None,
) -> None:
    """Remove the baseline entries that no longer occur.

    New findings are refused: they are printed and the file is left unchanged (exit 1) unless
    --allow-new records them too. Entries of rules that are not enabled are kept. Exit status:
    0 when the baseline is up to date, 1 when new findings were refused, 2 when the file is
    missing or malformed or the configuration is invalid.
    """
    from layerguard.linter.baseline.apply import default_baseline_path
    from layerguard.linter.baseline.recording import update_baseline
    from layerguard.linter.diagnostics import plural
    from layerguard.linter.reporters.context import ReportContext

    project = open_project(config)
    path = file or default_baseline_path(project)
    with usage_errors(), parsing_progress(quiet, text_output=True) as progress:
        update = update_baseline(
            project,
            path,
            allow_new=allow_new,
            use_cache=not no_cache,
            cache_dir=cache_dir,
            progress=progress,
        )
    warn_unwritten_cache(update.cache_written)
    if update.new:
        context = ReportContext(project.root, Path.cwd())
        for finding in update.new:
            typer.echo(context.line(finding))
        say(
            f"{path} not updated: {plural(len(update.new), 'finding')} not in the baseline; "
            "fix the new findings, or pass --allow-new to record them",
            "error",
        )
        raise typer.Exit(FINDINGS)
    if not quiet:
        typer.echo(
            f"{path}: {plural(update.removed, 'finding')} removed, {update.added} added; "
            f"{update.baseline.description()} remain baselined"
        )
