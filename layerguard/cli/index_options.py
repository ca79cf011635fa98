"""The options of every command that reads the whole project (check, operations, graph)."""

from __future__ import annotations

from typing import Annotated

import typer

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
