"""The shipped JSON Schema: current, valid, and in agreement with the loader."""

from __future__ import annotations

import json
import textwrap
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from layerguard.contracts.config.errors import ConfigError
from layerguard.contracts.config.loader import load_config
from layerguard.contracts.config.schema import json_schema, schema_text

PACKAGE = files("layerguard.contracts.config")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((PACKAGE / "layerguard.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(validator: jsonschema.Draft202012Validator, text: str) -> list[str]:
    return [e.message for e in validator.iter_errors(yaml.safe_load(text))]


def test_the_shipped_schema_is_what_the_spec_generates() -> None:
    shipped = (PACKAGE / "layerguard.schema.json").read_text(encoding="utf-8")
    assert shipped == schema_text(), (
        "layerguard.schema.json is stale: run "
        "`layerguard schema > layerguard/contracts/config/layerguard.schema.json`"
    )


def test_every_property_has_a_description() -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for name, prop in node.get("properties", {}).items():
                assert prop.get("description"), f"{where}.{name} has no description"
            if node.get("type") == "object" and "properties" in node:
                assert node["additionalProperties"] is False, where
            for key, value in node.items():
                if key != "anyOf":  # constraints on properties described elsewhere
                    walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    walk(json_schema(), "$")


VALID = [
    "version: 1\n",
    """
    version: 1
    source_roots: [src]
    layers:
      - id: contracts
        name: Contracts
        modules: ["pkg.contracts"]
        forbid: {layers: [cli]}
      - id: cli
        name: CLI
        paths: ["src/pkg/cli/**"]
    transactions: {owners: [cli, pkg.db.uow]}
    import_scopes: {LG102: {type_checking: false}}
    rules: {select: [LG101], ignore: []}
    """,
    """
    version: 1
    layers:
      - id: api
        name: API
        modules: [pkg.api]
        forbid: {layers: [db], indirect: true}
      - id: db
        name: DB
        modules: [pkg.db]
    contracts:
      - id: layered
        name: Layered
        type: layers
        layers: [api, "services | tasks", "(helpers) : utils", models]
        containers: ["pkg.{component}"]
        exhaustive: true
        exhaustive_ignores: [conftest]
        ignore_imports:
          - {importer: pkg.a.models, imported: pkg.a.api.**, reason: legacy}
        unmatched_ignore_imports: warn
        import_scopes: {type_checking: false}
        guidance: Move the shared code down a layer.
      - {id: f, name: F, type: forbidden, source_modules: [pkg.api],
         forbidden_modules: [sqlalchemy.orm], indirect: false, as_packages: false}
      - {id: i, name: I, type: independence, modules: ["pkg.domains.*"]}
      - {id: a, name: A, type: acyclic_siblings, ancestors: [pkg], depth: 0,
         skip_descendants: [pkg.vendored]}
      - {id: p, name: P, type: protected, protected_modules: [pkg.db],
         allowed_importers: [], as_packages: true}
    """,
]


@pytest.mark.parametrize("text", VALID)
def test_valid_files_pass_both(
    validator: jsonschema.Draft202012Validator, tmp_path: Path, text: str
) -> None:
    text = textwrap.dedent(text)
    assert schema_errors(validator, text) == []
    path = tmp_path / "layerguard.yaml"
    path.write_text(text)
    load_config(path)


def test_the_hoc_preset_passes_the_schema(validator: jsonschema.Draft202012Validator) -> None:
    preset = (PACKAGE / "presets" / "hoc.yaml").read_text(encoding="utf-8")
    assert schema_errors(validator, preset) == []


INVALID = {
    "unknown key": "version: 1\nsoruce_roots: [src]\n",
    "unknown nested key": "version: 1\ncards: {root: ., glob: x}\n",
    "missing version": "layers: []\n",
    "unsupported version": "version: 2\n",
    "version as text": "version: '1'\n",
    "list expected": "version: 1\nsource_roots: src\n",
    "mapping expected": "version: 1\ntransactions: [owners]\n",
    "null list": "version: 1\nexclude:\n",
    "layer without id": "version: 1\nlayers:\n  - {name: A, paths: [a]}\n",
    "layer without paths or modules": "version: 1\nlayers:\n  - {id: a, name: A}\n",
    "layer with empty paths": "version: 1\nlayers:\n  - {id: a, name: A, paths: []}\n",
    "bad layer id": "version: 1\nlayers:\n  - {id: 'a b', name: A, paths: [a]}\n",
    "bad rule code": "version: 1\nrules: {select: [E501]}\n",
    "bad import scope code": "version: 1\nimport_scopes: {lg102: {lazy: true}}\n",
    "non-boolean scope": "version: 1\nimport_scopes: {LG102: {lazy: 'yes please'}}\n",
    "bad glob": "version: 1\nexclude: ['/abs/**']\n",
    "double star inside a segment": "version: 1\nexclude: ['a/b**/c']\n",
    "bad module pattern": "version: 1\nlayers:\n  - {id: a, name: A, modules: ['a..b']}\n",
    "item listed twice": "version: 1\nexclude: [a, a]\n",
    "allow without reason": (
        "version: 1\nlayers:\n  - {id: a, name: A, paths: [a], allow: [{module: b}]}\n"
    ),
    "blank name": "version: 1\nlayers:\n  - {id: a, name: ' ', paths: [a]}\n",
    "not a mapping": "- version: 1\n",
    "contract without type": "version: 1\ncontracts:\n  - {id: c, name: C, modules: [a]}\n",
    "unknown contract type": "version: 1\ncontracts:\n  - {id: c, name: C, type: other}\n",
    "key of another contract type": (
        "version: 1\ncontracts:\n  - {id: c, name: C, type: independence, modules: [a],"
        " containers: [b]}\n"
    ),
    "contract without its modules": (
        "version: 1\ncontracts:\n  - {id: c, name: C, type: protected}\n"
    ),
    "negative depth": (
        "version: 1\ncontracts:\n  - {id: c, name: C, type: acyclic_siblings, ancestors: [a],"
        " depth: -1}\n"
    ),
    "bad layer syntax": (
        "version: 1\ncontracts:\n  - {id: c, name: C, type: layers, layers: ['a | b : c']}\n"
    ),
    "bad alert level": (
        "version: 1\ncontracts:\n  - {id: c, name: C, type: independence, modules: [a],"
        " unmatched_ignore_imports: warning}\n"
    ),
}


@pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
def test_invalid_files_fail_both(
    validator: jsonschema.Draft202012Validator, tmp_path: Path, text: str
) -> None:
    assert schema_errors(validator, text) != []
    path = tmp_path / "layerguard.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_config(path)
