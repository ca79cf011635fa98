"""Wires every command module into the root app (one line per command or group)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer


def register(app: typer.Typer) -> None:
    from layerguard.cli.cards_cmd import cards_app

    app.add_typer(cards_app, name="cards", help="Inspect placement cards.")
