"""Incident request and response bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Severity = Literal["low", "medium", "high", "critical"]


class IncidentIn(BaseModel):
    """An incident to report against one of the tenant's policies."""

    policy_id: int
    title: str = Field(min_length=1, max_length=200)
    severity: Severity


class IncidentOut(BaseModel):
    """A stored incident."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    policy_id: int
    title: str
    severity: Severity
    reported_at: datetime

    @field_validator("reported_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        """SQLite hands back naive datetimes; the column holds UTC."""
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
