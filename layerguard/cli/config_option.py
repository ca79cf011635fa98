"""The `--config` option every command that reads layerguard.yaml shares, and its loading.

A command declares `config: ConfigOption = None` and calls `load_project_config(config)`:
the file is discovered upwards from the current directory unless given, and an invalid or
missing file ends the command with exit status 2 and every problem on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from layerguard.cli import exit_codes

if TYPE_CHECKING:
    from layerguard.contracts.config.model import ProjectConfig

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


def load_project_config(config: Path | None) -> ProjectConfig:
    """The validated contract, or exit 2 saying why there is none."""
    from layerguard.contracts.config.errors import ConfigError
    from layerguard.contracts.config.loader import find_config, load_config
    from layerguard.contracts.config.model import CONFIG_FILE_NAME

    if config is None:
        config = find_config(Path.cwd())
        if config is None:
            typer.echo(
                f"layerguard: no {CONFIG_FILE_NAME} found in {Path.cwd()} or any directory "
                "above it; run `layerguard init` to write one",
                err=True,
            )
            raise typer.Exit(exit_codes.USAGE_ERROR)
    try:
        return load_config(config)
    except ConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(exit_codes.USAGE_ERROR) from None
