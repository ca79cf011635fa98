"""Handlers of the policies operations: one class per operation, one engine call each.

They translate the engine's domain errors into failed results (CONFLICT → 409, NOT_FOUND →
404) and never commit: the request's session dependency does, after the route returns.
"""

from __future__ import annotations

from layerguard.runtime import OperationContext, OperationResult

from app.hoc.cus.hoc_spine.schemas.tenancy import tenant_of
from app.hoc.cus.policies.L5_engines import policy_engine
from app.hoc.cus.policies.L5_engines.policy_engine import (
    PolicyConflictError,
    PolicyNotFoundError,
)
from app.hoc.cus.policies.L5_schemas.policy import PolicyImport, PolicyIn


class CreatePolicyHandler:
    """``policies.create``: params ``{"policy": PolicyIn}``."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        """Create the policy, or fail with CONFLICT."""
        data: PolicyIn = ctx.params["policy"]
        try:
            policy = await policy_engine.create_policy(ctx.session, tenant_of(ctx), data)
        except PolicyConflictError as exc:
            return OperationResult.fail(str(exc), "CONFLICT")
        return OperationResult.ok(policy)


class ImportPoliciesHandler:
    """``policies.import``: params ``{"batch": PolicyImport}``; all or nothing."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        """Create every policy, or fail with CONFLICT and leave none of them behind."""
        batch: PolicyImport = ctx.params["batch"]
        try:
            policies = await policy_engine.import_policies(
                ctx.session, tenant_of(ctx), batch.policies
            )
        except PolicyConflictError as exc:
            # The policies written before the conflict are discarded by the registry, which
            # rolls this operation back to its savepoint because the result is a failure.
            return OperationResult.fail(str(exc), "CONFLICT")
        return OperationResult.ok(policies)


class GetPolicyHandler:
    """``policies.get``: params ``{"policy_id": int}``; also asked by the incidents domain."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        """The policy, or fail with NOT_FOUND."""
        policy_id: int = ctx.params["policy_id"]
        try:
            policy = await policy_engine.get_policy(ctx.session, tenant_of(ctx), policy_id)
        except PolicyNotFoundError as exc:
            return OperationResult.fail(str(exc), "NOT_FOUND")
        return OperationResult.ok(policy)


class ListPoliciesHandler:
    """``policies.list``: no params."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        """Every policy of the tenant."""
        return OperationResult.ok(await policy_engine.list_policies(ctx.session, tenant_of(ctx)))
