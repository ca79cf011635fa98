"""Valid layerguard.yaml files: what the model holds, defaults, discovery."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from layerguard.contracts.config.loader import find_config
from layerguard.contracts.config.model import (
    AllowedImport,
    CardSettings,
    ImportScopeOverride,
    ImportScopePolicy,
    Layer,
    Placeholder,
    ProjectConfig,
    RegistryNames,
    RuleSelection,
    TransactionPolicy,
)

Load = Callable[[str], ProjectConfig]


def test_minimal_file_gets_the_documented_defaults(load: Load, tmp_path: Path) -> None:
    config = load("version: 1\n")
    assert config.root == tmp_path.resolve()
    assert config.path == tmp_path / "layerguard.yaml"
    assert config.source_roots == (".",)
    assert config.exclude == ()
    assert config.placeholders == ()
    assert config.layers == ()
    assert config.cross_domain_layers == ()
    assert config.transactions == TransactionPolicy()
    assert config.transactions.calls == ("commit", "rollback", "begin", "begin_nested")
    assert config.import_scopes == {}
    assert config.registry == RegistryNames()
    assert config.registry.lookup == ("registry.get_handler",)
    assert config.cards == CardSettings()
    assert config.rules == RuleSelection()


def test_every_key_reaches_the_model(load: Load) -> None:
    config = load(
        """
        version: 1
        source_roots: [backend]
        exclude: ["**/migrations/**"]
        placeholders:
          domain: {exclude: [shared], values: [billing, shared]}
        layers:
          - id: api
            name: API
            paths: ["backend/app/api/{domain}/**"]
            modules: [app.api_compat]
            exclude: ["backend/app/api/billing/legacy/**"]
            forbid:
              layers: [db]
              modules: [sqlalchemy]
            allow:
              - module: "app.db.{domain}.schemas"
                reason: shared schemas
                importer: app.api.billing.routes
            requires_cards: true
          - id: db
            name: Database
            paths: [backend/app/db]
        cross_domain_layers: [api]
        transactions:
          calls: [commit]
          owners: [db, app.uow]
          session_creators: [db]
          session_factories: [make_session]
          session_makers: [maker]
        import_scopes:
          LG101: {lazy: false}
        registry:
          execute: [ops.run]
          register: [ops.add]
          lookup: [ops.get]
        cards:
          paths: ["docs/cards/**/*.md"]
          root: backend
        rules:
          select: [LG101]
          extend_select: [LG301]
          ignore: [LG202]
        """
    )
    assert config.source_roots == ("backend",)
    assert config.exclude == ("**/migrations/**",)
    assert config.placeholders == (
        Placeholder("domain", exclude=("shared",), values=("billing", "shared"), line=5),
    )
    assert config.layers[0] == Layer(
        id="api",
        name="API",
        paths=("backend/app/api/{domain}/**",),
        modules=("app.api_compat",),
        exclude=("backend/app/api/billing/legacy/**",),
        forbidden_layers=("db",),
        forbidden_modules=("sqlalchemy",),
        allow=(
            AllowedImport(
                module="app.db.{domain}.schemas",
                reason="shared schemas",
                importer="app.api.billing.routes",
                line=16,
            ),
        ),
        requires_cards=True,
        line=7,
    )
    assert config.layers[1] == Layer(id="db", name="Database", paths=("backend/app/db",), line=20)
    assert config.cross_domain_layers == ("api",)
    assert config.transactions == TransactionPolicy(
        calls=("commit",),
        owners=("db", "app.uow"),
        session_creators=("db",),
        session_factories=("make_session",),
        session_makers=("maker",),
        line=24,
    )
    assert config.import_scopes == {"LG101": ImportScopeOverride(lazy=False, line=31)}
    assert config.registry == RegistryNames(
        execute=("ops.run",), register=("ops.add",), lookup=("ops.get",)
    )
    assert config.cards == CardSettings(paths=("docs/cards/**/*.md",), root="backend")
    assert config.rules == RuleSelection(
        select=("LG101",), extend_select=("LG301",), ignore=("LG202",)
    )
    assert config.line_of("layers[0].forbid.modules[0]") == 14
    assert config.line_of("layers[1].forbid") == 20  # absent: its closest ancestor's line


def test_scope_policy_overrides_only_the_kinds_it_names(load: Load) -> None:
    config = load(
        """
        version: 1
        import_scopes:
          LG102: {type_checking: false}
          LG101: {lazy: false, conditional: false}
        """
    )
    rule_default = ImportScopePolicy(type_checking=True, lazy=True, conditional=True)
    assert config.scope_policy("LG102", rule_default) == ImportScopePolicy(
        type_checking=False, lazy=True, conditional=True
    )
    assert config.scope_policy("LG101", rule_default) == ImportScopePolicy(
        type_checking=True, lazy=False, conditional=False
    )
    exempt = ImportScopePolicy(type_checking=False)
    assert config.scope_policy("LG201", exempt) is exempt


def test_find_config_walks_up(tmp_path: Path) -> None:
    (tmp_path / "layerguard.yaml").write_text("version: 1\n")
    nested = tmp_path / "backend" / "app"
    nested.mkdir(parents=True)
    (nested / "main.py").write_text("")
    assert find_config(nested) == tmp_path.resolve() / "layerguard.yaml"
    assert find_config(nested / "main.py") == tmp_path.resolve() / "layerguard.yaml"
    # A directory of that name is found, not passed over for the parent's contract: loading
    # it says what is wrong (issue 11, item 10; tests/cli/test_hostile_files_cli.py).
    (nested / "layerguard.yaml").mkdir()
    assert find_config(nested) == nested.resolve() / "layerguard.yaml"
