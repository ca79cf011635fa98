"""LG401-LG404 through the real `layerguard check`: exact codes, paths, lines and messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.helpers import HOC_CONTRACT, Run, hoc_contract, write_project
from tests.linter.operations_fixture import (
    ACCEPTANCE,
    HANDLERS,
    INCIDENT_ROUTE,
    INCIDENTS,
    POLICIES,
    REPORTS,
    ROUTE,
    ROUTE_TESTS,
)


def check(run_cli: Callable[..., Run], *extra: str) -> Run:
    run = run_cli(["check", "--output-format", "json", "--no-cache", *extra])
    assert run.exit_code in (0, 1), run.stderr
    return run


def messages(run: Run, code: str) -> list[tuple[str, int, str]]:
    return [
        (f["path"], f["line"], f["message"]) for f in run.report["findings"] if f["code"] == code
    ]


def test_acceptance_exactly_one_unknown_dispatch(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, ACCEPTANCE)
    run = check(run_cli)
    assert run.findings() == [("LG401", ROUTE, 17)]
    [finding] = run.report["findings"]
    assert (finding["col"], finding["severity"]) == (18, "error")
    assert finding["message"] == (
        "no handler registers operation 'policies.delete' (did you mean 'policies.update'?); "
        "fix the name or register a handler for it"
    )
    assert finding["key"] == "delete_policy:policies.delete"
    assert run.exit_code == 1


def test_an_unknown_name_on_the_next_line_is_reported_at_the_call(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(
        tmp_path,
        {
            ROUTE: """\
async def archive(registry, ctx):
    result = await registry.execute(
        operation="policies.archive",
        ctx=ctx,
    )
    return await registry.execute(
        "zzz",
        ctx,
    )
"""
        },
    )
    assert messages(check(run_cli, "--select", "LG401"), "LG401") == [
        (
            ROUTE,
            2,
            "no handler registers operation 'policies.archive'; fix the name or register a "
            "handler for it",
        ),
        (
            ROUTE,
            6,
            "no handler registers operation 'zzz'; fix the name or register a handler for it",
        ),
    ]


def test_a_registration_in_an_excluded_file_does_not_count(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(
        tmp_path,
        {
            ROUTE: "async def f(registry, ctx):\n    await registry.execute('fake.op', ctx)\n",
            ROUTE_TESTS: "def setup(registry):\n    registry.register('fake.op', object())\n",
        },
    )
    assert check(run_cli, "--select", "LG401").findings() == [("LG401", ROUTE, 2)]


def test_computed_names_are_never_findings(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(
        tmp_path,
        {
            ROUTE: """\
OP = "policies.query"


async def f(registry, ctx, name):
    await registry.execute(name, ctx)
    await registry.execute(OP, ctx)
    await registry.execute(f"policies.{name}", ctx)
"""
        },
    )
    assert check(run_cli, "--select", "LG4").findings() == []


def test_an_unknown_dispatch_can_be_suppressed_on_its_call_line(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(
        tmp_path,
        {
            ROUTE: """\
async def f(registry, ctx):
    # layerguard: ignore[LG401] registered by the billing service's plugin
    await registry.execute(
        "billing.charge", ctx
    )
"""
        },
    )
    assert check(run_cli).findings() == []


def test_every_registration_after_the_first_is_reported_naming_the_first(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(
        tmp_path,
        {
            POLICIES: """\
class PolicyQueryHandler:
    async def execute(self, ctx):
        return None


def register(registry):
    registry.register("policies.query", PolicyQueryHandler())
    registry.register("policies.query", PolicyQueryHandler())
""",
            INCIDENTS: """\
def register(registry, handler):
    registry.register("policies.query", handler)
""",
        },
    )
    first = f"{INCIDENTS}:2"
    assert messages(check(run_cli, "--select", "LG402"), "LG402") == [
        (
            path,
            line,
            f"operation 'policies.query' is already registered at {first}; remove one "
            "registration or give this operation its own name",
        )
        for path, line in ((POLICIES, 7), (POLICIES, 8))
    ]


# -- LG403 ------------------------------------------------------------------------------------

NO_HANDLER_LAYERS = HOC_CONTRACT.replace("  handler_layers: [L4_handlers]\n", "")

INCIDENT_HANDLER = """\
class IncidentQueryHandler:
    async def execute(self, ctx):
        return None
"""


def test_handler_modules_found_by_registration_alone(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    """Without handler layers, the registered classes decide, wherever they live."""
    assert NO_HANDLER_LAYERS != HOC_CONTRACT
    engine = "backend/app/hoc/cus/policies/L5_engines/ops.py"
    write_project(
        tmp_path,
        {
            INCIDENTS: INCIDENT_HANDLER,
            engine: """\
import app.hoc.cus.hoc_spine.orchestrator.handlers.incidents_handler


class PolicyOps:
    async def execute(self, ctx):
        return None
""",
            f"{HANDLERS}/__init__.py": """\
import app.hoc.cus.hoc_spine.orchestrator.handlers.incidents_handler
from app.hoc.cus.policies.L5_engines import ops


def register_all(registry):
    registry.register(
        "incidents.query",
        app.hoc.cus.hoc_spine.orchestrator.handlers.incidents_handler.IncidentQueryHandler(),
    )
    registry.register("policies.ops", ops.PolicyOps.create())
""",
        },
        NO_HANDLER_LAYERS,
    )
    run = check(run_cli, "--select", "LG403")
    assert messages(run, "LG403") == [
        (
            engine,
            1,
            "handler module imports handler module "
            "`app.hoc.cus.hoc_spine.orchestrator.handlers.incidents_handler` "
            "(IncidentQueryHandler ('incidents.query')); dispatch the other operation with "
            "`registry.execute(...)` or move the shared code to a spine service",
        )
    ]


def test_a_handler_class_reexported_by_a_package_is_still_a_handler(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(
        tmp_path,
        {
            INCIDENTS: INCIDENT_HANDLER,
            f"{HANDLERS}/__init__.py": "from .incidents_handler import IncidentQueryHandler\n",
            POLICIES: """\
from app.hoc.cus.hoc_spine.orchestrator.handlers import IncidentQueryHandler


class PolicyQueryHandler:
    async def execute(self, ctx):
        return await IncidentQueryHandler().execute(ctx)
""",
        },
    )
    run = check(run_cli, "--select", "LG403")
    assert run.findings() == [("LG403", POLICIES, 1)]
    assert "(IncidentQueryHandler)" in run.report["findings"][0]["message"]


def test_import_kinds_that_count(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(
        tmp_path,
        {
            INCIDENTS: INCIDENT_HANDLER,
            POLICIES: """\
import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .incidents_handler import IncidentQueryHandler


class PolicyQueryHandler:
    async def execute(self, ctx):
        module = importlib.import_module(
            "app.hoc.cus.hoc_spine.orchestrator.handlers.incidents_handler"
        )
        try:
            from . import incidents_handler
        except ImportError:
            pass
        return ctx.registry.get_handler(ctx.params["next"])
""",
        },
    )
    run = check(run_cli, "--select", "LG403")
    assert run.findings() == [("LG403", POLICIES, line) for line in (10, 14, 17)]
    assert messages(run, "LG403")[-1][2] == (
        "a handler fetches the handler of an operation directly with "
        "`ctx.registry.get_handler()`; dispatch it with `registry.execute(...)` so it gets the "
        "authority check and the audit record"
    )
    counted = HOC_CONTRACT.replace(
        "import_scopes:\n", "import_scopes:\n  LG403: {type_checking: true}\n"
    )
    (tmp_path / "layerguard.yaml").write_text(counted, encoding="utf-8")
    run = check(run_cli, "--select", "LG403")
    assert run.findings() == [("LG403", POLICIES, line) for line in (5, 10, 14, 17)]


def test_what_is_not_a_handler_module(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    """Base classes, helper classes without `execute`, and wiring modules are not handlers;
    a module may use its own handler classes."""
    write_project(
        tmp_path,
        {
            f"{HANDLERS}/base.py": """\
class BaseHandler:
    async def execute(self, ctx):
        raise NotImplementedError
""",
            f"{HANDLERS}/params.py": "class QueryParams:\n    limit: int = 10\n",
            f"{HANDLERS}/wiring.py": """\
from .incidents_handler import IncidentQueryHandler
from .policies_handler import PolicyQueryHandler


def register_all(registry):
    registry.register("incidents.query", IncidentQueryHandler())
    registry.register("policies.query", PolicyQueryHandler())
""",
            INCIDENTS: INCIDENT_HANDLER,
            POLICIES: """\
from .base import BaseHandler
from .params import QueryParams


class PolicyQueryHandler(BaseHandler):
    async def execute(self, ctx):
        return await PolicyCountHandler().execute(ctx)


class PolicyCountHandler(BaseHandler):
    async def execute(self, ctx):
        return await ctx.registry.execute("incidents.query", ctx)
""",
        },
    )
    assert check(run_cli, "--select", "LG403").findings() == []


def test_an_aliased_handler_is_found_by_its_unique_class_name(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    route_helpers = "backend/app/hoc/cus/hoc_spine/orchestrator/wiring.py"
    write_project(
        tmp_path,
        {
            INCIDENTS: INCIDENT_HANDLER,
            route_helpers: """\
import app.hoc.cus.hoc_spine.orchestrator.handlers.incidents_handler as ih


def register_all(registry):
    registry.register("incidents.query", ih.IncidentQueryHandler())
""",
            # Not in a handler layer (the config names none): a handler by registration only.
            "backend/app/hoc/cus/hoc_spine/orchestrator/audit_handler.py": """\
from app.hoc.cus.hoc_spine.orchestrator.handlers import incidents_handler


class AuditHandler:
    async def execute(self, ctx):
        return None


def register(registry):
    registry.register("audit.write", AuditHandler())
""",
        },
        NO_HANDLER_LAYERS,
    )
    assert check(run_cli, "--select", "LG403").findings() == [
        ("LG403", "backend/app/hoc/cus/hoc_spine/orchestrator/audit_handler.py", 1)
    ]


# -- LG404 ------------------------------------------------------------------------------------


def test_unused_operations_are_opt_in_and_informational(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    reports = ACCEPTANCE[INCIDENTS].replace("incidents.list", "reports.build")
    write_project(tmp_path, {**ACCEPTANCE, REPORTS: reports})
    (tmp_path / ROUTE).write_text(ACCEPTANCE[ROUTE].replace("policies.delete", "policies.query"))
    assert check(run_cli).findings() == []
    run = check(run_cli, "--select", "LG404")
    assert run.exit_code == 0
    [finding] = run.report["findings"]
    assert (finding["path"], finding["line"], finding["severity"]) == (REPORTS, 7, "info")
    assert finding["message"] == (
        "operation 'reports.build' is registered but nothing executes it; remove the handler "
        "and its registration, or suppress this with the reason it is kept"
    )
    config = tmp_path / "layerguard.yaml"
    config.write_text(hoc_contract(extend_select=["LG404"]), encoding="utf-8")
    (tmp_path / INCIDENT_ROUTE).write_text(
        "async def f(registry, ctx, name):\n    return await registry.execute(name, ctx)\n"
    )
    run = check(run_cli)
    assert [(f["path"], f["line"]) for f in run.report["findings"]] == [
        (INCIDENTS, 7),
        (REPORTS, 7),
    ]
    assert run.report["findings"][0]["message"].startswith(
        "operation 'incidents.list' is registered but nothing executes it (1 dynamic dispatch "
        "site might dispatch it); "
    )
    assert run.exit_code == 0
