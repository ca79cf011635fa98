"""A `layerguard.yaml` text rewritten as `[tool.layerguard]`: the same contract, the comments
kept where they belong."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import pytest

from layerguard.contracts.config.loader import parse_config
from layerguard.contracts.config.toml_output import yaml_to_toml
from tests.helpers import HOC_PRESET, contract_content


def test_every_comment_lands_before_its_key_or_after_its_value() -> None:
    text = textwrap.dedent(
        """\
        # The header.
        version: 1
        # Roots.
        source_roots: [src]   # the app
        layers:
          # The first layer.
          - id: api
            name: "API: routes"
            paths: ["src/app/api/**"]
            forbid:
              # Nothing below.
              layers: [db]
          - id: db
            name: Database
            paths: ["src/app/db/**"]
        # Who commits.
        transactions:
          owners: [db]
        # The end.
        """
    )
    # Plain values come before tables in TOML: `transactions` (short, flat) moves up inline,
    # its comment with it.
    assert yaml_to_toml(text) == textwrap.dedent(
        """\
        # The header.
        [tool.layerguard]
        version = 1

        # Roots.
        source_roots = ["src"]  # the app

        # Who commits.
        transactions = { owners = ["db"] }

        # The first layer.
        [[tool.layerguard.layers]]
        id = "api"
        name = "API: routes"
        paths = ["src/app/api/**"]

        [tool.layerguard.layers.forbid]
        # Nothing below.
        layers = ["db"]

        [[tool.layerguard.layers]]
        id = "db"
        name = "Database"
        paths = ["src/app/db/**"]
        # The end.
        """
    )


def test_strings_are_escaped_and_long_lists_wrap() -> None:
    text = (
        'version: 1\nexclude: ["a\\\\b", "quote\\"d", '
        + ", ".join(f'"dir{i}/**"' for i in range(12))
        + "]\n"
    )
    written = yaml_to_toml(text)
    assert '    "a\\\\b",\n    "quote\\"d",\n' in written
    assert tomllib.loads(written)["tool"]["layerguard"]["exclude"][:2] == ["a\\b", 'quote"d']


def test_a_value_toml_cannot_hold_is_refused() -> None:
    with pytest.raises(ValueError, match="line 2: no TOML form for a YAML null"):
        yaml_to_toml("version: 1\nexclude: ~\n")


def test_the_hoc_preset_is_the_same_contract_in_toml(tmp_path: Path) -> None:
    from_yaml = parse_config(HOC_PRESET, tmp_path / "layerguard.yaml")
    from_toml = parse_config(yaml_to_toml(HOC_PRESET), tmp_path / "pyproject.toml")
    assert contract_content(from_toml) == contract_content(from_yaml)
    written = yaml_to_toml(HOC_PRESET)
    for line in HOC_PRESET.splitlines():
        if line.strip().startswith("#"):
            assert line.strip() in written, line
