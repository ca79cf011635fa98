"""The one structured record every dispatch produces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class AuditOutcome(StrEnum):
    """How the dispatch ended."""

    OK = "ok"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ABORTED = "aborted"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """Who called what, when, how it ended and under which governance state.

    ``timestamp`` is the dispatch start in epoch seconds; ``unguarded`` is True when the kill
    switch had disabled governance, ``degraded`` when governance ran in degraded mode.
    """

    operation: str
    tenant_id: str | None
    outcome: AuditOutcome
    error_code: str | None
    duration_ms: float
    governance: str
    unguarded: bool
    degraded: bool
    timestamp: float
    correlation_id: str | None = None
    governance_reason: str | None = None

    @property
    def recorded_at(self) -> datetime:
        """``timestamp`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp, UTC)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what the logging sink puts under its single ``extra`` key)."""
        return {
            "operation": self.operation,
            "tenant_id": self.tenant_id,
            "outcome": str(self.outcome),  # a plain str (Enum.value is a slow descriptor)
            "error_code": self.error_code,
            "duration_ms": self.duration_ms,
            "governance": self.governance,
            "unguarded": self.unguarded,
            "degraded": self.degraded,
            "timestamp": self.timestamp,
            "correlation_id": self.correlation_id,
            "governance_reason": self.governance_reason,
        }
