"""`layerguard init`: start a project's `layerguard.yaml` from a packaged preset.

The written file is the preset byte for byte: its comments are the user's first
documentation, and say how to make the usual changes (transaction ownership, for one).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from layerguard.cli.options import fail

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


def _presets() -> Traversable:
    """The packaged presets directory (imported here: every command pays for app imports)."""
    from importlib.resources import files

    return files("layerguard.contracts.config") / "presets"


def available_presets() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml") for p in _presets().iterdir() if p.name.endswith(".yaml")
    )


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
    from layerguard.contracts.config.model import CONFIG_FILE_NAME

    presets = available_presets()
    if preset not in presets:
        fail(f"unknown preset '{preset}'; available presets: {', '.join(presets)}")
    if not directory.is_dir():
        fail(f"{directory}: no such directory")
    target = directory / CONFIG_FILE_NAME
    if target.exists() and not force:
        fail(f"{target} already exists; pass --force to overwrite it")
    target.write_bytes((_presets() / f"{preset}.yaml").read_bytes())
    typer.echo(f"wrote {target} (preset '{preset}'); edit it to match your project's layout")
