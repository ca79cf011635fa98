"""`layerguard init`: start a project's `layerguard.yaml` from a packaged preset.

The written file is the preset byte for byte: its comments are the user's first
documentation, and say how to make the usual changes (transaction ownership, for one).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer

from layerguard.cli import exit_codes
from layerguard.contracts.config.model import CONFIG_FILE_NAME

PRESETS_PACKAGE = "layerguard.contracts.config"


def available_presets() -> list[str]:
    presets = files(PRESETS_PACKAGE) / "presets"
    return sorted(
        p.name.removesuffix(".yaml") for p in presets.iterdir() if p.name.endswith(".yaml")
    )


def preset_bytes(name: str) -> bytes:
    return (files(PRESETS_PACKAGE) / "presets" / f"{name}.yaml").read_bytes()


def init_command(
    preset: Annotated[
        str,
        typer.Option(help="The preset to start from (`hoc`: the layer model of the hoc backend)."),
    ] = "hoc",
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing layerguard.yaml.")
    ] = False,
    directory: Annotated[
        Path,
        typer.Option(
            "--directory",
            "-d",
            help="Where to write layerguard.yaml: the project root.",
            file_okay=False,
        ),
    ] = Path("."),
) -> None:
    """Write a layerguard.yaml for this project from a preset.

    Exit status: 0 when written; 2 when the file exists (without --force), the preset is
    unknown or the directory does not exist.
    """
    presets = available_presets()
    if preset not in presets:
        typer.echo(
            f"layerguard: unknown preset '{preset}'; available presets: {', '.join(presets)}",
            err=True,
        )
        raise typer.Exit(exit_codes.USAGE_ERROR)
    if not directory.is_dir():
        typer.echo(f"layerguard: {directory}: no such directory", err=True)
        raise typer.Exit(exit_codes.USAGE_ERROR)
    target = directory / CONFIG_FILE_NAME
    if target.exists() and not force:
        typer.echo(f"layerguard: {target} already exists; pass --force to overwrite it", err=True)
        raise typer.Exit(exit_codes.USAGE_ERROR)
    target.write_bytes(preset_bytes(preset))
    typer.echo(f"wrote {target} (preset '{preset}'); edit it to match your project's layout")
