"""Policy queries and inserts on the session it is given; it flushes (for ids), never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.policy import Policy


async def insert_policy(
    session: AsyncSession, *, tenant_id: str, name: str, description: str
) -> Policy:
    """Add a policy and flush, so its id is known and later queries of the operation see it."""
    policy = Policy(tenant_id=tenant_id, name=name, description=description)
    session.add(policy)
    await session.flush()
    return policy


async def get_policy(session: AsyncSession, *, tenant_id: str, policy_id: int) -> Policy | None:
    """The tenant's policy with this id, if any."""
    return await session.scalar(
        select(Policy).where(Policy.tenant_id == tenant_id, Policy.id == policy_id)
    )


async def find_policy_by_name(session: AsyncSession, *, tenant_id: str, name: str) -> Policy | None:
    """The tenant's policy with this name, if any."""
    return await session.scalar(
        select(Policy).where(Policy.tenant_id == tenant_id, Policy.name == name)
    )


async def list_policies(session: AsyncSession, *, tenant_id: str) -> Sequence[Policy]:
    """The tenant's policies, oldest first."""
    result = await session.scalars(
        select(Policy).where(Policy.tenant_id == tenant_id).order_by(Policy.id)
    )
    return result.all()
