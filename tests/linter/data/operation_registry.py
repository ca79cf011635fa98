# ruff: noqa: I001, UP035, UP037, UP045 -- written in the style of the code the seed card describes
"""Operation Registry (L4 Orchestrator)

(The code the seed card tests/contracts/cards/data/operation_registry.md describes: the same
functions, classes, public methods, signatures and imports. Test data, never imported.)

Central dispatch layer for domain operations. L2 APIs call this instead of
importing L5 engines directly.

What the registry does NOT do:
    - Own transactions (the session comes from L2 via FastAPI DI)
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, AsyncGenerator, Optional, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.hoc.cus.hoc_spine.services.time import utc_now
from app.hoc.cus.hoc_spine.authority.runtime_switch import is_governance_active

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OperationContext:
    """Immutable context passed to every operation handler.

    The session comes from L2 via FastAPI DI. The registry does NOT
    create sessions or own transaction boundaries.
    """

    session: Any
    tenant_id: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class OperationResult:
    """Outcome of an operation dispatch."""

    success: bool
    data: Any = None
    error: Optional[str] = None
    error_code: Optional[str] = None

    @staticmethod
    def ok(data: Any) -> "OperationResult":
        """Create a successful result."""
        return OperationResult(True, data)

    @staticmethod
    def fail(error: str, error_code: str) -> "OperationResult":
        """Create a failed result."""
        return OperationResult(False, None, error, error_code)


class OperationHandler(Protocol):
    """Protocol for domain operation handlers.

    The handler MUST NOT:
      - Call session.commit() (transaction ownership stays with caller)
    """

    async def execute(self, ctx: OperationContext) -> OperationResult:
        """Execute the domain operation."""
        ...


class OperationRegistry:
    """Central dispatch for domain operations."""

    def __init__(self) -> None:
        self._handlers: dict[str, OperationHandler] = {}
        self._frozen = False

    def register(self, operation: str, handler: OperationHandler) -> None:
        """Register a handler for an operation name."""
        self._handlers[operation] = handler

    def freeze(self) -> None:
        """Freeze the registry. No further registrations allowed."""
        self._frozen = True

    async def execute(self, operation: str, ctx: OperationContext) -> OperationResult:
        """Dispatch an operation to its registered handler."""
        started = time.monotonic()
        active = self._check_authority(operation)
        handler = self._handlers.get(operation)
        if handler is None:
            return OperationResult.fail(operation, "UNKNOWN_OPERATION")
        result = await handler.execute(ctx)
        self._audit_dispatch(operation, ctx, result, (time.monotonic() - started) * 1000, active)
        return result

    def _check_authority(self, operation: str) -> bool:
        """Check governance runtime state before dispatch."""
        return is_governance_active()

    def _audit_dispatch(
        self,
        operation: str,
        ctx: OperationContext,
        result: OperationResult,
        duration_ms: float,
        governance_active: bool,
    ) -> None:
        """Emit structured audit log for every dispatch."""
        logger.info("dispatch %s at %s", operation, utc_now())

    def operations(self) -> list[str]:
        """Return sorted list of registered operation names."""
        return sorted(self._handlers)

    def operation_count(self) -> int:
        """Return count of registered operations."""
        return len(self._handlers)

    def is_frozen(self) -> bool:
        """Return whether the registry is frozen."""
        return self._frozen

    def has_operation(self, operation: str) -> bool:
        """Check if an operation is registered."""
        return operation in self._handlers

    def get_handler(self, operation: str) -> Optional[OperationHandler]:
        """Get the handler for an operation (for testing/introspection)."""
        return self._handlers.get(operation)

    def status(self) -> dict[str, Any]:
        """Return registry status for health/diagnostics endpoints."""
        return {"operations": self.operation_count(), "frozen": self._frozen}


_registry: Optional[OperationRegistry] = None


def get_operation_registry() -> OperationRegistry:
    """Get the operation registry singleton."""
    global _registry
    if _registry is None:
        _registry = OperationRegistry()
    return _registry


async def get_session_dep() -> AsyncGenerator[AsyncSession, None]:
    """L4-provided session dependency for L2 endpoints."""
    from app.db import get_async_session

    async for session in get_async_session():
        yield session


def reset_operation_registry() -> None:
    """Reset the registry singleton. FOR TESTING ONLY."""
    global _registry
    _registry = None
