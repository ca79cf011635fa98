"""The kill switch's request and response bodies, shared by the admin route and its handler."""

from __future__ import annotations

from datetime import datetime

from layerguard.runtime import GovernanceState
from pydantic import BaseModel, Field


class KillSwitchChange(BaseModel):
    """Engage (governance disabled, operations run unguarded) or release the kill switch."""

    engaged: bool
    reason: str = Field(min_length=1, max_length=500)
    actor: str = Field(min_length=1, max_length=200)


class GovernanceOut(BaseModel):
    """The governance state after the change, as every worker will see it within the TTL."""

    mode: str
    reason: str | None
    actor: str | None
    changed_at: datetime | None

    @classmethod
    def from_state(cls, state: GovernanceState) -> GovernanceOut:
        """Copy the runtime's state object."""
        return cls(
            mode=state.mode.value,
            reason=state.reason,
            actor=state.actor,
            changed_at=state.changed_at,
        )
