"""Incident inserts and queries on the session it is given; it flushes, never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.incident import Incident


async def insert_incident(
    session: AsyncSession,
    *,
    tenant_id: str,
    policy_id: int,
    title: str,
    severity: str,
    reported_at: datetime,
) -> Incident:
    """Add an incident and flush, so its id is known."""
    incident = Incident(
        tenant_id=tenant_id,
        policy_id=policy_id,
        title=title,
        severity=severity,
        reported_at=reported_at,
    )
    session.add(incident)
    await session.flush()
    return incident


async def list_incidents(
    session: AsyncSession, *, tenant_id: str, policy_id: int | None = None
) -> Sequence[Incident]:
    """The tenant's incidents, newest first, optionally for one policy."""
    query = select(Incident).where(Incident.tenant_id == tenant_id)
    if policy_id is not None:
        query = query.where(Incident.policy_id == policy_id)
    result = await session.scalars(query.order_by(Incident.id.desc()))
    return result.all()
