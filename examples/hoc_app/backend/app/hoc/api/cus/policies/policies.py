"""Policy routes: HTTP in, one registry dispatch out.

No engine, driver, model or SQLAlchemy import (the linter's LG101/LG102 would report one):
the route validates the body with its own domain's schemas, dispatches the operation with the
request's session, and maps the result to a response.
"""

from __future__ import annotations

from fastapi import APIRouter
from layerguard.runtime import OperationContext, get_operation_registry
from layerguard.runtime.integrations.fastapi import SessionDep, result_to_response

from app.hoc.cus.hoc_spine.schemas.tenancy import TenantId
from app.hoc.cus.policies.L5_schemas.policy import PolicyImport, PolicyIn, PolicyOut

router = APIRouter(prefix="/policies", tags=["policies"])


@router.post("", status_code=201)
async def create_policy(body: PolicyIn, tenant_id: TenantId, session: SessionDep) -> PolicyOut:
    """Create a policy (409 if the tenant already has one with that name)."""
    registry = get_operation_registry()
    result = await registry.execute(
        "policies.create",
        OperationContext(session=session, tenant_id=tenant_id, params={"policy": body}),
    )
    return PolicyOut.model_validate(result_to_response(result))


@router.post("/import", status_code=201)
async def import_policies(
    body: PolicyImport, tenant_id: TenantId, session: SessionDep
) -> list[PolicyOut]:
    """Create several policies at once: all of them, or (409) none."""
    registry = get_operation_registry()
    result = await registry.execute(
        "policies.import",
        OperationContext(session=session, tenant_id=tenant_id, params={"batch": body}),
    )
    return [PolicyOut.model_validate(item) for item in result_to_response(result)]


@router.get("")
async def list_policies(tenant_id: TenantId, session: SessionDep) -> list[PolicyOut]:
    """The tenant's policies, oldest first."""
    registry = get_operation_registry()
    result = await registry.execute(
        "policies.list", OperationContext(session=session, tenant_id=tenant_id)
    )
    return [PolicyOut.model_validate(item) for item in result_to_response(result)]


@router.get("/{policy_id}")
async def get_policy(policy_id: int, tenant_id: TenantId, session: SessionDep) -> PolicyOut:
    """One policy (404 if the tenant has none with this id)."""
    registry = get_operation_registry()
    result = await registry.execute(
        "policies.get",
        OperationContext(session=session, tenant_id=tenant_id, params={"policy_id": policy_id}),
    )
    return PolicyOut.model_validate(result_to_response(result))
