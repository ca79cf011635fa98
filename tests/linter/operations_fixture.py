"""Files shared by the operation-wiring tests: the acceptance fixture of issue 5 (3 registered
operations, 5 execute call sites: one spread over two lines, one of an unknown name, one in a
directory the config excludes)."""

from __future__ import annotations

HANDLERS = "backend/app/hoc/cus/hoc_spine/orchestrator/handlers"
POLICIES = f"{HANDLERS}/policies_handler.py"
INCIDENTS = f"{HANDLERS}/incidents_handler.py"
REPORTS = f"{HANDLERS}/reports_handler.py"
ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
INCIDENT_ROUTE = "backend/app/hoc/api/cus/incidents/incidents.py"
ROUTE_TESTS = "backend/app/hoc/api/cus/policies/tests/test_routes.py"

# The acceptance fixture.
ACCEPTANCE = {
    POLICIES: """\
class PolicyQueryHandler:
    async def execute(self, ctx):
        return None


class PolicyUpdateHandler:
    async def execute(self, ctx):
        return None


def register(registry):
    registry.register("policies.query", PolicyQueryHandler())
    registry.register("policies.update", PolicyUpdateHandler())
""",
    INCIDENTS: """\
class IncidentListHandler:
    async def execute(self, ctx):
        return None


def register(registry):
    registry.register("incidents.list", IncidentListHandler())
""",
    ROUTE: """\
from app.hoc.cus.hoc_spine.orchestrator.operation_registry import get_operation_registry

registry = get_operation_registry()


async def list_policies(ctx):
    return await registry.execute("policies.query", ctx)


async def update_policy(ctx):
    return await registry.execute(
        "policies.update", ctx
    )


async def delete_policy(ctx):
    return await registry.execute("policies.delete", ctx)
""",
    INCIDENT_ROUTE: """\
async def list_incidents(registry, ctx):
    return await registry.execute("incidents.list", ctx)
""",
    ROUTE_TESTS: """\
async def test_archive(registry, ctx):
    assert await registry.execute("policies.archive", ctx)
""",
}
