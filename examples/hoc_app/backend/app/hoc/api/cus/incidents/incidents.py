"""Incident routes: report an incident against a policy, list them.

Like every route, they only dispatch: whether the policy exists is the handler's question
(answered by the policies domain through the registry), not the route's.
"""

from __future__ import annotations

from fastapi import APIRouter
from layerguard.runtime import OperationContext, get_operation_registry
from layerguard.runtime.integrations.fastapi import SessionDep, result_to_response

from app.hoc.cus.hoc_spine.schemas.tenancy import TenantId
from app.hoc.cus.incidents.L5_schemas.incident import IncidentIn, IncidentOut

router = APIRouter(prefix="/incidents", tags=["incidents"])


@router.post("", status_code=201)
async def report_incident(
    body: IncidentIn, tenant_id: TenantId, session: SessionDep
) -> IncidentOut:
    """Report an incident (422 if the policy does not exist)."""
    registry = get_operation_registry()
    result = await registry.execute(
        "incidents.report",
        OperationContext(session=session, tenant_id=tenant_id, params={"incident": body}),
    )
    return IncidentOut.model_validate(result_to_response(result))


@router.get("")
async def list_incidents(
    tenant_id: TenantId, session: SessionDep, policy_id: int | None = None
) -> list[IncidentOut]:
    """The tenant's incidents, newest first; ``?policy_id=`` narrows to one policy."""
    registry = get_operation_registry()
    result = await registry.execute(
        "incidents.list",
        OperationContext(session=session, tenant_id=tenant_id, params={"policy_id": policy_id}),
    )
    return [IncidentOut.model_validate(item) for item in result_to_response(result)]
