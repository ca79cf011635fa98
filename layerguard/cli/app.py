"""The `layerguard` command: a typer app whose commands live in one module each
(cli/commands/), wired here and nowhere else.

Command modules import their heavy dependencies inside the command functions, so that
`layerguard check` on a warm cache never pays for libcst.
"""

from __future__ import annotations

import gc
import io
import sys
import warnings
from collections.abc import Callable
from typing import Annotated, Any

import typer

from layerguard._version import __version__
from layerguard.cli.commands import (
    baseline,
    cards,
    check,
    graph,
    init,
    layers,
    migrate,
    operations,
    rules,
    schema,
)
from layerguard.cli.options import ColorOption, say
from layerguard.linter.errors import LayerguardWarning

app = typer.Typer(
    name="layerguard",
    help="Keep a layered FastAPI + SQLAlchemy backend honest: check imports, transactions and "
    "placement cards against the project's layer contract (layerguard.yaml, or "
    "\\[tool.layerguard] in pyproject.toml).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Docstrings are markdown: rich's markdown rendering reflows each paragraph to the
    # terminal's width ("rich" mode keeps the source's line breaks, breaking lines
    # mid-sentence) and shows `code` as code.
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"layerguard {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
    color: ColorOption = None,
) -> None:
    """Keep a layered backend honest."""


app.add_typer(baseline.baseline_app, name="baseline")
app.command("check")(check.check_command)
app.add_typer(cards.cards_app, name="cards", help="Inspect, generate and sync placement cards.")
app.command("explain")(rules.explain_command)
app.command("graph")(graph.graph_command)
app.command("init")(init.init_command)
app.command("layers")(layers.layers_command)
app.add_typer(migrate.migrate_app, name="migrate")
app.command("operations")(operations.operations_command)
app.command("rules")(rules.rules_command)
app.command("schema")(schema.schema_command)


def main() -> None:
    """Console-script entry point.

    What the run prints survives any string (a file name is not always UTF-8, analysed code
    can hold lone surrogates): what the terminal's encoding cannot show is escaped rather than
    ending the run. Notices that are not findings (LayerguardWarning) are printed as
    `layerguard: warning: ...`, whatever the interpreter's warning filters say.
    """
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    with warnings.catch_warnings():
        warnings.simplefilter("always", LayerguardWarning)
        warnings.showwarning = _warning_printer(warnings.showwarning)
        try:
            app()
        finally:
            # The process ends here: what it allocated goes back to the system whole, so the
            # interpreter's last collection need not walk it (20 ms after a check that
            # indexed 2,000 files). Exit handlers run as usual.
            gc.freeze()


def _warning_printer(others: Callable[..., None]) -> Callable[..., None]:
    """Print layerguard's own notices as the command line prints messages, each once per
    process (a command that reads the tree twice, as `init` does, or `check --watch`
    re-reading it, says the same thing once); others as before."""
    shown: set[str] = set()

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, LayerguardWarning):
            text = str(message)
            if text not in shown:
                shown.add(text)
                say(text, "warning")
        else:
            others(message, category, *args, **kwargs)

    return show
