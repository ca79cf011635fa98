"""`contracts:` in layerguard.yaml: what the model holds, and what the loader refuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from layerguard.contracts.config.loader import parse_config
from layerguard.contracts.config.model import (
    AcyclicSiblingsContract,
    ContractLayer,
    ForbiddenContract,
    IgnoredImport,
    ImportScopeOverride,
    IndependenceContract,
    LayersContract,
    ProjectConfig,
    ProtectedContract,
)
from layerguard.contracts.config.resolved import resolved_data
from tests.helpers import without_lines

Load = Callable[[str], ProjectConfig]
ProblemsOf = Callable[[str], list[tuple[int, str, str]]]


def test_every_contract_type_is_read_with_its_options_and_lines(load: Load) -> None:
    config = load(
        """
        version: 1
        contracts:
          - id: layered
            name: Layered
            type: layers
            layers:
              - api
              - "services | tasks"
              - "(helpers) : utils"
            containers: [pkg.one, pkg.two]
            exhaustive: true
            exhaustive_ignores: [conftest]
            ignore_imports:
              - importer: pkg.one.utils
                imported: pkg.one.api.**
                reason: a legacy shortcut
            unmatched_ignore_imports: warn
            import_scopes: {type_checking: false}
            guidance: Move it down.
          - id: no-db
            name: No database in the API
            type: forbidden
            source_modules: [pkg.api]
            forbidden_modules: [sqlalchemy]
            indirect: false
          - id: domains
            name: Independent domains
            type: independence
            modules: ["pkg.domains.*"]
          - id: acyclic
            name: No cycles
            type: acyclic_siblings
            ancestors: [pkg]
            depth: 2
          - id: db
            name: Only repositories touch the db
            type: protected
            protected_modules: [pkg.db]
            allowed_importers: [pkg.repositories]
            as_packages: false
        """
    )
    layered, forbidden, independence, acyclic, protected = config.contracts
    assert layered == LayersContract(
        id="layered",
        name="Layered",
        layers=(
            ContractLayer(("api",), independent=True, line=7),
            ContractLayer(("services", "tasks"), independent=True, line=8),
            ContractLayer(
                ("helpers", "utils"), independent=False, optional=frozenset({"helpers"}), line=9
            ),
        ),
        containers=("pkg.one", "pkg.two"),
        exhaustive=True,
        exhaustive_ignores=("conftest",),
        ignore_imports=(
            IgnoredImport("pkg.one.utils", "pkg.one.api.**", "a legacy shortcut", line=14),
        ),
        unmatched_ignore_imports="warn",
        import_scopes=ImportScopeOverride(type_checking=False, line=18),
        guidance="Move it down.",
        line=3,
    )
    assert forbidden == ForbiddenContract(
        id="no-db",
        name="No database in the API",
        source_modules=("pkg.api",),
        forbidden_modules=("sqlalchemy",),
        indirect=False,
        line=20,
    )
    assert forbidden.as_packages is True
    assert independence == IndependenceContract(
        id="domains", name="Independent domains", modules=("pkg.domains.*",), line=26
    )
    assert acyclic == AcyclicSiblingsContract(
        id="acyclic", name="No cycles", ancestors=("pkg",), depth=2, line=30
    )
    assert protected == ProtectedContract(
        id="db",
        name="Only repositories touch the db",
        protected_modules=("pkg.db",),
        allowed_importers=("pkg.repositories",),
        as_packages=False,
        line=35,
    )
    assert [c.type for c in config.contracts] == [
        "layers",
        "forbidden",
        "independence",
        "acyclic_siblings",
        "protected",
    ]


def test_defaults_follow_import_linter(load: Load) -> None:
    config = load(
        """
        version: 1
        contracts:
          - {id: f, name: F, type: forbidden, source_modules: [a], forbidden_modules: [b]}
          - {id: a, name: A, type: acyclic_siblings, ancestors: [a]}
        """
    )
    forbidden, acyclic = config.contracts
    assert isinstance(forbidden, ForbiddenContract)
    assert (forbidden.indirect, forbidden.as_packages) == (True, True)
    assert forbidden.unmatched_ignore_imports == "error"
    assert forbidden.import_scopes is None
    assert isinstance(acyclic, AcyclicSiblingsContract)
    assert acyclic.depth == 10


def test_a_layer_forbid_opts_into_indirect_imports(load: Load) -> None:
    config = load(
        """
        version: 1
        layers:
          - {id: a, name: A, modules: [pkg.a], forbid: {layers: [b], indirect: true}}
          - {id: b, name: B, modules: [pkg.b], forbid: {layers: [a]}}
        """
    )
    assert [layer.forbid_indirect for layer in config.layers] == [True, False]


def test_contract_problems_name_their_line_and_key(problems: ProblemsOf) -> None:
    assert problems(
        """
        version: 1
        contracts:
          - id: layered
            name: Layered
            type: layers
            layers:
              - api
              - "services | api"
              - "models : models.x"
              - core : utils
            exhaustive: true
          - id: layered
            name: Typo
            type: forbiden
          - id: f
            name: F
            type: forbidden
            source_modules: []
            forbidden_modules: [x]
            allow_indirect_imports: true
          - {id: c, name: C, type: acyclic_siblings, ancestors: [pkg], skip_descendants: [pkg]}
        """
    ) == [
        (
            8,
            "contracts[0].layers[1]",
            "'api' is already in layers[0]: a module is on one level only.",
        ),
        (
            9,
            "contracts[0].layers[2]",
            "'models' contains 'models.x' (layers[2]): a level cannot hold another.",
        ),
        (
            10,
            "contracts[0].layers[3]",
            "expected a string, got a mapping (YAML reads `a: b` and `a : b` as a mapping: quote "
            "the whole string).",
        ),
        (11, "contracts[0].exhaustive", "needs `containers`: their children are what it checks."),
        (
            14,
            "contracts[1].type",
            "unknown type 'forbiden'; did you mean 'forbidden'? Expected one of: layers, "
            "forbidden, independence, acyclic_siblings, protected.",
        ),
        (18, "contracts[2].source_modules", "needs at least one module."),
        (
            20,
            "contracts[2].allow_indirect_imports",
            "unknown key 'allow_indirect_imports': write `indirect: false` for import-linter's "
            "`true`.",
        ),
        (
            21,
            "contracts[3].skip_descendants[0]",
            "'pkg' is also an ancestor: it cannot be skipped.",
        ),
    ]


def test_placeholders_used_only_in_contracts_count_as_used(load: Load) -> None:
    config = load(
        """
        version: 1
        placeholders:
          domain: {exclude: [shared]}
        contracts:
          - {id: d, name: D, type: independence, modules: ["app.{domain}"]}
        """
    )
    assert config.placeholders[0].name == "domain"


def test_show_settings_data_of_contracts_reads_back_as_the_same_contract(
    load: Load, tmp_path: Path
) -> None:
    """`check --show-settings` prints every contract with its defaults filled in, as data a
    layerguard.yaml can hold."""
    config = load(
        """
        version: 1
        contracts:
          - id: layered
            name: Layered
            type: layers
            layers: [api, "service | tasks", "(helpers) : db"]
            containers: [pkg]
            ignore_imports:
              - {importer: pkg.db, imported: pkg.api, reason: legacy, unmatched: none}
            import_scopes: {lazy: false}
          - {id: f, name: F, type: forbidden, source_modules: [a], forbidden_modules: [b]}
          - {id: i, name: I, type: independence, modules: ["a.*"], guidance: Talk to us.}
          - {id: c, name: C, type: acyclic_siblings, ancestors: [a]}
          - {id: p, name: P, type: protected, protected_modules: [a], allowed_importers: []}
        """
    )
    data = resolved_data(config)
    assert data["contracts"][0]["layers"] == ["api", "service | tasks", "(helpers) : db"]
    assert data["contracts"][1] == {
        "type": "forbidden",
        "id": "f",
        "name": "F",
        "ignore_imports": [],
        "unmatched_ignore_imports": "error",
        "source_modules": ["a"],
        "forbidden_modules": ["b"],
        "indirect": True,
        "as_packages": True,
    }
    again = parse_config(yaml.safe_dump(data, sort_keys=False), tmp_path / "layerguard.yaml")
    assert resolved_data(again) == data
    assert [without_lines(c) for c in again.contracts] == [
        without_lines(c) for c in config.contracts
    ]


def test_a_contract_layer_is_read_and_written_in_one_spelling() -> None:
    layer = ContractLayer.parse(" ( helpers ) :db ", line=4)
    assert layer == ContractLayer(
        ("helpers", "db"), independent=False, optional=frozenset({"helpers"}), line=4
    )
    assert layer.text() == "(helpers) : db"
    assert ContractLayer.parse("api|(web)").text() == "api | (web)"
    assert ContractLayer.parse("api").text() == "api"
    assert ContractLayer.parse(layer.text(), line=4) == layer
