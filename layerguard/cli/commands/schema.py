"""`layerguard schema`: print the JSON Schema of layerguard.yaml, for editors and CI."""

from __future__ import annotations

from typing import Annotated

import typer

from layerguard.cli.options import LegacyFormatOption, format_option, output_format

SCHEMA_FORMATS = ("json", "markdown")


def schema_command(
    chosen_format: Annotated[
        str | None,
        format_option(
            SCHEMA_FORMATS,
            "json: the JSON Schema (draft 2020-12; the default). markdown: the key "
            "reference table of docs/configuration.md.",
        ),
    ] = None,
    legacy_format: LegacyFormatOption = None,
) -> None:
    """Print the JSON Schema of layerguard.yaml (point your editor's YAML support at it)."""
    fmt = output_format(chosen_format, legacy_format, SCHEMA_FORMATS)
    if fmt == "markdown":
        from layerguard.contracts.config.key_table import key_table

        typer.echo(key_table(), nl=False)
    else:
        from layerguard.contracts.config.schema import schema_text

        typer.echo(schema_text(), nl=False)
