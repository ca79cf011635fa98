"""Handler of the kill switch: flips the table-backed governance state for every worker.

The switch writes through its own connection, not the request's session: engaging it must
take effect even if the request fails afterwards, and the other workers read the same row
(within their TTL). The dispatch itself is audited like any operation, so the trail shows who
flipped it and when.
"""

from __future__ import annotations

from layerguard.runtime import OperationContext, OperationResult
from layerguard.runtime.governance.table import TableAuthority

from app.hoc.cus.hoc_spine.schemas.governance import GovernanceOut, KillSwitchChange


class SetKillSwitchHandler:
    """``governance.kill_switch``: params ``{"change": KillSwitchChange}``."""

    def __init__(self, switch: TableAuthority) -> None:
        self._switch = switch

    async def execute(self, ctx: OperationContext) -> OperationResult:
        """Engage (governance disabled, operations unguarded) or release the kill switch."""
        change: KillSwitchChange = ctx.params["change"]
        if change.engaged:
            state = await self._switch.disable(change.reason, change.actor)
        else:
            state = await self._switch.enable(change.reason, change.actor)
        return OperationResult.ok(GovernanceOut.from_state(state))
