"""Admin route of the kill switch, behind the admin token.

Engaging the switch does not stop anything: operations keep running and every audit record
says ``unguarded`` until it is released (that is the runtime's kill-switch contract).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from layerguard.runtime import OperationContext, get_operation_registry
from layerguard.runtime.integrations.fastapi import SessionDep, result_to_response

from app.hoc.cus.hoc_spine.authority.admin_token import require_admin_token
from app.hoc.cus.hoc_spine.schemas.governance import GovernanceOut, KillSwitchChange

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin_token)])


@router.put("/kill-switch")
async def set_kill_switch(body: KillSwitchChange, session: SessionDep) -> GovernanceOut:
    """Engage or release the kill switch for every worker (audited under tenant `admin`)."""
    registry = get_operation_registry()
    result = await registry.execute(
        "governance.kill_switch",
        OperationContext(session=session, tenant_id="admin", params={"change": body}),
    )
    return GovernanceOut.model_validate(result_to_response(result))
