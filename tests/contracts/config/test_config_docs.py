"""docs/configuration.md documents every key of the format, as the spec says it."""

from __future__ import annotations

import re
from pathlib import Path

from layerguard.contracts.config.key_table import key_table, keys
from layerguard.contracts.config.loader import load_config

DOCS = Path(__file__).parents[3] / "docs" / "configuration.md"
BLOCK = re.compile(
    r"<!-- BEGIN GENERATED: layerguard schema --output-format markdown -->\n"
    r"(.*?)<!-- END GENERATED -->",
    re.S,
)


def generated_block() -> str:
    found = BLOCK.search(DOCS.read_text(encoding="utf-8"))
    assert found is not None, "the generated key table markers are missing"
    return found.group(1)


def test_the_key_table_is_current() -> None:
    assert generated_block() == key_table(), (
        "docs/configuration.md is stale: replace the generated block with the output of "
        "`layerguard schema --output-format markdown`"
    )


def test_every_key_is_documented() -> None:
    block = generated_block()
    for path, _ in keys():
        assert f"| `{path}` |" in block


def test_the_example_loads(tmp_path: Path) -> None:
    example = re.search(r"## A small example\n\n```yaml\n(.*?)```", DOCS.read_text(), re.S)
    assert example is not None
    path = tmp_path / "layerguard.yaml"
    path.write_text(example.group(1), encoding="utf-8")
    assert [layer.id for layer in load_config(path).layers] == ["api", "engines", "db"]
