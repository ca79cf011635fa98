"""Error codes the registry puts in failed results, and the exceptions it raises.

Codes are part of the public interface (HTTP mappings, dashboards and alerts key on them), so
they are plain string constants that never change meaning.
"""

from __future__ import annotations

from typing import Final

UNKNOWN_OPERATION: Final = "UNKNOWN_OPERATION"
"""No handler is registered under the dispatched name."""

HANDLER_EXCEPTION: Final = "HANDLER_EXCEPTION"
"""Prefix: the handler raised; the full code is ``HANDLER_EXCEPTION:<ExceptionType>``."""

TIMEOUT: Final = "TIMEOUT"
"""The handler did not finish within the operation's timeout."""

TRANSACTION_OWNERSHIP: Final = "TRANSACTION_OWNERSHIP"
"""The handler tried to commit or roll back the request's session."""

TRANSACTION_ERROR: Final = "TRANSACTION_ERROR"
"""Prefix: the per-dispatch unit of work (savepoint) could not be opened."""

INVALID_RESULT: Final = "INVALID_RESULT"
"""The handler returned something other than an ``OperationResult``."""

CANCELLED: Final = "CANCELLED"
"""Audit-only: the dispatch was cancelled (the ``CancelledError`` is re-raised)."""

ABORTED: Final = "ABORTED"
"""Audit-only prefix: ``KeyboardInterrupt``/``SystemExit`` went through (and was re-raised)."""


def handler_exception_code(exc: BaseException) -> str:
    """The code of a handler exception: callers can match on the type without parsing text."""
    return f"{HANDLER_EXCEPTION}:{type(exc).__name__}"


class RegistrationError(Exception):
    """A handler cannot be registered; the message says what to do instead."""


class DuplicateOperationError(RegistrationError):
    """The operation name already has a handler."""


class RegistryFrozenError(RegistrationError):
    """The registry was frozen at start-up; registrations belong before that."""


class InvalidHandlerError(RegistrationError, TypeError):
    """The object has no ``async def execute(self, ctx)``."""


class TransactionOwnershipError(RuntimeError):
    """A handler tried to commit or roll back the session owned by the request.

    Raised from inside the session call so the handler stops where it broke the rule; the
    dispatch then fails with ``TRANSACTION_OWNERSHIP`` whatever the handler does with it.
    """


class UnitOfWorkError(RuntimeError):
    """The request's unit of work cannot be committed safely (e.g. a savepoint was lost)."""
