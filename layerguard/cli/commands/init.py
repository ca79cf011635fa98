"""`layerguard init`: write a project's contract from a preset that fits its tree.

Without --preset it looks at the tree and proposes the preset whose layers hold the most of
its files, saying what it found where; the draft names the detected source root and only the
layers the tree has. It writes `layerguard.yaml`, or with --pyproject a `[tool.layerguard]`
table in pyproject.toml, and ends with what each layer holds and what `layerguard check` will
report with the contract on the current code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from layerguard.cli.options import (
    ColorOption,
    QuietOption,
    parsing_progress,
    say,
    usage_errors,
)


def init_command(
    preset: Annotated[
        str | None,
        typer.Option(
            help="The preset to write: fastapi, domains, hoc or packages; `list` describes "
            "them. Default: the one that fits the tree best.",
            show_default=False,
        ),
    ] = None,
    pyproject: Annotated[
        bool,
        typer.Option(
            "--pyproject",
            help="Write the contract as \\[tool.layerguard] in pyproject.toml instead of "
            "layerguard.yaml.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Overwrite an existing layerguard.yaml (or \\[tool.layerguard] table)."
        ),
    ] = False,
    directory: Annotated[
        Path,
        typer.Option(
            "--directory",
            "-d",
            help="The project root: where the tree is looked at and the contract written.",
            file_okay=False,
        ),
    ] = Path("."),
    quiet: QuietOption = False,
    color: ColorOption = None,
) -> None:
    """Write the project's layer contract from the preset that fits its tree.

    Exit status: 0 when written; 2 when a contract exists (without --force), no preset fits,
    the preset has no layer to write for the tree, the preset is unknown or the directory does
    not exist.
    """
    from layerguard.linter.diagnostics import plural
    from layerguard.linter.setup.drafts import PRESETS
    from layerguard.linter.setup.init import InitOptions, init_project

    if preset == "list":
        width = max(map(len, PRESETS))
        for name, about in PRESETS.items():
            typer.echo(f"{name:<{width}}  {about}")
        return
    with usage_errors(), parsing_progress(quiet, text_output=True) as progress:
        result = init_project(InitOptions(directory, preset, pyproject, force, progress))
    chosen = result.draft
    if result.proposed:
        if not quiet:
            typer.echo(f"proposing preset '{chosen.preset}' ({PRESETS[chosen.preset]}), as:")
            for reason in chosen.reasons:
                typer.echo(f"  {reason}")
            if result.also_fitting:
                typer.echo(f"  (also fits: {', '.join(result.also_fitting)}; see --preset)")
    elif chosen.defaults:
        say(
            f"this tree does not have the '{chosen.preset}' layout; the contract names its "
            "default directories",
            "warning",
        )
    if not quiet:
        typer.echo(f"wrote {result.target} (preset '{chosen.preset}')")
    if result.listing is None:
        say(f"the contract does not fit the tree yet:\n{result.problem}", "warning")
        return
    listing = result.listing
    if not quiet:
        held = sum(len(layer.files) for layer in listing.layers)
        counts = ", ".join(f"{layer.id} {len(layer.files)}" for layer in listing.layers)
        typer.echo(
            f"its layers hold {held} of {plural(listing.files, 'Python file')} ({counts}); "
            "`layerguard layers` lists them, `layerguard check` checks them"
        )
    if result.findings is not None:
        if not quiet:
            typer.echo(result.findings.description(result.target.name))
    else:
        say(
            f"the current code could not be checked with the contract:\n{result.check_problem}",
            "warning",
        )
