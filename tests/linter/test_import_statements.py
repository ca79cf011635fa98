"""One finding per import statement, for every import rule; and `forbid.indirect: true`, which
makes LG101 and LG102 report chains. Real files, the real index, each rule run on it."""

from __future__ import annotations

from pathlib import Path

from layerguard.contracts.config.loader import load_config
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.project.build import build_index
from layerguard.linter.rules.base import Rule
from layerguard.linter.rules.contracts import (
    ForbiddenContractBroken,
    LayersContractBroken,
    ProtectedContractBroken,
)
from layerguard.linter.rules.imports import (
    CrossDomainImport,
    ForbiddenLayerImport,
    ForbiddenModuleImport,
)
from layerguard.linter.rules.inbound_imports import InboundImportNotAllowed
from layerguard.linter.rules.operations import HandlerCallsHandler
from tests.helpers import HOC_PRESET, write_project

API = "backend/app/hoc/api/cus/policies/policies.py"
ENGINES = "backend/app/hoc/cus/policies/L5_engines"
DRIVERS = "backend/app/hoc/cus/policies/L6_drivers"
OTHER_DRIVERS = "backend/app/hoc/cus/incidents/L6_drivers"
HANDLERS = "backend/app/hoc/cus/hoc_spine/orchestrator/handlers"
SPINE = "backend/app/hoc/cus/hoc_spine/services/clock.py"


def findings(
    rule: type[Rule], root: Path, files: dict[str, str], config: str = HOC_PRESET
) -> list[Diagnostic]:
    write_project(root, files, config)
    index = build_index(load_config(root / "layerguard.yaml"), jobs=1, use_cache=False).index
    return sorted(rule().check(index))


def test_a_statement_importing_two_names_of_a_forbidden_module_is_one_finding(
    tmp_path: Path,
) -> None:
    found = findings(
        ForbiddenLayerImport,
        tmp_path,
        {
            API: "from app.models import Policy, Incident\n"
            "from app.hoc.cus.policies.L5_engines import rules, engine\n",
            "backend/app/models/__init__.py": "",
            f"{ENGINES}/__init__.py": "",
            f"{ENGINES}/rules.py": "",
            f"{ENGINES}/engine.py": "",
        },
    )
    assert [(d.line, d.message, d.key) for d in found] == [
        (
            1,
            "L2 (API routes) must not import L7 (Models) `app.models`; go through a layer L2 "
            "may use, or add an `allow:` exception with a reason",
            "app.models",
        ),
        (
            2,
            "L2 (API routes) must not import L5 (Domain engines) "
            "`app.hoc.cus.policies.L5_engines.rules`, L5 (Domain engines) "
            "`app.hoc.cus.policies.L5_engines.engine`; go through a layer L2 may use, or add "
            "an `allow:` exception with a reason",
            "app.hoc.cus.policies.L5_engines.rules, app.hoc.cus.policies.L5_engines.engine",
        ),
    ]


def test_forbidden_modules_and_other_domains_once_per_statement(tmp_path: Path) -> None:
    files = {
        API: "from sqlalchemy import select, text\nimport sqlmodel, sqlalchemy.orm\n",
        f"{ENGINES}/engine.py": "from app.hoc.cus.incidents.L6_drivers import a, b\n",
        f"{OTHER_DRIVERS}/a.py": "",
        f"{OTHER_DRIVERS}/b.py": "",
    }
    found = findings(ForbiddenModuleImport, tmp_path, files)
    assert [(d.line, d.message) for d in found] == [
        (
            1,
            "L2 (API routes) must not import `sqlalchemy.select`, `sqlalchemy.text` (forbidden: "
            "`sqlalchemy`); move this code to a layer that may use it",
        ),
        (
            2,
            "L2 (API routes) must not import `sqlmodel`, `sqlalchemy.orm` (forbidden: "
            "`sqlmodel`, `sqlalchemy`); move this code to a layer that may use it",
        ),
    ]
    [cross] = findings(CrossDomainImport, tmp_path, files)
    assert (cross.path, cross.line) == (f"{ENGINES}/engine.py", 1)
    assert "`app.hoc.cus.incidents.L6_drivers.a`, L6 (Drivers) of domain 'incidents' " in (
        cross.message
    )


CARD = """\
# {name}.py

**Path:** `backend/app/hoc/cus/policies/L6_drivers/{name}.py`

## Import Boundary

```yaml
boundary:
  forbidden_inbound: ["L2"]
```
"""


def test_inbound_imports_of_two_carded_files_are_one_finding(tmp_path: Path) -> None:
    found = findings(
        InboundImportNotAllowed,
        tmp_path,
        {
            API: "from app.hoc.cus.policies.L6_drivers import store, cache\n",
            f"{DRIVERS}/store.py": "",
            f"{DRIVERS}/cache.py": "",
            "literature/store.md": CARD.format(name="store"),
            "literature/cache.md": CARD.format(name="cache"),
        },
    )
    assert [(d.line, d.message) for d in found] == [
        (
            1,
            "`app.hoc.api.cus.policies.policies` imports `app.hoc.cus.policies.L6_drivers.store`, "
            "whose card forbids importers matching `L2` (literature/store.md:9); and "
            "`app.hoc.cus.policies.L6_drivers.cache`, whose card forbids importers matching "
            "`L2` (literature/cache.md:9); depend on a module the cards allow, or change their "
            "forbidden_inbound",
        )
    ]


def test_a_handler_importing_two_handlers_in_one_statement_is_one_finding(
    tmp_path: Path,
) -> None:
    handler = "class {name}Handler:\n    async def execute(self, ctx):\n        return None\n"
    found = findings(
        HandlerCallsHandler,
        tmp_path,
        {
            f"{HANDLERS}/a_handler.py": (
                "from app.hoc.cus.hoc_spine.orchestrator.handlers import b_handler, c_handler\n"
                + handler.format(name="A")
            ),
            f"{HANDLERS}/b_handler.py": handler.format(name="B"),
            f"{HANDLERS}/c_handler.py": handler.format(name="C"),
        },
    )
    assert [(d.line, d.key) for d in found] == [
        (
            1,
            "app.hoc.cus.hoc_spine.orchestrator.handlers.b_handler, "
            "app.hoc.cus.hoc_spine.orchestrator.handlers.c_handler",
        )
    ]


SHOP = """\
version: 1
layers:
  - id: api
    name: API
    modules: [shop.api]
    forbid:
      layers: [db]
      modules: [sqlalchemy]
      indirect: true
    allow:
      - {module: shop.db.types, reason: type annotations}
  - id: db
    name: Database
    modules: [shop.db]
"""


def test_forbid_indirect_reports_chains_at_their_first_import(tmp_path: Path) -> None:
    files = {
        "shop/api/routes.py": "from shop import service\n",
        "shop/api/admin.py": "import shop.service\nfrom shop.db import session\n",
        "shop/api/views.py": "import shop.helpers\n",
        "shop/service.py": "from shop.db import session\nfrom shop.db import types\n",
        "shop/helpers.py": "def render():\n    import sqlalchemy.orm\n",
        "shop/db/session.py": "",
        "shop/db/types.py": "",
    }
    found = findings(ForbiddenLayerImport, tmp_path, files, SHOP)
    assert [(d.path, d.line, d.message, d.key) for d in found] == [
        (
            "shop/api/admin.py",
            2,
            "api (API) must not import db (Database) `shop.db.session`; go through a layer api "
            "may use, or add an `allow:` exception with a reason",
            "shop.db.session",
        ),
        (
            "shop/api/routes.py",
            1,
            "api (API) must not depend on db (Database) `shop.db.session`, even indirectly: "
            "`shop.api.routes` → `shop.service` (shop/api/routes.py:1) → `shop.db.session` "
            "(shop/service.py:1); remove an import of the chain, or add an `allow:` exception "
            "with a reason",
            "api:shop.api.routes->shop.db.session",
        ),
    ]  # admin.py reaches the session directly too: that pair is its direct import, once
    [module] = findings(ForbiddenModuleImport, tmp_path, files, SHOP)
    assert (module.path, module.line, module.key) == (
        "shop/api/views.py",
        1,
        "api:shop.api.views->sqlalchemy",
    )
    assert "`shop.helpers` (shop/api/views.py:1) → `sqlalchemy` (shop/helpers.py:2)" in (
        module.message
    )
    # Without `indirect`, only the direct import.
    direct = SHOP.replace("      indirect: true\n", "")
    assert [(d.path, d.line) for d in findings(ForbiddenLayerImport, tmp_path, files, direct)] == [
        ("shop/api/admin.py", 2)
    ]
    assert findings(ForbiddenModuleImport, tmp_path, files, direct) == []


CONTRACTS = """\
version: 1
contracts:
  - id: layered
    name: Layered
    type: layers
    layers: [shop.api, shop.db]
  - id: no-db
    name: No db
    type: forbidden
    source_modules: [shop.db]
    forbidden_modules: [shop.api]
  - id: protected
    name: Protected
    type: protected
    protected_modules: [shop.api]
    allowed_importers: []
"""


def test_contract_findings_are_one_per_statement_and_module_reached(tmp_path: Path) -> None:
    files = {
        "shop/api/__init__.py": "",
        "shop/api/a.py": "",
        "shop/api/b.py": "",
        "shop/db/x.py": "from shop.api import a\nimport shop.hub\n",
        "shop/db/y.py": "from shop.api import a, b\n",
        "shop/hub.py": "import shop.api.b\n",
    }
    for rule, contract in ((LayersContractBroken, "layered"), (ForbiddenContractBroken, "no-db")):
        found = findings(rule, tmp_path, files, CONTRACTS)
        assert [(d.path, d.line, d.key) for d in found] == [
            ("shop/db/x.py", 1, f"{contract}:shop.db.x->shop.api"),
            ("shop/db/x.py", 2, f"{contract}:shop.db.x->shop.api"),
            ("shop/db/y.py", 1, f"{contract}:shop.db.y->shop.api"),
        ], rule
        assert "`shop.db.x` → `shop.hub` (shop/db/x.py:2) → `shop.api.b` (shop/hub.py:1); " in (
            found[1].message
        )
        assert "`shop.db.y` → `shop.api.a` (shop/db/y.py:1); also reaches `shop.api.b` from " in (
            found[2].message
        )
    protected = findings(ProtectedContractBroken, tmp_path, files, CONTRACTS)
    assert [(d.path, d.line) for d in protected] == [
        ("shop/db/x.py", 1),
        ("shop/db/y.py", 1),
        ("shop/hub.py", 1),
    ]
