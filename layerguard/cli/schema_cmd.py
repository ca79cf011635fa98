"""`layerguard schema`: print the JSON Schema of layerguard.yaml, for editors and CI."""

from __future__ import annotations

import enum
from typing import Annotated

import typer


class SchemaFormat(enum.StrEnum):
    json = "json"
    markdown = "markdown"


def schema_command(
    output_format: Annotated[
        SchemaFormat,
        typer.Option(
            "--format",
            help="json: the JSON Schema (draft 2020-12). markdown: the key reference table of "
            "docs/configuration.md.",
        ),
    ] = SchemaFormat.json,
) -> None:
    """Print the JSON Schema of layerguard.yaml (point your editor's YAML support at it)."""
    if output_format is SchemaFormat.markdown:
        from layerguard.contracts.config.reference import key_table

        typer.echo(key_table(), nl=False)
    else:
        from layerguard.contracts.config.schema import schema_text

        typer.echo(schema_text(), nl=False)
