"""Wires every command module into the root app (one line per command or group)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
