"""`layerguard migrate import-linter`: a project's import-linter contracts, translated into
layerguard.yaml so that `layerguard check` reports what `lint-imports` did (and what it
cannot see)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from layerguard.cli.options import (
    USAGE_ERROR,
    ColorOption,
    ConfigOption,
    QuietOption,
    say,
    usage_errors,
)

migrate_app = typer.Typer(
    help="Bring another tool's architecture contracts into layerguard.yaml.",
    no_args_is_help=True,
)


@migrate_app.command("import-linter")
def import_linter_command(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="import-linter's configuration: an INI file (.importlinter, setup.cfg) or "
            "pyproject.toml (default: found in the project directory, where import-linter "
            "looks).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
    stdout: Annotated[
        bool,
        typer.Option("--stdout", help="Print the contracts instead of writing layerguard.yaml."),
    ] = False,
    quiet: QuietOption = False,
    color: ColorOption = None,
) -> None:
    """Translate import-linter's contracts into the project's contract.

    Every contract of a built-in type (layers, forbidden, independence, acyclic_siblings,
    protected) becomes a contract under `contracts:` in layerguard.yaml, or a
    \\[\\[tool.layerguard.contracts]] table when the contract is \\[tool.layerguard] in
    pyproject.toml. One with the same id is replaced, the rest of the file is kept as it is; a
    new layerguard.yaml gets the source roots of the root packages. What cannot be translated
    is listed with its line. Exit status: 0 migrated; 2 when nothing could be translated, the
    input is malformed, or the result would not be a valid contract (nothing is written then).
    """
    from layerguard.contracts.config.loader import find_config
    from layerguard.linter.diagnostics import plural
    from layerguard.linter.migrate.files import MigrationInputError
    from layerguard.linter.migrate.migration import migrate_importlinter, shown_path

    if config is None:
        found = find_config(Path.cwd())
        directory = found.parent if found is not None else Path.cwd()
        target = found
    else:
        directory, target = config.parent, config
    with usage_errors():
        try:
            migration = migrate_importlinter(directory, path, target, write=not stdout)
        except MigrationInputError as error:
            where = shown_path(error.path, Path.cwd())
            for line, message in error.problems:
                typer.echo(
                    f"{where}:{line}: {message}" if line else f"{where}: {message}", err=True
                )
            raise typer.Exit(USAGE_ERROR) from None
    source = shown_path(migration.source, Path.cwd())
    listed = ", ".join(f"{c['id']} ({c['type']})" for c in migration.contracts)
    count = plural(len(migration.contracts), "contract")
    if stdout:
        typer.echo(migration.text, nl=False)
        summary = f"translated {count} from {source}: {listed}"
    else:
        verb = "wrote" if migration.created else "updated"
        target_shown = shown_path(migration.target, Path.cwd())
        summary = f"{verb} {target_shown}: {count} from {source}: {listed}"
    for problem in migration.untranslated:
        typer.echo(f"{source}:{problem.line}: not translated: {problem.message}", err=True)
    for unreachable in migration.unreachable:  # modules that will not be checked
        say(unreachable, "warning")
    if not quiet:
        typer.echo(summary, err=stdout)
