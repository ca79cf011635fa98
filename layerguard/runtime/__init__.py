"""Run-time half of layerguard: the operation registry and its integrations.

This package imports only the standard library. ``get_session_dep`` and ``SessionDep`` are
resolved on first access (they need SQLAlchemy, and FastAPI for the alias), so
``import layerguard.runtime`` works where neither is installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from layerguard.runtime import errors
from layerguard.runtime.audit import (
    AuditOutcome,
    AuditRecord,
    AuditSink,
    InMemoryAuditSink,
    LoggingAuditSink,
)
from layerguard.runtime.context import OperationContext
from layerguard.runtime.correlation import bind_correlation_id, current_correlation_id
from layerguard.runtime.errors import (
    CommitFailedError,
    CommitOutcomeUnknownError,
    DatabaseUnavailableError,
    DuplicateOperationError,
    InvalidHandlerError,
    RegistrationError,
    RegistryFrozenError,
    TransactionOwnershipError,
    UnitOfWorkError,
)
from layerguard.runtime.governance import (
    AuthorityProvider,
    EnvironmentAuthority,
    GovernanceMode,
    GovernanceState,
    InMemoryKillSwitch,
)
from layerguard.runtime.handler import OperationHandler
from layerguard.runtime.registry import (
    OperationRegistry,
    get_operation_registry,
    reset_operation_registry,
)
from layerguard.runtime.result import OperationResult
from layerguard.runtime.transaction import (
    DispatchUnit,
    UnitOfWorkAdapter,
    register_unit_of_work,
)

if TYPE_CHECKING:
    from layerguard.runtime.integrations.fastapi import SessionDep as SessionDep
    from layerguard.runtime.integrations.sqlalchemy_session import (
        get_session_dep as get_session_dep,
    )

_LAZY = {
    "get_session_dep": "layerguard.runtime.integrations.sqlalchemy_session",
    "SessionDep": "layerguard.runtime.integrations.fastapi",
}

# get_session_dep and SessionDep are public too, but stay out of __all__: a star import must
# not pull in SQLAlchemy/FastAPI. They load on first attribute access (see __getattr__).
__all__ = [
    "AuditOutcome",
    "AuditRecord",
    "AuditSink",
    "AuthorityProvider",
    "CommitFailedError",
    "CommitOutcomeUnknownError",
    "DatabaseUnavailableError",
    "DispatchUnit",
    "DuplicateOperationError",
    "EnvironmentAuthority",
    "GovernanceMode",
    "GovernanceState",
    "InMemoryAuditSink",
    "InMemoryKillSwitch",
    "InvalidHandlerError",
    "LoggingAuditSink",
    "OperationContext",
    "OperationHandler",
    "OperationRegistry",
    "OperationResult",
    "RegistrationError",
    "RegistryFrozenError",
    "TransactionOwnershipError",
    "UnitOfWorkAdapter",
    "UnitOfWorkError",
    "bind_correlation_id",
    "current_correlation_id",
    "errors",
    "get_operation_registry",
    "register_unit_of_work",
    "reset_operation_registry",
]


def __getattr__(name: str) -> Any:
    """Load the SQLAlchemy/FastAPI-backed names on first access, not at import time."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        extra = "fastapi,sqlalchemy" if name == "SessionDep" else "sqlalchemy"
        raise ImportError(
            f"layerguard.runtime.{name} needs the optional dependencies: "
            f"pip install 'layerguard[{extra}]' ({exc})"
        ) from exc
    value = getattr(module, name)
    globals()[name] = value
    return value
