"""docs/configuration.md documents every key of the format, as the spec says it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from layerguard.contracts.config.key_table import key_table, keys
from layerguard.contracts.config.loader import load_config
from tests.helpers import Run, contract_content, write_project

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


def test_the_toml_example_is_the_same_contract(tmp_path: Path) -> None:
    text = DOCS.read_text(encoding="utf-8")
    yaml_example = re.search(r"## A small example\n\n```yaml\n(.*?)```", text, re.S)
    toml_example = re.search(
        r"The same contract in `pyproject.toml`:\n\n```toml\n(.*?)```", text, re.S
    )
    assert yaml_example is not None
    assert toml_example is not None
    (tmp_path / "layerguard.yaml").write_text(yaml_example.group(1), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(toml_example.group(1), encoding="utf-8")
    from_yaml = load_config(tmp_path / "layerguard.yaml")
    from_toml = load_config(tmp_path / "pyproject.toml")
    assert contract_content(from_toml) == contract_content(from_yaml)


def test_the_layer_listing_example_is_what_layers_prints(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    section = DOCS.read_text(encoding="utf-8").split("## Seeing what the layers hold")[1]
    contract = re.search(r"```yaml\n(.*?)```", section, re.S)
    listing = re.search(r"```text\n(.*?)```", section, re.S)
    assert contract is not None
    assert listing is not None
    files = [line.split()[0] for line in listing.group(1).splitlines() if line.startswith("  ")]
    write_project(tmp_path, dict.fromkeys(files, ""), contract.group(1))
    run = run_cli(["layers"])
    assert (run.exit_code, run.stdout) == (0, listing.group(1))


def test_the_contracts_example_loads(tmp_path: Path) -> None:
    text = (DOCS.parent / "contracts.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", text, re.S)  # the first one
    assert example is not None
    path = tmp_path / "layerguard.yaml"
    path.write_text(example.group(1), encoding="utf-8")
    config = load_config(path)
    assert [c.id for c in config.contracts] == ["layered", "independent-domains"]
    assert config.layers[0].forbid_indirect
