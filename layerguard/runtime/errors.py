"""Error codes the registry puts in failed results, and the exceptions it raises.

Codes are part of the public interface (HTTP mappings, dashboards and alerts key on them), so
they are plain string constants that never change meaning.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
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

KILL_SWITCH_ENGAGED: Final = "KILL_SWITCH_ENGAGED"
"""The kill switch is engaged and the registry runs in ``kill_switch="refuse"`` mode."""

INVALID_RESULT: Final = "INVALID_RESULT"
"""The handler returned something other than an ``OperationResult``."""

DATABASE_UNAVAILABLE: Final = "DATABASE_UNAVAILABLE"
"""The database could not be reached (refused, lost, shutting down): not a handler bug."""

COMMIT_FAILED: Final = "COMMIT_FAILED"
"""The request's commit was refused by the database; nothing of the request was committed."""

COMMIT_OUTCOME_UNKNOWN: Final = "COMMIT_OUTCOME_UNKNOWN"
"""The connection was lost while COMMIT was in flight: the writes may or may not be there."""

UNIT_OF_WORK_POISONED: Final = "UNIT_OF_WORK_POISONED"
"""A dispatch left the request's unit of work unsafe to commit; it was rolled back whole."""

INTERNAL_ERROR: Final = "INTERNAL_ERROR"
"""An exception nobody turned into a result (the route's own code): answered as JSON."""

CANCELLED: Final = "CANCELLED"
"""Audit-only: the dispatch was cancelled (the ``CancelledError`` is re-raised)."""

ABORTED: Final = "ABORTED"
"""Audit-only prefix: ``KeyboardInterrupt``/``SystemExit`` went through (and was re-raised)."""


def handler_exception_code(exc: BaseException) -> str:
    """The code of a handler exception: callers can match on the type without parsing text."""
    return f"{HANDLER_EXCEPTION}:{type(exc).__name__}"


# SQLSTATE: class 08 connection exception; 57P01 admin shutdown (a terminated backend),
# 57P02 crash shutdown, 57P03 cannot connect now (starting up, shutting down); 53300 too many
# connections.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
_LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout, NOWAIT
# SQLite's primary result codes SQLITE_BUSY and SQLITE_LOCKED: another connection held the
# lock for longer than the busy timeout ("database is locked").
_SQLITE_BUSY_CODES = (5, 6)
# Values refused: SQLSTATE class 22 data exception, 23 integrity constraint violation;
# SQLite's SQLITE_TOOBIG, SQLITE_CONSTRAINT, SQLITE_MISMATCH.
_REFUSED_VALUE_SQLSTATES = ("22", "23")
_SQLITE_REFUSED_VALUE_CODES = (18, 19, 20)
# SQLITE_CANTOPEN: the file cannot be opened (its directory is gone or unreadable, a volume is
# not mounted): SQLite's counterpart of a server that refuses the connection.
_SQLITE_CANTOPEN = 14


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached (or not in time: see
    ``lock_wait_exceeded``), rather than refused a statement.

    Duck-typed, so the core needs no driver: socket-level ``ConnectionError``/``gaierror``, a
    DBAPI error SQLAlchemy flagged ``connection_invalidated``, a SQLSTATE of the connection
    classes, or SQLite's ``SQLITE_CANTOPEN``, found on the exception, its ``orig``
    (SQLAlchemy's wrapped driver error) or its ``__cause__`` chain.
    """
    for current in _causes(exc):
        if isinstance(current, ConnectionError | socket.gaierror):
            return True
        if getattr(current, "connection_invalidated", False) is True:
            return True
        state, sqlite_code = _codes(current)
        if state is not None and state.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        if sqlite_code == _SQLITE_CANTOPEN:
            return True
    return lock_wait_exceeded(exc)


def lock_wait_exceeded(exc: BaseException) -> bool:
    """Whether ``exc`` says a lock held elsewhere outlasted the wait allowed (SQLite's
    "database is locked", PostgreSQL's ``lock_timeout``): the statement did not run, and the
    connection is fine."""
    for current in _causes(exc):
        state, sqlite_code = _codes(current)
        if state == _LOCK_NOT_AVAILABLE or sqlite_code in _SQLITE_BUSY_CODES:
            return True
    return False


def values_refused(exc: BaseException) -> bool:
    """Whether ``exc`` says the database (or its driver) refused the values of an INSERT (a
    date out of range, a constraint violated) rather than the statement itself: other rows
    of the same statement may go in. Not an unreachable database, a missing table or a
    revoked privilege, which every row would meet alike.

    Duck-typed like ``database_unavailable``: a SQLSTATE of class 22 (data exception) or 23
    (integrity constraint violation), SQLite's constraint, type-mismatch or too-big codes, or
    a ``ValueError``/``TypeError`` raised while the driver encoded a value."""
    if database_unavailable(exc):
        return False
    for current in _causes(exc):
        state, sqlite_code = _codes(current)
        if state is not None and state.startswith(_REFUSED_VALUE_SQLSTATES):
            return True
        if sqlite_code in _SQLITE_REFUSED_VALUE_CODES:
            return True
        if isinstance(current, ValueError | TypeError | ArithmeticError):
            return True
    return False


def _codes(error: BaseException) -> tuple[str | None, int | None]:
    """The SQLSTATE a driver error carries (asyncpg's ``sqlstate``, psycopg's ``pgcode``), and
    SQLite's primary result code (the low byte of ``sqlite_errorcode``), where it has them."""
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    sqlite_code = getattr(error, "sqlite_errorcode", None)
    return (
        state if isinstance(state, str) else None,
        sqlite_code & 0xFF if isinstance(sqlite_code, int) else None,
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, the driver error SQLAlchemy wrapped in it (``orig``), and so on down the
    ``__cause__`` chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__


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


class ConcurrentDispatchError(RuntimeError):
    """A dispatch was started on a session that another task's dispatch is using.

    A session and its transaction are one line of work: two dispatches interleaved on it
    (``asyncio.gather`` over one context) would each take the other's writes for its own, and
    a failure of one would discard the other's. The second one fails without running.
    """


class UnitOfWorkError(RuntimeError):
    """The request's unit of work was not committed; ``error_code`` says why.

    Raised by the session dependency after the route returned; the FastAPI integration answers
    it as JSON with the code's status (``install_error_handlers``, done by the lifespan helper).
    The base class means a dispatch left the unit of work unsafe (e.g. a savepoint was lost).
    """

    error_code: str = UNIT_OF_WORK_POISONED


class DatabaseUnavailableError(UnitOfWorkError):
    """The database could not be reached to commit; nothing was committed."""

    error_code = DATABASE_UNAVAILABLE


class CommitFailedError(UnitOfWorkError):
    """The database refused the commit (a deferred constraint, a permission, a serialization
    failure); nothing was committed."""

    error_code = COMMIT_FAILED


class CommitOutcomeUnknownError(UnitOfWorkError):
    """The connection was lost during COMMIT: the writes may or may not be committed."""

    error_code = COMMIT_OUTCOME_UNKNOWN
