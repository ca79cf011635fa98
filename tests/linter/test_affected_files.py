"""Which files `check --changed` reports on, the pure middle: two hand-built indexes (the work
tree and the base revision) and the changed paths in, each affected file with its reason out
(linter/changed/affected.py). No git, no disk."""

from __future__ import annotations

from pathlib import Path

from layerguard.contracts.cards.model import Card, CardParseResult, Located
from layerguard.contracts.config.model import Layer, ProjectConfig
from layerguard.contracts.layers import LayerMap
from layerguard.linter.changed.affected import CHANGED, affected_files
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.facts.model import FileFacts, ImportFact, RegistryCall
from layerguard.linter.project.index import ProjectIndex

CONFIG = ProjectConfig(
    root=Path("/project"),
    source_roots=("src",),
    layers=(Layer("api", "Routes", paths=("src/app/api/**",)),),
)
ROUTE = "src/app/api/routes.py"
OTHER = "src/app/api/other.py"
MODEL = "src/app/models/user.py"
WIRING = "src/app/wiring.py"
UNRELATED = "src/app/unrelated.py"


def card(source: str) -> CardParseResult:
    return CardParseResult(Card(path="x", source_path=Located(source, 3)), ())


def index(facts: dict[str, FileFacts], cards: dict[str, CardParseResult]) -> ProjectIndex:
    return ProjectIndex(CONFIG, LayerMap(CONFIG), facts, cards)


def project(model: FileFacts, route_card: str = ROUTE) -> ProjectIndex:
    return index(
        {
            ROUTE: FileFacts(
                imports=(ImportFact(1, 1, "app.models.user", "User"),),
                registry_calls=(RegistryCall(5, 5, "execute", "registry.execute", "users.get"),),
            ),
            OTHER: FileFacts(imports=(ImportFact(1, 1, "app.models", "user"),)),
            MODEL: model,
            WIRING: FileFacts(
                registry_calls=(
                    RegistryCall(2, 1, "register", "registry.register", "users.get", "H"),
                ),
            ),
            UNRELATED: FileFacts(),
        },
        {"cards/route.md": card(route_card), "cards/user.md": card(MODEL)},
    )


def test_a_changed_module_affects_its_importers_and_its_card() -> None:
    now = project(FileFacts(docstring="new"))
    before = project(FileFacts())
    affected = affected_files(now, before, [MODEL])
    assert dict(affected.reasons) == {
        "cards/user.md": "describes src/app/models/user.py, which changed",
        MODEL: CHANGED,
        OTHER: "imports app.models.user (src/app/models/user.py), which changed",
        ROUTE: "imports app.models.user (src/app/models/user.py), which changed",
    }
    assert affected.deleted == frozenset()


def test_a_changed_registration_affects_every_call_site() -> None:
    now = project(FileFacts())
    affected = affected_files(now, project(FileFacts()), [WIRING])
    assert affected.reasons[ROUTE] == "dispatches operation 'users.get' registered in " + WIRING
    assert UNRELATED not in affected.reasons


def test_a_changed_card_affects_the_files_it_describes_before_and_after() -> None:
    now = project(FileFacts(), route_card=OTHER)
    before = project(FileFacts(), route_card=ROUTE)
    affected = affected_files(now, before, ["cards/route.md"])
    assert affected.reasons["cards/route.md"] == CHANGED
    assert affected.reasons[OTHER] == "described by changed card cards/route.md"
    assert affected.reasons[ROUTE] == "described by changed card cards/route.md"


def test_a_deleted_file_is_reported_as_deleted() -> None:
    now = project(FileFacts())
    before = index(
        {**{p: s.facts for p, s in now.files.items()}, "src/app/gone.py": FileFacts()}, {}
    )
    affected = affected_files(now, before, ["src/app/gone.py"])
    assert affected.deleted == frozenset({"src/app/gone.py"})
    assert "src/app/gone.py" not in affected.reasons  # it cannot be reported on


def test_the_contract_changing_affects_everything() -> None:
    now = project(FileFacts())
    affected = affected_files(now, now, ["layerguard.yaml"], contract_changed=True)
    assert affected.files == frozenset(now.files) | frozenset(now.cards) | {"layerguard.yaml"}


def test_the_contract_file_is_reported_on_wherever_it_is() -> None:
    """Its own findings (LG004, LG118, LG119) are on it: `[tool.layerguard]` puts them on
    pyproject.toml."""
    now = project(FileFacts())
    changed = affected_files(
        now, now, ["pyproject.toml"], contract="pyproject.toml", contract_changed=True
    )
    assert changed.reasons["pyproject.toml"] == "changed"
    finding = Diagnostic("pyproject.toml", 12, 1, "LG004", "layer 'models' matches no file")
    emptied = affected_files(
        now, now, [WIRING], contract="pyproject.toml", findings_now=[finding], findings_before=[]
    )
    assert emptied.reasons["pyproject.toml"] == "its findings differ from the base revision's"


def test_a_finding_that_differs_affects_its_file_whatever_the_rule() -> None:
    now = project(FileFacts())
    finding = Diagnostic(UNRELATED, 1, 1, "LG403", "calls another handler")
    affected = affected_files(now, now, [WIRING], findings_now=[finding], findings_before=[])
    assert affected.reasons[UNRELATED] == "its findings differ from the base revision's"
