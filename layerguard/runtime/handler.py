"""The contract every operation handler implements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from layerguard.runtime.context import OperationContext
    from layerguard.runtime.result import OperationResult


class OperationHandler(Protocol):
    """One handler wraps one domain (L5) call.

    It receives the context, calls the facade and returns an ``OperationResult``. It must not
    create sessions, commit or roll back (the request owns the unit of work), import the API
    layer, or call other handlers directly (dispatch through the registry instead).
    """

    async def execute(self, ctx: OperationContext) -> OperationResult:
        """Run the operation for ``ctx``."""
        ...
