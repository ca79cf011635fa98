"""The card rules (LG301-LG306, LG104) on real projects through `layerguard check`.

The centre piece is the seed card describing a matching `operation_registry.py`: the card's own
inconsistency (Transaction: OWNS COMMIT, while its purpose says the registry owns no
transaction) is reported from what the code does, and its `allowed_inbound` is held against
the handler its own usage section shows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from layerguard.linter.cards.derive import Declared, read_transaction_value
from layerguard.linter.rules.cards import layer_ids_agree
from tests.helpers import HOC_CONTRACT, Run, write_project

DATA = Path(__file__).parent / "data"
SEED_CARD = Path(__file__).parents[1] / "contracts" / "cards" / "data" / "operation_registry.md"

SPINE = "backend/app/hoc/cus/hoc_spine"
REGISTRY = f"{SPINE}/orchestrator/operation_registry.py"
HANDLER = f"{SPINE}/orchestrator/handlers/overview_handler.py"
ADAPTER = f"{SPINE}/adapters/http.py"
ROUTE = "backend/app/hoc/api/cus/overview/overview.py"
CARD = "literature/hoc_spine/orchestrator/operation_registry.md"

SEED_PROJECT = {
    REGISTRY: (DATA / "operation_registry.py").read_text("utf-8"),
    CARD: SEED_CARD.read_text("utf-8"),
    f"{SPINE}/services/time.py": "def utc_now():\n    return 0\n",
    f"{SPINE}/authority/runtime_switch.py": "def is_governance_active():\n    return True\n",
    "backend/app/db.py": "async def get_async_session():\n    yield None\n",
    # The seed's usage section: a route dispatches through the registry...
    ROUTE: """\
from app.hoc.cus.hoc_spine.orchestrator.operation_registry import (
    OperationContext,
    get_operation_registry,
)


async def highlights(tenant_id):
    registry = get_operation_registry()
    return await registry.execute("overview.query", OperationContext(None, tenant_id))
""",
    # ... and a handler imports the registry's types to register itself.
    HANDLER: """\
from app.hoc.cus.hoc_spine.orchestrator.operation_registry import (
    OperationContext,
    OperationHandler,
    OperationResult,
    get_operation_registry,
)


class OverviewQueryHandler(OperationHandler):
    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok({})


registry = get_operation_registry()
registry.register("overview.query", OverviewQueryHandler())
""",
    ADAPTER: "from ..orchestrator.operation_registry import get_operation_registry\n",
}

CARD_RULES = "LG104,LG3"


def check(run_cli: Callable[..., Run], select: str = CARD_RULES) -> Run:
    run = run_cli(["check", "--output-format", "json", "--select", select])
    assert run.exit_code in (0, 1), run.stderr
    return run


def messages(run: Run, code: str) -> list[str]:
    return [f["message"] for f in run.report["findings"] if f["code"] == code]


def test_the_seed_card_against_code_that_owns_no_transaction(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, SEED_PROJECT)
    run = check(run_cli)
    assert sorted(run.findings()) == [
        ("LG104", HANDLER, 1),  # allowed_inbound: hoc.api.*, hoc_spine.adapters.* only
        ("LG304", CARD, 17),  # Transaction: OWNS COMMIT
    ]
    assert messages(run, "LG304") == [
        f"the card says `Transaction: OWNS COMMIT`, but `{REGISTRY}` never calls `commit()`, "
        "`rollback()`, `begin()` or `begin_nested()`; write `Forbidden`, or move the commit "
        "here if this file owns the work"
    ]
    assert messages(run, "LG104") == [
        "`app.hoc.cus.hoc_spine.orchestrator.handlers.overview_handler` imports "
        "`app.hoc.cus.hoc_spine.orchestrator.operation_registry`, whose card allows only "
        f"`hoc.api.*`, `hoc_spine.adapters.*` ({CARD}:244); go through a module the card "
        "allows, or widen its allowed_inbound"
    ]


def test_the_seed_card_against_code_that_commits(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    registry = SEED_PROJECT[REGISTRY].replace(
        "    async for session in get_async_session():\n        yield session\n",
        "    async for session in get_async_session():\n"
        "        yield session\n"
        "        await session.commit()\n",
    )
    assert registry != SEED_PROJECT[REGISTRY]
    write_project(tmp_path, {**SEED_PROJECT, REGISTRY: registry})
    run = check(run_cli, CARD_RULES + ",LG201")
    # The card is right about this code: the finding is the commit itself (L4 owns nothing in
    # the hoc preset), not the card.
    assert [code for code, _, _ in run.findings()] == ["LG104", "LG201"]


def test_a_card_written_the_other_way_round_is_reported_at_the_commit(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    card = SEED_PROJECT[CARD].replace("Transaction:     OWNS COMMIT", "Transaction:     Forbidden")
    registry = SEED_PROJECT[REGISTRY].replace(
        "        yield session\n", "        yield session\n        await session.commit()\n"
    )
    write_project(tmp_path, {**SEED_PROJECT, CARD: card, REGISTRY: registry})
    run = check(run_cli, "LG304")
    line = registry.splitlines().index("        await session.commit()") + 1
    assert messages(run, "LG304") == [
        f"the card says `Transaction: Forbidden`, but `{REGISTRY}` calls `session.commit()` "
        f"(line {line}); remove the call (the owner commits) or write `OWNS COMMIT`"
    ]


def test_drift_in_imports_exports_and_layer(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    registry = (
        SEED_PROJECT[REGISTRY]
        .replace(
            "from sqlalchemy.ext.asyncio import AsyncSession\n",
            "from sqlalchemy.ext.asyncio import AsyncSession\nimport httpx\n",
        )
        .replace("from app.hoc.cus.hoc_spine.services.time import utc_now\n", "")
        .replace("def reset_operation_registry() -> None:", "def reset_operation_registry(hard):")
        .replace("    def freeze(self) -> None:", "    def _freeze(self) -> None:")
        .replace(
            "class OperationRegistry:", "def describe():\n    pass\n\n\nclass OperationRegistry:"
        )
    )
    card = SEED_PROJECT[CARD].replace("**Layer:** L4 — HOC Spine", "**Layer:** L4_services — HOC")
    write_project(tmp_path, {**SEED_PROJECT, REGISTRY: registry, CARD: card})
    httpx = registry.splitlines().index("import httpx") + 1
    run = check(run_cli, "LG303,LG305,LG306")
    assert sorted(run.findings()) == [
        ("LG303", CARD, 248),  # actual_imports
        ("LG305", CARD, 201),  # exports: `describe` is not declared
        ("LG305", CARD, 210),  # the signature of reset_operation_registry
        ("LG305", CARD, 228),  # methods: freeze
        ("LG306", CARD, 4),
    ]
    assert messages(run, "LG303") == [
        f"actual_imports are out of date with `{REGISTRY}`: added `httpx` (line {httpx}); removed "
        "`app.hoc.cus.hoc_spine.services.time`; run `layerguard cards sync` (or undo the import "
        "change if it was the mistake)"
    ]
    assert messages(run, "LG306") == [
        f"the card says layer `L4_services`, but `{REGISTRY}` is in L4 (Orchestration spine); "
        "write `**Layer:** L4 — Orchestration spine` or move the file"
    ]


def test_stale_cards_and_cards_of_files_that_exist_unchecked(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    def card(path: str) -> str:
        return f"# x.py\n\n**Path:** `{path}`\n"

    write_project(
        tmp_path,
        {
            "backend/app/hoc/cus/policies/L5_engines/engine.py": "x = 1\n",
            "backend/app/tests/test_engine.py": "x = 1\n",  # excluded by the preset
            "scripts/backfill.py": "x = 1\n",  # outside the source roots
            "literature/ok.md": card("backend/app/hoc/cus/policies/L5_engines/engine.py"),
            "literature/excluded.md": card("backend/app/tests/test_engine.py"),
            "literature/outside.md": card("scripts/backfill.py"),
            "literature/gone.md": card("backend/app/hoc/cus/policies/L5_engines/gone.py"),
            "literature/escapes.md": card("../elsewhere/x.py"),
            "literature/absolute.md": card("/srv/app/x.py"),
        },
    )
    run = check(run_cli, "LG301")
    assert sorted(run.findings()) == [
        ("LG301", "literature/absolute.md", 3),
        ("LG301", "literature/escapes.md", 3),
        ("LG301", "literature/gone.md", 3),
    ]


def test_cards_root_is_what_path_is_relative_to(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    config = HOC_CONTRACT.replace(
        'cards:\n  paths: ["literature/**/*.md"]\n',
        'cards:\n  paths: ["literature/**/*.md"]\n  root: backend\n',
    )
    engine = "app/hoc/cus/policies/L5_engines/engine.py"
    write_project(
        tmp_path,
        {
            "backend/app/hoc/cus/policies/L5_engines/engine.py": "x = 1\n",
            "literature/engine.md": f"# e\n\n**Path:** `{engine}`\n",
            "literature/wrong.md": f"# e\n\n**Path:** `backend/{engine}`\n",
        },
        config,
    )
    assert check(run_cli, "LG301").findings() == [("LG301", "literature/wrong.md", 3)]


def test_missing_cards_only_where_required(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    config = HOC_CONTRACT.replace(
        '    paths: ["backend/app/hoc/cus/{domain}/L6_*/**"]\n',
        '    paths: ["backend/app/hoc/cus/{domain}/L6_*/**"]\n    requires_cards: true\n',
    )
    assert config != HOC_CONTRACT
    driver = "backend/app/hoc/cus/policies/L6_drivers/driver.py"
    write_project(
        tmp_path,
        {
            driver: "def load():\n    pass\n",
            "backend/app/hoc/cus/policies/L6_drivers/documented.py": "def load():\n    pass\n",
            "backend/app/hoc/cus/policies/L6_drivers/__init__.py": "",
            "backend/app/hoc/cus/policies/L5_engines/engine.py": "def run():\n    pass\n",
            "literature/documented.md": (
                "# documented.py\n\n**Path:** "
                "`backend/app/hoc/cus/policies/L6_drivers/documented.py`\n"
            ),
        },
        config,
    )
    assert check(run_cli, "LG302").findings() == [("LG302", driver, 1)]


IMPORTS_PROJECT = {
    "backend/app/hoc/cus/policies/L5_engines/__init__.py": "",
    "backend/app/hoc/cus/policies/L5_engines/engine.py": """\
from __future__ import annotations

import os.path
import json as j
from typing import TYPE_CHECKING

try:
    import orjson
except ImportError:
    orjson = None

from . import helpers
from .helpers import tool
from app.hoc.cus.policies.L6_drivers import driver
from app.models import policy as models
from app import types

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def lazy():
    import requests
""",
    "backend/app/hoc/cus/policies/L5_engines/helpers.py": "def tool():\n    pass\n",
    "backend/app/hoc/cus/policies/L6_drivers/driver.py": "",
    "backend/app/models/policy.py": "",
    "backend/app/types.py": "",  # a project module named like the standard library's `types`
}
LISTED = [
    "orjson",
    "app.hoc.cus.policies.L5_engines.helpers",  # `from . import helpers`: the submodule
    "app.hoc.cus.policies.L6_drivers.driver",
    "app.models.policy",
    "app.types",
    "sqlalchemy.orm",
]


def test_the_actual_imports_convention(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    card = (
        "# engine.py\n\n**Path:** `backend/app/hoc/cus/policies/L5_engines/engine.py`\n\n"
        "## Import Boundary\n\n```yaml\nboundary:\n  actual_imports:\n"
        f"    everything: {LISTED}\n```\n"
    )
    write_project(tmp_path, {**IMPORTS_PROJECT, "literature/engine.md": card})
    assert check(run_cli, "LG303").findings() == []
    fewer = card.replace("'app.types', ", "").replace("'orjson', ", "'os.path', ")
    (tmp_path / "literature/engine.md").write_text(fewer, encoding="utf-8")
    assert messages(check(run_cli, "LG303"), "LG303") == [
        "actual_imports are out of date with `backend/app/hoc/cus/policies/L5_engines/engine.py`: "
        "added `orjson` (line 8), `app.types` (line 16); removed `os.path`; run "
        "`layerguard cards sync` (or undo the import change if it was the mistake)"
    ]


def test_exports_with_all_overloads_protocols_and_kinds(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    engine = "backend/app/hoc/cus/policies/L5_engines/engine.py"
    source = """\
from typing import Protocol, overload

__all__ = ["run", "Runner", "Engine", "helper"]


@overload
def run(x: int) -> int: ...
@overload
def run(x: str) -> str: ...
def run(x):
    return x


class Runner(Protocol):
    def go(self) -> None: ...


def Engine():
    pass


class helper:
    pass


def not_exported():
    pass
"""
    card = f"""\
# engine.py

**Path:** `{engine}`

## Export Contract

```yaml
exports:
  functions:
    - name: run
      signature: "run(x: str) -> str"
    - helper
  classes:
    - name: Engine
  protocols:
    - name: Runner
      methods: [go]
```
"""
    write_project(tmp_path, {engine: source, "literature/engine.md": card})
    run = check(run_cli, "LG305")
    assert sorted(run.findings()) == [
        ("LG305", "literature/engine.md", 12),
        ("LG305", "literature/engine.md", 14),
    ]
    assert sorted(messages(run, "LG305")) == [
        f"the Export Contract declares class `Engine`, but `{engine}` defines a function of "
        "that name; remove it from the contract (`layerguard cards sync`) or restore the class",
        f"the Export Contract declares function `helper`, but `{engine}` defines a class of "
        "that name; remove it from the contract (`layerguard cards sync`) or restore the function",
    ]


INBOUND_CARD = """\
# driver.py

**Path:** `backend/app/hoc/cus/policies/L6_drivers/driver.py`

## Import Boundary

```yaml
boundary:
{boundary}
```
"""
DRIVER = "backend/app/hoc/cus/policies/L6_drivers/driver.py"
IMPORTERS = {
    "backend/app/hoc/cus/policies/L5_engines/engine.py": "from ..L6_drivers import driver\n",
    "backend/app/hoc/cus/policies/L6_drivers/sibling.py": "from . import driver\n",
    "backend/app/models/user.py": "import app.hoc.cus.policies.L6_drivers.driver\n",
}


@pytest.mark.parametrize(
    ("boundary", "reported"),
    [
        ("  allowed_inbound:\n  forbidden_inbound:", []),  # as generated: not decided yet
        ("  allowed_inbound: []", ["L5_engines", "L6_drivers", "models"]),  # nobody may
        ("  allowed_inbound: [L5, L6]", ["models"]),  # layer ids
        ("  allowed_inbound: ['policies.*']", ["models"]),  # unanchored, one segment below
        ("  allowed_inbound: ['app.hoc.**']", ["models"]),  # anchored at the root package
        ("  allowed_inbound: ['hoc.**']", ["models"]),
        (
            "  allowed_inbound: ['app.hoc']\n  forbidden_inbound: ['*_drivers']",
            ["L6_drivers", "models"],
        ),
        ("  forbidden_inbound: ['L5_engines.engine', 'models.*']", ["L5_engines", "models"]),
        ("  allowed_inbound: ['cus.policies.L5_*']", ["L6_drivers", "models"]),
    ],
)
def test_inbound_patterns(
    boundary: str, reported: list[str], tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    card = INBOUND_CARD.format(boundary=boundary)
    write_project(tmp_path, {DRIVER: "", "literature/driver.md": card, **IMPORTERS})
    found = check(run_cli, "LG104").findings()
    assert all(line == 1 for _, _, line in found)
    assert sorted(path.split("/")[-2] for _, path, _ in found) == reported


@pytest.mark.parametrize(
    ("value", "declared"),
    [
        ("OWNS COMMIT", Declared.OWNS),
        ("owns transactions (request scope)", Declared.OWNS),
        ("Forbidden", Declared.FORBIDDEN),
        ("FORBIDDEN — the session dependency commits", Declared.FORBIDDEN),
        ("Must not commit", Declared.FORBIDDEN),
        ("Flush-only (drivers)", Declared.FLUSH_ONLY),
        ("flush_only", Declared.FLUSH_ONLY),
        ("None", Declared.NONE),
        ("N/A", Declared.NONE),
        ("Read-only: SELECT", Declared.NONE),
        ("Sometimes", None),
        ("commit at end", None),
    ],
)
def test_transaction_values(value: str, declared: Declared | None) -> None:
    assert read_transaction_value(value) is declared


def test_flush_is_transaction_work_only_for_none(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    driver = "backend/app/hoc/cus/policies/L6_drivers/driver.py"

    def card(name: str, value: str) -> str:
        placement = f"## Placement Card\n\n```\nTransaction: {value}\n```\n"
        return f"# {name}\n\n**Path:** `{driver}`\n\n{placement}"

    write_project(
        tmp_path,
        {
            driver: "async def save(s):\n    await s.flush()\n",
            "literature/a.md": card("a", "Forbidden"),
            "literature/b.md": card("b", "Flush only"),
            "literature/c.md": card("c", "None"),
            "literature/d.md": card("d", ""),
        },
    )
    run = check(run_cli, "LG304")
    assert run.findings() == [("LG304", "literature/c.md", 8)]
    assert messages(run, "LG304") == [
        f"the card says `Transaction: None`, but `{driver}` calls `s.flush()` (line 2); remove "
        "the call (the owner commits) or write `Flush only`"
    ]


@pytest.mark.parametrize(
    ("card_id", "layer_id", "agree"),
    [
        ("L4", "L4", True),
        ("l4", "L4", True),
        ("L4", "L4_handlers", True),
        ("L2", "L2.1", True),
        ("L5/L6", "L6", True),
        ("L5/L6", "L5", True),
        ("L4_handlers", "L4", False),
        ("L2.1", "L2", False),
        ("L4", "L45", False),
        ("L5", "L4_handlers", False),
        ("HOC", "L4", False),
    ],
)
def test_layer_ids(card_id: str, layer_id: str, agree: bool) -> None:
    assert layer_ids_agree(card_id, layer_id) is agree


def test_cards_of_unparsable_files_are_not_compared(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(
        tmp_path,
        {
            REGISTRY: "def broken(:\n",
            CARD: SEED_PROJECT[CARD],
        },
    )
    assert check(run_cli, "LG3,LG001").findings() == [("LG001", REGISTRY, 1)]
