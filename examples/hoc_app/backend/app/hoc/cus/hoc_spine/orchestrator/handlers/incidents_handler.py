"""Handlers of the incidents operations.

Reporting an incident needs a policies answer (does the policy exist?). The handler asks for
it by dispatching ``policies.get`` through the registry, in the same session: no import of
another domain's engine (LG103) or of another handler (LG403), and the nested dispatch gets
its own authority check, audit record and savepoint.
"""

from __future__ import annotations

from layerguard.runtime import OperationContext, OperationResult, get_operation_registry

from app.hoc.cus.hoc_spine.schemas.tenancy import tenant_of
from app.hoc.cus.incidents.L5_engines import incident_engine
from app.hoc.cus.incidents.L5_schemas.incident import IncidentIn


class ReportIncidentHandler:
    """``incidents.report``: params ``{"incident": IncidentIn}``."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        """Store the incident if its policy exists; an unknown policy is a VALIDATION_ERROR."""
        data: IncidentIn = ctx.params["incident"]
        registry = get_operation_registry()
        policy = await registry.execute(
            "policies.get",
            OperationContext(
                session=ctx.session,
                tenant_id=ctx.tenant_id,
                params={"policy_id": data.policy_id},
                correlation_id=ctx.correlation_id,
            ),
        )
        if policy.error_code == "NOT_FOUND":
            return OperationResult.fail(str(policy.error), "VALIDATION_ERROR")
        if not policy.success:
            return OperationResult.fail(str(policy.error), str(policy.error_code))
        incident = await incident_engine.report_incident(ctx.session, tenant_of(ctx), data)
        return OperationResult.ok(incident)


class ListIncidentsHandler:
    """``incidents.list``: params ``{"policy_id": int | None}``."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        """The tenant's incidents, newest first."""
        incidents = await incident_engine.list_incidents(
            ctx.session, tenant_of(ctx), ctx.params.get("policy_id")
        )
        return OperationResult.ok(incidents)
