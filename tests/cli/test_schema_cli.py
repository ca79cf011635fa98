"""`layerguard schema` through the real CLI app."""

from __future__ import annotations

import json
from importlib.resources import files

from typer.testing import CliRunner

from layerguard.cli.app import app
from layerguard.contracts.config.key_table import key_table

SHIPPED = files("layerguard.contracts.config") / "layerguard.schema.json"


def test_schema_prints_the_shipped_json_schema() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    assert result.stdout == SHIPPED.read_text(encoding="utf-8")
    assert json.loads(result.stdout)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_markdown_prints_the_key_reference() -> None:
    result = CliRunner().invoke(app, ["schema", "--output-format", "markdown"])
    assert result.exit_code == 0
    assert result.stdout == key_table()
    assert "| `transactions.owners` |" in result.stdout
