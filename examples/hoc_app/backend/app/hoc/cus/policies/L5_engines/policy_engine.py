"""Policy rules: names are unique per tenant, and an import is all or nothing.

The engine raises domain errors; the handler turns them into failed results. It never commits
or rolls back: when an import fails half-way, the registry's savepoint discards the policies
it already wrote.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.hoc.cus.policies.L5_schemas.policy import PolicyIn, PolicyOut
from app.hoc.cus.policies.L6_drivers import policy_store


class PolicyConflictError(Exception):
    """The tenant already has a policy with this name."""


class PolicyNotFoundError(Exception):
    """The tenant has no policy with this id."""


async def create_policy(session: AsyncSession, tenant_id: str, data: PolicyIn) -> PolicyOut:
    """Create one policy, refusing a name the tenant already uses."""
    if await policy_store.find_policy_by_name(session, tenant_id=tenant_id, name=data.name):
        raise PolicyConflictError(f"policy {data.name!r} already exists")
    policy = await policy_store.insert_policy(
        session, tenant_id=tenant_id, name=data.name, description=data.description
    )
    return PolicyOut.model_validate(policy)


async def import_policies(
    session: AsyncSession, tenant_id: str, items: list[PolicyIn]
) -> list[PolicyOut]:
    """Create the policies in order; the first conflict fails the whole import."""
    return [await create_policy(session, tenant_id, item) for item in items]


async def get_policy(session: AsyncSession, tenant_id: str, policy_id: int) -> PolicyOut:
    """One policy of the tenant."""
    policy = await policy_store.get_policy(session, tenant_id=tenant_id, policy_id=policy_id)
    if policy is None:
        raise PolicyNotFoundError(f"policy {policy_id} does not exist")
    return PolicyOut.model_validate(policy)


async def list_policies(session: AsyncSession, tenant_id: str) -> list[PolicyOut]:
    """Every policy of the tenant."""
    rows = await policy_store.list_policies(session, tenant_id=tenant_id)
    return [PolicyOut.model_validate(row) for row in rows]
