"""Incident rules: an incident is stamped when it is reported and listed newest first.

That the policy exists is not checked here: that is the policies domain's business, and the
handler asks it through the registry (an engine never imports another domain's engine or
driver).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.hoc.cus.incidents.L5_schemas.incident import IncidentIn, IncidentOut
from app.hoc.cus.incidents.L6_drivers import incident_store


async def report_incident(session: AsyncSession, tenant_id: str, data: IncidentIn) -> IncidentOut:
    """Store a new incident, stamped now (UTC)."""
    incident = await incident_store.insert_incident(
        session,
        tenant_id=tenant_id,
        policy_id=data.policy_id,
        title=data.title,
        severity=data.severity,
        reported_at=datetime.now(UTC),
    )
    return IncidentOut.model_validate(incident)


async def list_incidents(
    session: AsyncSession, tenant_id: str, policy_id: int | None = None
) -> list[IncidentOut]:
    """The tenant's incidents, optionally for one policy."""
    rows = await incident_store.list_incidents(session, tenant_id=tenant_id, policy_id=policy_id)
    return [IncidentOut.model_validate(row) for row in rows]
