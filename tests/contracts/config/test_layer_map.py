"""Layer classification of paths and modules, on the hoc preset and on small contracts."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import pytest

from layerguard.contracts.config.loader import load_config
from layerguard.contracts.config.model import Layer, Placeholder, ProjectConfig
from layerguard.contracts.layers import LayerMap, LayerMatch

Load = Callable[[str], ProjectConfig]


@pytest.fixture(scope="module")
def hoc() -> LayerMap:
    preset = files("layerguard.contracts.config") / "presets" / "hoc.yaml"
    return LayerMap(load_config(Path(str(preset))))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("backend/app/hoc/api/cus/policies/routes.py", LayerMatch("L2", "policies")),
        ("backend/app/hoc/api/cus/policies/v2/routes.py", LayerMatch("L2", "policies")),
        ("backend/app/hoc/api/facades/cus/policies.py", LayerMatch("L2.1")),
        ("backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.py", LayerMatch("L4")),
        ("backend/app/hoc/cus/hoc_spine/schemas/common.py", LayerMatch("L4")),
        (
            "backend/app/hoc/cus/hoc_spine/orchestrator/handlers/policies_handler.py",
            LayerMatch("L4_handlers"),
        ),
        ("backend/app/hoc/cus/hoc_spine/services/clock.py", LayerMatch("L4_services")),
        ("backend/app/hoc/cus/policies/L5_engines/engine.py", LayerMatch("L5", "policies")),
        ("backend/app/hoc/cus/billing/L5_schemas/invoice.py", LayerMatch("L5", "billing")),
        ("backend/app/hoc/cus/policies/L6_drivers/policy_driver.py", LayerMatch("L6", "policies")),
        ("backend/app/models/policy.py", LayerMatch("L7")),
        ("backend/app/models/__init__.py", LayerMatch("L7")),
        # Outside every layer:
        ("backend/app/main.py", None),
        ("backend/app/hoc/api/cus/routes.py", None),  # no domain directory
        ("backend/app/hoc/cus/policies/helpers.py", None),
        ("frontend/app/models/x.py", None),
    ],
)
def test_hoc_paths(hoc: LayerMap, path: str, expected: LayerMatch | None) -> None:
    assert hoc.classify_path(path) == expected


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("app.hoc.api.cus.policies.routes", LayerMatch("L2", "policies")),
        ("app.hoc.api.cus.policies", LayerMatch("L2", "policies")),  # a package
        ("app.hoc.cus.hoc_spine.orchestrator.operation_registry", LayerMatch("L4")),
        ("app.hoc.cus.hoc_spine.orchestrator.handlers.x_handler", LayerMatch("L4_handlers")),
        ("app.hoc.cus.policies.L5_engines", LayerMatch("L5", "policies")),
        ("app.hoc.cus.policies.L5_engines.engine.Engine", LayerMatch("L5", "policies")),
        ("app.hoc.cus.policies.L6_drivers.driver", LayerMatch("L6", "policies")),
        ("app.models", LayerMatch("L7")),
        ("app.models.policy", LayerMatch("L7")),
        ("app.hoc.cus.policies", None),
        ("sqlalchemy.ext.asyncio", None),
        ("app", None),
    ],
)
def test_hoc_modules(hoc: LayerMap, module: str, expected: LayerMatch | None) -> None:
    assert hoc.classify_module(module) == expected
    assert hoc.classify_module(module) == expected  # memoised answer


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("backend/app/hoc/cus/x/tests/test_a.py", True),
        ("backend/migrations/versions/001.py", True),
        ("tests/test_a.py", True),
        ("backend/app/hoc/cus/x/L5_engines/e.py", False),
        ("backend/app/latest/x.py", False),
    ],
)
def test_hoc_exclude(hoc: LayerMap, path: str, excluded: bool) -> None:
    assert hoc.is_excluded(path) is excluded


def test_allow_exception_binds_domain(hoc: LayerMap) -> None:
    pattern = "app.hoc.cus.{domain}.L5_schemas.**"
    assert hoc.module_matches(pattern, "app.hoc.cus.policies.L5_schemas.dto", "policies")
    assert hoc.module_matches(pattern, "app.hoc.cus.policies.L5_schemas", "policies")
    assert not hoc.module_matches(pattern, "app.hoc.cus.billing.L5_schemas.dto", "policies")
    assert not hoc.module_matches(pattern, "app.hoc.cus.policies.L5_engines.x", "policies")
    # Unbound, {domain} is any domain the placeholder allows:
    assert hoc.module_matches(pattern, "app.hoc.cus.billing.L5_schemas.dto")
    assert not hoc.module_matches(pattern, "app.hoc.cus.hoc_spine.L5_schemas.dto")


@pytest.mark.parametrize(
    ("pattern", "module", "expected"),
    [
        ("app.db", "app.db", True),
        ("app.db", "app.db.session", True),  # a pattern covers its submodules
        ("app.db", "app.dbx", False),
        ("app.*.session", "app.db.session", True),
        ("app.*.session", "app.db.x.session", False),
        ("app.**.session", "app.db.x.session", True),
        ("app.**.session", "app.session", True),
        ("**.session", "app.db.session", True),
        ("app.d*", "app.db", True),
        ("app.d*", "app.cache", False),
    ],
)
def test_module_patterns(hoc: LayerMap, pattern: str, module: str, expected: bool) -> None:
    assert hoc.module_matches(pattern, module) is expected


def test_owner_entries_are_layer_ids_or_module_patterns(hoc: LayerMap) -> None:
    handler = LayerMatch("L4_handlers")
    entries = ("L4_handlers", "app.db.**")
    assert hoc.allows(entries, handler, "app.hoc.cus.hoc_spine.orchestrator.handlers.h")
    assert hoc.allows(entries, None, "app.db.session")
    assert not hoc.allows(entries, LayerMatch("L5", "x"), "app.hoc.cus.x.L5_engines.e")
    assert not hoc.allows((), handler, "app.db")


def test_virtual_paths_and_modules(hoc: LayerMap) -> None:
    assert hoc.virtual_paths("app.models.user") == [
        "backend/app/models/user.py",
        "backend/app/models/user/__init__.py",
    ]
    assert hoc.modules_of("backend/app/models/user.py") == ["app.models.user"]
    assert hoc.modules_of("backend/app/models/__init__.py") == ["app.models"]
    assert hoc.modules_of("scripts/x.py") == []
    assert hoc.modules_of("backend/app/models/README.md") == []


def test_modules_only_layers_and_several_source_roots(load: Load) -> None:
    config = load(
        """
        version: 1
        source_roots: [., src]
        placeholders:
          domain: {exclude: [contracts]}
        layers:
          - id: contracts
            name: Contracts
            modules: ["pkg.contracts"]
          - id: engines
            name: Engines
            modules: ["pkg.{domain}.engines.**"]
        """
    )
    layers = LayerMap(config)
    assert layers.classify_path("src/pkg/contracts/model.py") == LayerMatch("contracts")
    assert layers.classify_path("pkg/contracts.py") == LayerMatch("contracts")
    assert layers.classify_path("src/pkg/billing/engines/e.py") == LayerMatch("engines", "billing")
    assert layers.classify_module("pkg.billing.engines") == LayerMatch("engines", "billing")
    assert layers.classify_module("pkg.contracts.x") == LayerMatch("contracts")
    assert layers.classify_module("pkg.other") is None


def test_domain_of_a_layer_with_paths_and_modules(load: Load) -> None:
    config = load(
        """
        version: 1
        layers:
          - id: engines
            name: Engines
            paths: ["legacy/engines/**"]
            modules: ["app.{domain}.engines"]
        """
    )
    layers = LayerMap(config)
    assert layers.classify_path("legacy/engines/e.py") == LayerMatch("engines")
    assert layers.classify_path("app/billing/engines/e.py") == LayerMatch("engines", "billing")
    assert layers.classify_module("app.billing.engines.e") == LayerMatch("engines", "billing")


def test_placeholder_values(load: Load) -> None:
    config = load(
        """
        version: 1
        placeholders:
          domain: {values: [billing, policies]}
        layers:
          - id: engines
            name: Engines
            paths: ["app/{domain}/engines/**"]
        """
    )
    layers = LayerMap(config)
    assert layers.classify_path("app/billing/engines/e.py") == LayerMatch("engines", "billing")
    assert layers.classify_path("app/shared/engines/e.py") is None


def test_domain_repeated_in_one_glob_must_agree(load: Load) -> None:
    config = load(
        """
        version: 1
        layers:
          - id: tests
            name: Domain tests
            paths: ["{domain}/tests/{domain}/*.py"]
        """
    )
    layers = LayerMap(config)
    assert layers.classify_path("billing/tests/billing/t.py") == LayerMatch("tests", "billing")
    assert layers.classify_path("billing/tests/policies/t.py") is None


def test_a_placeholder_never_matches_a_file_name(load: Load) -> None:
    config = load(
        """
        version: 1
        layers:
          - id: routes
            name: Routes
            paths: ["api/{domain}"]
        """
    )
    layers = LayerMap(config)
    assert layers.classify_path("api/billing/routes.py") == LayerMatch("routes", "billing")
    assert layers.classify_path("api/routes.py") is None


def test_check_files_reports_files_claimed_twice(tmp_path: Path) -> None:
    # Built directly: load_config would reject these layers statically.
    config = ProjectConfig(
        root=tmp_path,
        placeholders=(Placeholder("domain"),),
        layers=(
            Layer(id="app", name="App", paths=("app/**",)),
            Layer(id="core", name="Core", paths=("app/core/**",)),
        ),
        lines={"layers[1].paths[0]": 7},
    )
    problems = LayerMap(config).check_files(["app/api/x.py", "app/core/y.py", "lib/z.py"])
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'layerguard.yaml'}:7: LG003 layers[1].paths[0]: 'app/core/y.py' belongs "
        "to both layer 'app' and layer 'core'; carve it out of one with 'exclude'."
    ]
