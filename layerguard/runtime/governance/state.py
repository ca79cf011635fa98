"""The governance state the authority gate reads before every dispatch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class GovernanceMode(StrEnum):
    """Active: guarded. Disabled: the kill switch is on, operations run unguarded. Degraded:
    guarded but with a known problem, so dispatches warn and audit records carry a flag."""

    ACTIVE = "active"
    DISABLED = "disabled"
    DEGRADED = "degraded"


@dataclass(frozen=True, slots=True)
class GovernanceState:
    """An immutable snapshot: providers swap whole states, so readers never see half a change."""

    mode: GovernanceMode = GovernanceMode.ACTIVE
    reason: str | None = None
    actor: str | None = None
    changed_at: datetime | None = None

    @property
    def guarded(self) -> bool:
        """False when the kill switch disabled governance (audit records say *unguarded*)."""
        return self.mode is not GovernanceMode.DISABLED

    @property
    def degraded(self) -> bool:
        """True in degraded mode."""
        return self.mode is GovernanceMode.DEGRADED

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``status()`` and audit sinks."""
        return {
            "mode": self.mode.value,
            "reason": self.reason,
            "actor": self.actor,
            "changed_at": self.changed_at.isoformat() if self.changed_at else None,
        }


ACTIVE_STATE = GovernanceState()
"""The state of a registry nobody switched: fully guarded."""
