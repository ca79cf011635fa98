"""Wires every command module into the root app (one line per command or group)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer


def register(app: typer.Typer) -> None:
    from layerguard.cli.baseline_cmd import baseline_app
    from layerguard.cli.cards_cmd import cards_app
    from layerguard.cli.cards_write_cmd import generate_command, sync_command
    from layerguard.cli.check_cmd import check_command
    from layerguard.cli.graph_cmd import graph_command
    from layerguard.cli.init_cmd import init_command
    from layerguard.cli.operations_cmd import operations_command
    from layerguard.cli.rules_cmd import explain_command, rules_command
    from layerguard.cli.schema_cmd import schema_command

    app.add_typer(baseline_app, name="baseline")
    app.command("check")(check_command)
    cards_app.command("generate")(generate_command)
    cards_app.command("sync")(sync_command)
    app.add_typer(cards_app, name="cards", help="Inspect, generate and sync placement cards.")
    app.command("explain")(explain_command)
    app.command("graph")(graph_command)
    app.command("init")(init_command)
    app.command("operations")(operations_command)
    app.command("rules")(rules_command)
    app.command("schema")(schema_command)
