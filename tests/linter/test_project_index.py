"""ProjectIndex, the pure middle: hand-built facts and a contract in, modules, layers, resolved
imports, cards and operation sites out. Nothing is read from disk or parsed."""

from __future__ import annotations

from pathlib import Path

from layerguard.contracts.cards.model import Card, CardParseResult, Located
from layerguard.contracts.config.model import Layer, Placeholder, ProjectConfig
from layerguard.contracts.layers import LayerMap, LayerMatch
from layerguard.linter.facts.model import FileFacts, ImportFact, RegistryCall
from layerguard.linter.project.index import ProjectIndex

CONFIG = ProjectConfig(
    root=Path("/project"),
    source_roots=("src",),
    placeholders=(Placeholder("domain"),),
    layers=(
        Layer("api", "Routes", paths=("src/app/api/**",)),
        Layer("domain", "Domains", paths=("src/app/{domain}/logic/**",)),
        Layer("models", "Models", paths=("src/app/models/**",)),
    ),
)


def index(
    facts: dict[str, FileFacts], cards: dict[str, CardParseResult] | None = None
) -> ProjectIndex:
    return ProjectIndex(CONFIG, LayerMap(CONFIG), facts, cards)


def imports(*facts: ImportFact) -> FileFacts:
    return FileFacts(imports=facts)


def card(path: str, source: str) -> CardParseResult:
    return CardParseResult(Card(path=path, source_path=Located(source, 3)), ())


def test_files_map_to_modules_packages_and_layers() -> None:
    built = index(
        {
            "src/app/__init__.py": FileFacts(),
            "src/app/api/routes.py": FileFacts(),
            "src/app/billing/logic/engine.py": FileFacts(),  # namespace packages on the way
            "src/app/models/user.py": FileFacts(),
            "scripts/tool.py": FileFacts(),  # outside the source roots
        }
    )
    assert {path: (s.module.name if s.module else None) for path, s in built.files.items()} == {
        "scripts/tool.py": None,
        "src/app/__init__.py": "app",
        "src/app/api/routes.py": "app.api.routes",
        "src/app/billing/logic/engine.py": "app.billing.logic.engine",
        "src/app/models/user.py": "app.models.user",
    }
    assert built.packages == {"app", "app.api", "app.billing", "app.billing.logic", "app.models"}
    assert built.files["src/app/billing/logic/engine.py"].layer == LayerMatch("domain", "billing")
    assert built.files["src/app/__init__.py"].layer is None
    assert built.layer_of_module("app.models.order") == LayerMatch("models")  # no such file
    assert built.layer_of_module("sqlalchemy") is None


def test_imports_resolve_to_absolute_targets() -> None:
    built = index(
        {
            "src/app/api/routes.py": imports(
                ImportFact(1, 1, "app.models.user"),  # import app.models.user
                ImportFact(2, 1, "app.models", "user"),  # from app.models import user (module)
                ImportFact(3, 1, "app.models.user", "User"),  # from app.models.user import User
                ImportFact(4, 1, "", "models", level=2),  # from .. import models (a package)
                ImportFact(5, 1, "models.user", "User", level=2),  # from ..models.user import User
                ImportFact(6, 1, "sqlalchemy.orm", "Session"),  # Session may be a submodule
                ImportFact(7, 1, "", "x", level=9),  # beyond the top-level package: dropped
                ImportFact(8, 1, "", "routes", level=1),  # from . import routes
            ),
            "src/app/models/user.py": FileFacts(),
        }
    )
    resolved = [
        (r.fact.line, r.target, r.names, r.file.path if r.file else None, r.layer)
        for r in built.files["src/app/api/routes.py"].imports
    ]
    user, models = "src/app/models/user.py", LayerMatch("models")
    assert resolved == [
        (1, "app.models.user", ("app.models.user",), user, models),
        (2, "app.models.user", ("app.models.user",), user, models),
        (3, "app.models.user", ("app.models.user",), user, models),
        (4, "app.models", ("app.models",), None, models),
        (5, "app.models.user", ("app.models.user",), user, models),
        (6, "sqlalchemy.orm", ("sqlalchemy.orm", "sqlalchemy.orm.Session"), None, None),
        (8, "app.api.routes", ("app.api.routes",), "src/app/api/routes.py", LayerMatch("api")),
    ]


def test_cards_join_the_files_they_describe() -> None:
    built = index(
        {"src/app/models/user.py": FileFacts()},
        {
            "docs/b.md": card("docs/b.md", "src/app/models/user.py"),
            "docs/a.md": card("docs/a.md", "src/app/models/user.py"),  # first by card path
            "docs/gone.md": card("docs/gone.md", "src/app/models/gone.py"),
            "docs/outside.md": card("docs/outside.md", "../elsewhere.py"),
            "docs/broken.md": CardParseResult(None, ()),
        },
    )
    assert built.card_sources == {
        "docs/a.md": "src/app/models/user.py",
        "docs/b.md": "src/app/models/user.py",
        "docs/gone.md": "src/app/models/gone.py",
        "docs/outside.md": None,
    }
    assert built.card_of_file == {"src/app/models/user.py": "docs/a.md"}


def test_operation_sites_by_name() -> None:
    route = FileFacts(
        registry_calls=(
            RegistryCall(3, 5, "execute", "registry.execute", "users.get"),
            RegistryCall(4, 5, "execute", "registry.execute", None),  # computed: no name
        )
    )
    wiring = FileFacts(
        registry_calls=(RegistryCall(9, 1, "register", "registry.register", "users.get", "H"),)
    )
    built = index({"src/app/api/routes.py": route, "src/app/wiring.py": wiring})
    assert [(s.file.path, s.call.line) for s in built.dispatches["users.get"]] == [
        ("src/app/api/routes.py", 3)
    ]
    assert list(built.dispatches) == ["users.get"]
    assert [(s.file.path, s.call.handler) for s in built.registrations["users.get"]] == [
        ("src/app/wiring.py", "H")
    ]
