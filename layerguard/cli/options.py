"""What every command shares: its options, opening the project, exit codes, error mapping.

Command modules (cli/commands/) import this module and never each other. A command declares
`config: ConfigOption = None`, opens the project with `open_project(config)` and runs its use
case inside `usage_errors()`, so that an invalid contract or a use case that cannot run as
asked ends the command with exit status 2 and a message on stderr, never a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from layerguard.contracts.config.model import ProjectConfig

OK = 0
FINDINGS = 1
USAGE_ERROR = 2
"""Process exit codes, shared by every command (the conventional ruff/flake8 triple)."""

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="The layerguard.yaml to use (default: the first one found in the current "
        "directory or above).",
        dir_okay=False,
        show_default=False,
    ),
]

JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        help="Processes that parse files (default: the number of cores).",
        show_default=False,
    ),
]

NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write .layerguard_cache/.")
]


def format_option(choices: Sequence[str], help: str) -> Any:
    """The `--output-format` option of a command printing one of `choices`."""
    import click

    return typer.Option(
        "--output-format", help=help, click_type=click.Choice(choices), show_default=False
    )


LegacyFormatOption = Annotated[
    str | None, typer.Option("--format", hidden=True, show_default=False)
]
"""The old spelling of `--output-format` on the commands that used it; still accepted."""


def output_format(
    chosen: str | None, legacy: str | None, choices: Sequence[str], default: str | None = None
) -> str:
    """The chosen format (`--output-format`, or its old `--format` spelling), else `default`,
    else the first of `choices`; an old-spelling value that is not a choice is a usage error."""
    if chosen is not None:
        return chosen
    if legacy is not None and legacy not in choices:
        raise typer.BadParameter(
            f"'{legacy}' is not one of {', '.join(map(repr, choices))}",
            param_hint="'--format'",
        )
    return legacy or default or choices[0]


def fail(message: str) -> NoReturn:
    """End the command with exit status 2 and `layerguard: message` on stderr."""
    typer.echo(f"layerguard: {message}", err=True)
    raise typer.Exit(USAGE_ERROR)


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
    """Map the failures of a use case to exit status 2: an invalid contract (every problem,
    one per line) or a run that cannot be done as asked (UsageError)."""
    from layerguard.contracts.config.errors import ConfigError
    from layerguard.linter.errors import UsageError

    try:
        yield
    except ConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(USAGE_ERROR) from None
    except UsageError as error:
        fail(str(error))


def open_project(config: Path | None) -> ProjectConfig:
    """The validated contract: `config`, or the first layerguard.yaml found from the current
    directory upwards; exit 2 saying why there is none."""
    from layerguard.contracts.config.loader import find_config, load_config
    from layerguard.contracts.config.model import CONFIG_FILE_NAME

    if config is None:
        config = find_config(Path.cwd())
        if config is None:
            fail(
                f"no {CONFIG_FILE_NAME} found in {Path.cwd()} or any directory above it; run "
                "`layerguard init` to write one"
            )
    with usage_errors():
        return load_config(config)


def project_relative(paths: Sequence[Path], root: Path, hint: str = "PATHS") -> tuple[str, ...]:
    """Paths as project-relative posix strings ("" for the root); a missing path or one
    outside the project is a usage error."""
    relative = []
    for path in paths:
        absolute = path.resolve()
        if not absolute.exists():
            raise typer.BadParameter(f"'{path}' does not exist", param_hint=hint)
        try:
            relative.append(absolute.relative_to(root.resolve()).as_posix())
        except ValueError:
            raise typer.BadParameter(
                f"'{path}' is outside the project ({root})", param_hint=hint
            ) from None
    return tuple("" if r == "." else r for r in relative)


def warn_unwritten_cache(written: bool) -> None:
    if not written:
        typer.echo("layerguard: warning: could not write .layerguard_cache/", err=True)
