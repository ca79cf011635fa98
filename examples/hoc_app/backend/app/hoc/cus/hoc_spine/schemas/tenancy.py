"""The tenant of a request: how routes read it and how handlers get it back.

Every route takes the tenant from the ``X-Tenant-ID`` header and puts it in the operation
context; handlers read it with ``tenant_of`` so that a context without one fails loudly
instead of leaking rows across tenants.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header
from layerguard.runtime import OperationContext

TenantId = Annotated[str, Header(alias="X-Tenant-ID", min_length=1, max_length=100)]


def tenant_of(ctx: OperationContext) -> str:
    """The context's tenant; a dispatch without one is a programming error."""
    if not ctx.tenant_id:
        raise ValueError(f"operation {ctx.operation!r} needs a tenant_id in its context")
    return ctx.tenant_id
