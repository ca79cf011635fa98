"""SQLAlchemy integration: the request's unit of work and one savepoint per dispatch.

Transaction model
-----------------
* ``get_session_dep`` opens one ``AsyncSession`` per request and owns its transaction: it
  commits when the request's code finished without an exception, rolls back otherwise. Used
  through ``SessionDep`` (``Depends(get_session_dep, scope="function")``), FastAPI runs that
  commit *before* sending the response.
* Every dispatch on that session runs inside a SAVEPOINT (``begin_nested``). A successful
  operation releases it (its writes join the request's transaction); a failed one (exception,
  ``fail`` result, timeout, cancellation) rolls back to it, so its writes never reach the
  database while the writes of earlier successful operations in the same request stay.
* While a handler runs, a context variable names the dispatch's savepoint. Two session
  events refuse what the handler does not own: ``before_commit`` (raised when the commit would
  release the dispatch's savepoint or anything above it) and ``after_soft_rollback`` (raised
  after the savepoint was rolled back, before the rollback reaches the request's
  transaction). The handler gets a ``TransactionOwnershipError``; whatever it does with it, the
  dispatch fails with ``TRANSACTION_OWNERSHIP`` and its writes are discarded.
* The request's connection is guarded too: ``commit()``, ``rollback()`` and ``begin()`` on
  the ``Connection`` the session uses (``await session.connection()``) raise
  ``TransactionOwnershipError`` during a dispatch without touching the transaction, and so does
  transaction-control SQL (``COMMIT``, ``ROLLBACK``, ``SAVEPOINT``/``RELEASE``/``ROLLBACK
  TO``...) in any statement whose text the application wrote (``text()``, ``DDL()``,
  ``exec_driver_sql``, ``@compiles`` constructs, hand-executed savepoint clauses) before it
  reaches the database. SQLAlchemy's own SAVEPOINT statements (``begin_nested()``) are
  announced by its savepoint events and pass. A commit that slips past both (through the
  ``Transaction`` object itself) is stopped at the connection's ``commit`` event, which leaves
  SQLAlchemy's view of the connection inconsistent: the session is poisoned.
* The guard goes by the session (a private attribute names its running dispatch), not by
  the task: code in a task with a fresh context is guarded too, and a second session bound to the
  request's connection neither takes the connection's guard away nor may commit it.
* A handler that closes the session mid-dispatch has discarded the earlier operations'
  writes; that cannot be undone, so the dispatch fails with ``TRANSACTION_OWNERSHIP`` and the
  session is *poisoned*. A savepoint that cannot be rolled back (broken connection,
  interpreter exit) poisons it too. The dependency refuses to commit a poisoned session: it
  rolls everything back and raises ``UnitOfWorkError``.

This module imports SQLAlchemy at import time; the core imports it only when a SQLAlchemy
session shows up in a context (see ``layerguard.runtime.transaction``).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
import weakref
from collections.abc import AsyncGenerator, Callable
from contextvars import ContextVar, Token
from typing import Any, Literal

from sqlalchemy import event, make_url
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SAWarning
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.ddl import DDL, ExecutableDDLElement
from sqlalchemy.sql.dml import Delete, Insert, Update
from sqlalchemy.sql.elements import (
    ReleaseSavepointClause,
    RollbackToSavepointClause,
    SavepointClause,
)
from sqlalchemy.sql.selectable import CompoundSelect, Select

from layerguard.runtime.errors import (
    CommitFailedError,
    CommitOutcomeUnknownError,
    ConcurrentDispatchError,
    DatabaseUnavailableError,
    TransactionOwnershipError,
    UnitOfWorkError,
    database_unavailable,
    lock_wait_exceeded,
)
from layerguard.runtime.transaction import register_unit_of_work
from layerguard.runtime.transaction_control import transaction_control

logger = logging.getLogger("layerguard.runtime.sqlalchemy")

SqliteBegin = Literal["DEFERRED", "IMMEDIATE", "EXCLUSIVE"]
"""When a SQLite transaction takes its locks (``BEGIN DEFERRED | IMMEDIATE | EXCLUSIVE``)."""

_BEGIN_STATEMENTS: dict[str, str] = {
    "DEFERRED": "BEGIN",
    "IMMEDIATE": "BEGIN IMMEDIATE",
    "EXCLUSIVE": "BEGIN EXCLUSIVE",
}

# The guard's state lives in private attributes of the (sync) Session, never in
# ``session.info``: that dictionary is the application's, and a handler that cleared it took
# the running dispatch's guard and the poison mark with it. Read with ``session.__dict__.get``
# (one dictionary lookup, as ``info.get`` was).
_POISONED = "_layerguard_poisoned"  # why the unit of work must not be committed
_COMMIT_SENT = "_layerguard_commit_sent"
# (weakly) the connection of the session's transaction, once it has one: it has sent SQL
_CONNECTION = "_layerguard_connection"
_RUNNING = "_layerguard_running_dispatch"  # the innermost dispatch running on the session


# --------------------------------------------------------------------------- engines


def create_sqlite_engine(
    url: str, *, begin: SqliteBegin = "DEFERRED", **kwargs: Any
) -> AsyncEngine:
    """An aiosqlite engine on which SAVEPOINT works.

    The sqlite3 driver (and aiosqlite over it) emits BEGIN itself, lazily and only before DML,
    so a SAVEPOINT issued first is not inside the transaction and rolling back the outer
    transaction would not undo it. SQLAlchemy's documented recipe: let the driver emit nothing
    (``isolation_level = None``) and emit ``BEGIN`` from the engine's ``begin`` event.

    ``begin="IMMEDIATE"`` takes the write lock when a transaction starts rather than at its
    first write. Use it for the request sessions' engine when another connection writes the
    same file (the audit table sink, the table kill switch): a deferred transaction that has
    read must upgrade its lock to write, and SQLite refuses that upgrade at once ("database is
    locked") while the other connection writes, failing the request. An immediate transaction
    waits for the lock instead (the driver's busy timeout), and the other writer retries. Give
    that writer an engine of its own, deferred: its reads must not wait for a request's lock.
    """
    backend = make_url(url).get_backend_name()
    if backend != "sqlite":
        raise ValueError(
            f"create_sqlite_engine() is for SQLite URLs, got a {backend} one; use "
            "sqlalchemy.ext.asyncio.create_async_engine() for other databases (they need no "
            "savepoint recipe)"
        )
    engine = create_async_engine(url, **kwargs)
    enable_sqlite_savepoints(engine, begin=begin)
    return engine


def enable_sqlite_savepoints(engine: AsyncEngine, *, begin: SqliteBegin = "DEFERRED") -> None:
    """Apply the SAVEPOINT recipe to an existing aiosqlite engine (see ``create_sqlite_engine``)."""
    if begin not in _BEGIN_STATEMENTS:
        raise ValueError(f"begin must be one of {', '.join(_BEGIN_STATEMENTS)}, got {begin!r}")
    if engine.dialect.name != "sqlite":
        raise ValueError(
            f"the SQLite savepoint recipe does not apply to a {engine.dialect.name} engine"
        )
    statement = _BEGIN_STATEMENTS[begin]
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _driver_emits_no_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(sync_engine, "begin")
    def _emit_begin(connection: Connection) -> None:
        connection.exec_driver_sql(statement)


# --------------------------------------------------------------------------- session dependency

_session_factory: async_sessionmaker[AsyncSession] | None = None


def configure_session_factory(factory: async_sessionmaker[AsyncSession] | None) -> None:
    """Set the ``async_sessionmaker`` that ``get_session_dep`` opens sessions from."""
    global _session_factory
    _session_factory = factory


def get_session_factory() -> async_sessionmaker[AsyncSession]:
    """The configured factory; an error that says how to configure one otherwise."""
    if _session_factory is None:
        raise RuntimeError(
            "no session factory configured: call configure_session_factory(async_sessionmaker"
            "(engine)) at start-up, or pass session_factory= to the lifespan helper"
        )
    return _session_factory


def get_session_factory_or_none() -> async_sessionmaker[AsyncSession] | None:
    """The configured factory, or ``None``."""
    return _session_factory


async def get_session_dep() -> AsyncGenerator[AsyncSession, None]:
    """The request's session and unit of work (use it through ``SessionDep``).

    Commits when the request's code finished without an exception, rolls back on any
    exception (including ``HTTPException``) and re-raises it. Declare it with
    ``scope="function"`` (``SessionDep`` does): FastAPI's default scope for dependencies with
    ``yield`` is ``"request"``, which runs this exit code only after the response was sent.

    A commit that fails raises a ``UnitOfWorkError`` whose ``error_code`` says how:
    ``DATABASE_UNAVAILABLE`` (not reached; nothing committed), ``COMMIT_FAILED`` (refused;
    nothing committed), ``COMMIT_OUTCOME_UNKNOWN`` (the connection died during COMMIT), or
    ``UNIT_OF_WORK_POISONED`` (a dispatch made it unsafe; rolled back). A rollback that fails
    in turn (the connection is gone) never hides the original error: the connection is
    invalidated instead of being returned to the pool.
    """
    session = get_session_factory()()
    try:
        yield session
        poisoned = poison_reason(session)
        if poisoned:
            raise UnitOfWorkError(f"unit of work not committed: {poisoned}")
        # A COMMIT already sent during the request (by the route's own code, or by code that
        # got past the guard): what it committed stays whatever happens to this one.
        committed_before = session.sync_session.__dict__.pop(_COMMIT_SENT, False)
        try:
            await session.commit()
        except Exception as exc:
            raise _commit_error(session, exc, committed_before) from exc
    except BaseException:
        await _discard(session)
        raise
    finally:
        try:
            await session.close()
        except Exception as exc:  # the connection died meanwhile: nothing left to release
            logger.warning("closing the request's session failed (%s)", type(exc).__name__)


def _commit_error(session: AsyncSession, exc: Exception, committed_before: bool) -> UnitOfWorkError:
    logger.error("the request's commit failed", exc_info=exc)
    nothing = (
        "nothing since the earlier COMMIT of this request was committed (what that one "
        "committed stays)"
        if committed_before
        else "nothing was committed"
    )
    if database_unavailable(exc):
        # A lock that outlasted the wait refused the COMMIT: nothing was committed.
        if session.sync_session.__dict__.pop(_COMMIT_SENT, False) and not lock_wait_exceeded(exc):
            return CommitOutcomeUnknownError(
                "the connection was lost while committing: the request's writes may or may "
                "not be committed"
            )
        return DatabaseUnavailableError(
            f"the database could not be reached to commit the request's writes; {nothing}"
        )
    return CommitFailedError(
        f"the database refused to commit the request's writes ({type(exc).__name__}); {nothing}"
    )


async def _discard(session: AsyncSession) -> None:
    """Roll back; if even that fails, invalidate the connection so nobody reuses it."""
    try:
        await session.rollback()
    except BaseException as exc:
        logger.warning(
            "rolling back the request's session failed (%s); invalidating its connection",
            type(exc).__name__,
        )
        try:
            await session.invalidate()
        except Exception:  # nothing more can be done with a dead connection
            logger.debug("invalidating the request's session failed", exc_info=True)
        if not isinstance(exc, Exception):
            raise


# --------------------------------------------------------------------------- dispatch units


class _Guard:
    """What the session events need to know about the dispatch that is running.

    ``savepoint`` is the dispatch's savepoint, or ``None`` when the dispatch owns the whole
    transaction (it is the first thing that happens in it: see ``SavepointPerDispatch``).
    """

    __slots__ = ("driver_transaction", "savepoint", "session", "violation")

    def __init__(self, session: Session, savepoint: SessionTransaction | None) -> None:
        self.session = session
        self.savepoint = savepoint
        self.violation: str | None = None
        # The driver's transaction object when the dispatch met the connection (asyncpg)
        self.driver_transaction: object = None


# The dispatch running in this task's context (what starts dispatches and nests them). The
# guard itself goes by the session: its ``_RUNNING`` attribute names its running dispatch in
# every task, also one started with a fresh context.
_current_guard: ContextVar[_Guard | None] = ContextVar("layerguard_dispatch_guard", default=None)
# How many dispatches are running in the process: 0 lets every statement pass at once.
_dispatches_running = 0


def _running_guard(session: Session) -> _Guard | None:
    guard: _Guard | None = session.__dict__.get(_RUNNING)
    return guard


def _owned_by_dispatch(session: Session, transaction: SessionTransaction | None) -> _Guard | None:
    """The guard whose transaction ``transaction`` is (``None`` or a root: the whole one)."""
    guard = _running_guard(session)
    if guard is None:
        return None
    if guard.savepoint is None:
        return guard if transaction is None or transaction.parent is None else None
    return guard if transaction is guard.savepoint else None


@event.listens_for(Session, "before_commit")
def _refuse_commit(session: Session) -> None:
    # Fires for the root and for each savepoint being released. A handler's own inner
    # savepoint may be released; reaching the dispatch's savepoint means commit() was called.
    guard = _owned_by_dispatch(session, session.get_nested_transaction())
    if guard is None and session.get_nested_transaction() is None:
        guard = _hosting_guard(session)  # a second session that controls the connection fully
    if guard is not None:
        guard.violation = guard.violation or "commit"
        raise TransactionOwnershipError(
            "handlers must not commit: the session dependency commits once per request"
        )


@event.listens_for(Session, "after_soft_rollback")
def _refuse_rollback(session: Session, previous: SessionTransaction) -> None:
    # Session.rollback() rolls back innermost-first. By now the dispatch's savepoint is rolled
    # back (the handler's writes are gone); raising stops the rollback before it reaches the
    # request's transaction. A fresh savepoint catches anything the handler writes after
    # catching the error, so the dispatch's unit can still discard it.
    guard = _owned_by_dispatch(session, previous)
    if guard is not None:
        guard.violation = guard.violation or "roll back"
        if guard.savepoint is not None:
            guard.savepoint = session.begin_nested()
        raise TransactionOwnershipError(
            "handlers must not roll back: fail the operation instead (return "
            "OperationResult.fail or raise) and the registry discards its writes"
        )


@event.listens_for(Session, "after_transaction_end")
def _refuse_close(session: Session, transaction: SessionTransaction) -> None:
    # The request's transaction cannot end during a dispatch unless the handler closed (or
    # reset) the session: that discarded the earlier operations' writes, which cannot be
    # undone here, so the request must not report success.
    if transaction.parent is not None:
        return
    state = session.__dict__
    state.pop(_CONNECTION, None)
    state.pop(_GUEST, None)
    guard = _running_guard(session)
    if guard is None:
        return
    guard.violation = guard.violation or "close"
    if guard.savepoint is not None:  # else the transaction held nothing but this dispatch
        poison(session, "a handler closed the request's session during a dispatch")


# The connections sessions run their transactions on, and the session of each (weakly: a
# Connection lives for one checkout, and must not keep its session alive).
_connection_sessions: weakref.WeakKeyDictionary[Connection, weakref.ref[Session]] = (
    weakref.WeakKeyDictionary()
)
_GUARDED_METHODS = ("commit", "rollback", "begin")


def _connection_of(session: Session) -> Connection | None:
    """The connection of the session's transaction, while it lives."""
    reference = session.__dict__.get(_CONNECTION)
    return None if reference is None else reference()


def _owner_of(connection: Connection) -> Session | None:
    owner = _connection_sessions.get(connection)
    return None if owner is None else owner()


def _guard_of(connection: Connection) -> _Guard | None:
    """The guard of the dispatch running on the session whose connection ``connection`` is."""
    owner = _owner_of(connection)
    return None if owner is None else _running_guard(owner)


# Attribute of a second session that joined a connection during a dispatch on it:
# (the owner session, weakly; whether the second one took over the transaction)
_GUEST = "_layerguard_guest_of"


def _hosting_guard(session: Session) -> _Guard | None:
    """The running dispatch whose transaction ``session`` would commit: a second session
    bound to the request's connection with ``join_transaction_mode="control_fully"``."""
    guest = session.__dict__.get(_GUEST)
    if guest is None or not guest[1]:
        return None
    owner = guest[0]()
    return None if owner is None else _running_guard(owner)


@event.listens_for(Session, "after_begin")
def _watch_connection(session: Session, _transaction: Any, connection: Connection) -> None:
    # Remember whose connection this is, and shadow its transaction methods on the instance:
    # refusing *before* Connection.commit() runs leaves the transaction exactly as it was, so
    # the dispatch's savepoint can still be rolled back and the earlier operations keep their
    # writes. (The connection events fire too late for that: see _refuse_connection_commit.)
    session.__dict__[_CONNECTION] = weakref.ref(connection)
    owner = _owner_of(connection)
    if owner is not None and owner is not session:
        guard = _running_guard(owner)
        if guard is not None:
            # A second session bound to the request's connection during a dispatch: the
            # connection stays the request's, guarded, and the guest must not commit it.
            takes_over = session.join_transaction_mode == "control_fully"
            session.__dict__[_GUEST] = (weakref.ref(owner), takes_over)
            return
    _connection_sessions[connection] = weakref.ref(session)
    guard = _running_guard(session)
    if guard is not None and guard.driver_transaction is None:
        guard.driver_transaction = _driver_transaction(connection)
    if "commit" not in connection.__dict__:
        reference = weakref.ref(connection)
        for name in _GUARDED_METHODS:
            setattr(connection, name, _guarded_method(reference, name))


def _guarded_method(reference: weakref.ref[Connection], name: str) -> Callable[..., Any]:
    method = getattr(Connection, name)
    verb = {"commit": "commit", "rollback": "roll back", "begin": "begin"}[name]

    def guarded(*args: Any, **kwargs: Any) -> Any:
        connection = reference()
        assert connection is not None  # called through the instance it was set on
        # Outside a transaction these are SQLAlchemy's own moves (autobegin after the
        # connection was invalidated), or no-ops: only a transaction in progress is guarded.
        guard = _guard_of(connection) if connection.in_transaction() else None
        if guard is not None:
            guard.violation = guard.violation or verb
            raise TransactionOwnershipError(
                f"handlers must not {verb} the request's connection: the session dependency "
                "owns its transaction"
            )
        return method(connection, *args, **kwargs)

    return guarded


@event.listens_for(Engine, "before_cursor_execute")
def _refuse_transaction_sql(
    connection: Connection,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    if not _dispatches_running:  # the common case, first: one global read
        return
    compiled = getattr(context, "compiled", None)
    if compiled is not None:
        construct = compiled.statement
        # SQLAlchemy wrote the first keyword (SELECT, INSERT, CREATE...): only a second
        # statement, after a ";", could control the transaction. No scan, one substring test.
        compiler = type(construct)._compiler_dispatch
        worded = _worded.get(compiler)
        if worded is None:
            worded = _sqlalchemy_worded(type(construct), compiler)
        if worded and ";" not in statement:
            return
        if _own_savepoint_statement(connection, construct):
            return
    guard = _guard_of(connection)
    if guard is None:
        return
    command = transaction_control(statement)
    if command is not None:
        guard.violation = guard.violation or f"send {command} to"
        raise TransactionOwnershipError(
            f"handlers must not send {command}: the session dependency owns the request's "
            "transaction (use session.begin_nested() for a savepoint of the handler's own)"
        )


# Whether SQLAlchemy writes the first keyword of a statement, by the function that compiles
# it (the class's ``_compiler_dispatch``), not by its class: ``@compiles`` replaces that
# function on the class it overrides, which subclasses inherit, and ``deregister()`` restores
# it, so a compiler the application registers after the class's first statement is a new key.
# Scanned, as not worded: text(), text().columns(), DDL("..."), select().from_statement(),
# constructs compiled by the application (@compiles), savepoint clauses a handler executes,
# and annotated statements (their compiler is a proxy shared by every annotated class).
_WORDED_BASES: tuple[type, ...] = (Select, CompoundSelect, Insert, Update, Delete)
_worded: dict[Callable[..., Any], bool] = {}


def _sqlalchemy_worded(kind: type, compiler: Callable[..., Any]) -> bool:
    """Decide for ``compiler``, the compile function ``kind`` resolves to, and remember it."""
    owner = next(
        (c for c in kind.__mro__ if c.__dict__.get("_original_compiler_dispatch") is compiler),
        None,
    )  # the class SQLAlchemy generated ``compiler`` for; None for an application's compiler
    worded = _worded[compiler] = (
        owner is not None
        and (issubclass(owner, _WORDED_BASES) or issubclass(owner, ExecutableDDLElement))
        and not issubclass(owner, DDL)
    )
    return worded


_SAVEPOINT_CLAUSES: dict[type, str] = {
    SavepointClause: "savepoint",
    ReleaseSavepointClause: "release_savepoint",
    RollbackToSavepointClause: "rollback_savepoint",
}
_OWN_SAVEPOINT = "_layerguard_own_savepoint"  # set on the Connection by the events below


def _own_savepoint_statement(connection: Connection, construct: Any) -> bool:
    """Whether ``construct`` is the savepoint statement SQLAlchemy announced (a
    ``begin_nested()``, the registry's or the handler's), not one a handler executed."""
    verb = _SAVEPOINT_CLAUSES.get(type(construct))
    if verb is None:
        return False
    announced = connection.__dict__.pop(_OWN_SAVEPOINT, None)
    return (
        announced is not None and announced[0] == verb and announced[1] in (None, construct.ident)
    )


def _announce(verb: str) -> Callable[..., None]:
    def listener(connection: Connection, name: str | None, *_context: Any) -> None:
        connection.__dict__[_OWN_SAVEPOINT] = (verb, name)

    return listener


for _verb in _SAVEPOINT_CLAUSES.values():
    event.listen(Engine, _verb, _announce(_verb))


@event.listens_for(Engine, "commit")
def _refuse_connection_commit(connection: Connection) -> None:
    # Outside dispatches: note that COMMIT is about to be sent, so a connection lost from here
    # on means the outcome is unknown (COMMIT_OUTCOME_UNKNOWN), not "nothing committed".
    # During a dispatch, the last line: a COMMIT reached through the Transaction object
    # (connection.get_transaction().commit()). Raising keeps the COMMIT from the database, but
    # SQLAlchemy has already marked the transaction inactive, so the unit of work cannot go on.
    guard = _guard_of(connection)
    if guard is None:
        session = _owner_of(connection)
        if session is not None:
            session.__dict__[_COMMIT_SENT] = True
    else:
        guard.violation = guard.violation or "commit"
        poison(guard.session, "a handler committed the request's connection during a dispatch")
        raise TransactionOwnershipError(
            "handlers must not commit: the session dependency commits once per request"
        )


@event.listens_for(Engine, "rollback")
def _poison_on_connection_rollback(connection: Connection) -> None:
    # A ROLLBACK of the whole transaction during a dispatch (the Transaction object, or a
    # close) has discarded the earlier operations' writes: nothing to refuse any more, but the
    # request must not report success.
    # SQLAlchemy also rolls back a connection that is in no transaction after an error: that
    # discards nothing.
    guard = _guard_of(connection) if connection.in_transaction() else None
    if guard is not None:
        guard.violation = guard.violation or "roll back"
        poison(guard.session, "a handler rolled back the request's connection during a dispatch")


# Drivers that stay consistent when a statement's task is cancelled: asyncpg sends a cancel
# request and makes the next operation wait for the server's acknowledgement; aiosqlite runs
# statements in order on its own thread, so the next one waits for the abandoned one.
_CANCEL_SAFE_DRIVERS = frozenset({"asyncpg", "aiosqlite"})


@event.listens_for(Engine, "handle_error")
def _keep_connection_on_cancellation(context: Any) -> None:
    # SQLAlchemy treats a cancellation mid-statement like a lost connection and invalidates
    # it, which discards the whole transaction: a timed-out operation took the writes of the
    # earlier operations of its request with it (PendingRollbackError at the commit). On the
    # drivers above the connection is fine; only the dispatch's savepoint must be rolled back.
    if (
        isinstance(context.original_exception, asyncio.CancelledError)
        and context.dialect.driver in _CANCEL_SAFE_DRIVERS
    ):
        context.is_disconnect = False


class SavepointUnit:
    """One dispatch inside the request's session: a savepoint plus the ownership guard."""

    __slots__ = ("_enclosing", "_guard", "_session", "_token")

    def __init__(self, session: AsyncSession, guard: _Guard) -> None:
        global _dispatches_running
        self._session = session
        self._guard = guard
        self._token: Token[_Guard | None] | None = _current_guard.set(guard)
        sync = session.sync_session
        self._enclosing = _running_guard(sync)
        sync.__dict__[_RUNNING] = guard
        _dispatches_running += 1
        connection = _connection_of(sync)
        if connection is not None:
            guard.driver_transaction = _driver_transaction(connection)

    @property
    def violation(self) -> str | None:
        """What the handler tried (``"commit"``, ``"roll back"``, ``"send COMMIT to"``...).

        Also what only the driver can tell: a handler that reached past SQLAlchemy (the raw
        driver connection, a DBAPI cursor) and ended the transaction. That cannot be undone
        any more (the earlier operations' writes are committed or gone), so the request fails
        as a whole.
        """
        guard = self._guard
        if guard.violation is None and _driver_left_transaction(
            self._session.sync_session, guard.driver_transaction
        ):
            guard.violation = "end (through the driver)"
            poison(self._session, "a handler ended the request's transaction through the driver")
        return guard.violation

    async def commit(self) -> None:
        """Release the savepoint; if the deferred flush fails, roll back to it and re-raise."""
        self._end_guard()
        savepoint = self._guard.savepoint
        assert savepoint is not None  # a TransactionUnit otherwise
        try:
            await self._session.run_sync(lambda _s: savepoint.commit())
        except Exception:
            await self.rollback()
            raise

    async def rollback(self) -> None:
        """Roll back to the savepoint (poison the session if that is impossible)."""
        self._end_guard()
        savepoint = self._guard.savepoint
        if savepoint is None or not _is_open(self._session.sync_session, savepoint):
            return
        try:
            await _quiet_if_poisoned(self._session, lambda: savepoint.rollback())
        except Exception as exc:
            poison(self._session, f"savepoint rollback failed ({type(exc).__name__})")
            logger.error("could not roll back a dispatch's savepoint", exc_info=exc)

    def abandon(self) -> None:
        """No I/O allowed (interpreter exit): make sure the request will not commit."""
        self._end_guard()
        poison(self._session, "a dispatch was aborted before its savepoint was rolled back")

    def _end_guard(self) -> None:
        global _dispatches_running
        state = self._session.sync_session.__dict__
        if state.get(_RUNNING) is self._guard:
            state[_RUNNING] = self._enclosing
        if self._token is not None:
            _dispatches_running -= 1
            try:
                _current_guard.reset(self._token)
            except ValueError:  # settled from another context: just stop guarding
                _current_guard.set(None)
            self._token = None


async def _quiet_if_poisoned(session: AsyncSession, rollback: Callable[[], None]) -> None:
    """Run ``rollback`` (synchronous session code) on the session's greenlet.

    On a poisoned session a handler wrecked SQLAlchemy's view of the connection, and it warns
    about the savepoint or transaction it no longer knows; the request is rolled back whole
    anyway, so those warnings say nothing new.
    """
    if poison_reason(session) is None:
        await session.run_sync(lambda _s: rollback())
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        await session.run_sync(lambda _s: rollback())


def _driver_transaction(connection: Connection) -> object:
    """The transaction object of SQLAlchemy's asyncpg adapter (``None`` before its BEGIN, and
    on other drivers): no I/O, a few attribute reads."""
    if connection.invalidated or connection.closed:
        return None
    return getattr(connection.connection.dbapi_connection, "_transaction", None)


def _driver_left_transaction(session: Session, seen: object = None) -> bool:
    """Whether the driver says the session's connection is in no transaction while SQLAlchemy
    believes it is in one (drivers that cannot tell are not asked).

    ``seen`` is the asyncpg adapter's transaction when the dispatch met the connection: if
    the adapter holds another one now (or none), its own ``commit()``/``rollback()`` ended it
    (``dbapi_connection.commit()``), whether or not a later statement began a new one."""
    connection = _connection_of(session)
    if connection is None or connection.invalidated or not connection.in_transaction():
        return False
    pooled = connection.connection
    driver = pooled.driver_connection
    in_transaction = getattr(driver, "is_in_transaction", None)  # asyncpg
    if callable(in_transaction):
        # SQLAlchemy's adapter sends BEGIN with the first statement: before, there is none.
        current = getattr(pooled.dbapi_connection, "_transaction", None)
        if seen is not None and current is not seen:
            return True
        return current is not None and not in_transaction()
    if getattr(driver, "isolation_level", "") is None:  # sqlite3/aiosqlite, BEGIN sent by
        return getattr(driver, "in_transaction", None) is False  # create_sqlite_engine's hook
    return False  # the driver's own transaction control (or none known) says nothing sure


def _is_open(session: Session, savepoint: SessionTransaction) -> bool:
    """Whether ``savepoint`` is still in the session's chain of open transactions."""
    transaction = session.get_nested_transaction()
    while transaction is not None:
        if transaction is savepoint:
            return True
        transaction = transaction.parent
    return False


def poison(session: AsyncSession | Session, reason: str) -> None:
    """Mark the request's unit of work as not committable (the dependency rolls it back)."""
    _sync(session).__dict__[_POISONED] = reason


def poison_reason(session: AsyncSession | Session) -> str | None:
    """Why the session's unit of work must not be committed; ``None`` if it may be."""
    reason: str | None = _sync(session).__dict__.get(_POISONED)
    return reason


def _sync(session: AsyncSession | Session) -> Session:
    return session.sync_session if isinstance(session, AsyncSession) else session


class TransactionUnit(SavepointUnit):
    """A dispatch that owns the whole transaction: nothing happened in it before, so the
    transaction itself is its unit (no SAVEPOINT, no RELEASE: two round trips saved on the
    common one-operation request). A failure rolls the transaction back; the session goes on
    with a fresh one for the next operation."""

    __slots__ = ()

    async def commit(self) -> None:
        """Flush what the handler left pending; if that fails, roll back and re-raise."""
        self._end_guard()
        sync = self._session.sync_session
        if sync.new or sync.deleted or sync.dirty:
            try:
                await self._session.flush()
            except Exception:
                await self.rollback()
                raise

    async def rollback(self) -> None:
        """Roll the transaction back (poison the session if that is impossible)."""
        self._end_guard()
        if not self._session.in_transaction():
            return
        try:
            await _quiet_if_poisoned(self._session, self._session.sync_session.rollback)
        except Exception as exc:
            poison(self._session, f"rollback of a dispatch failed ({type(exc).__name__})")
            logger.error("could not roll back a dispatch's transaction", exc_info=exc)


class SavepointPerDispatch:
    """The unit-of-work adapter registered for ``AsyncSession``."""

    async def begin(self, session: Any, operation: str) -> SavepointUnit:
        """A savepoint unit (SAVEPOINT emitted lazily, at the first statement); or, when the
        session's transaction has sent nothing yet, holds no pending objects and no other
        dispatch is running on it, the whole transaction as the unit."""
        sync = session.sync_session
        running = _running_guard(sync)
        if running is not None and running is not _current_guard.get():
            # Another task's dispatch is using the session (only the innermost running
            # dispatch may start one inside it, from its own task).
            raise ConcurrentDispatchError(
                f"operation {operation!r} was dispatched on a session another dispatch is "
                "using; run operations on one session one after the other (await each), or "
                "give concurrent ones sessions of their own"
            )
        if _owns_transaction(sync):
            return TransactionUnit(session, _Guard(sync, None))
        savepoint = await session.run_sync(_begin_nested)
        return SavepointUnit(session, _Guard(sync, savepoint))


def _owns_transaction(session: Session) -> bool:
    """Nothing happened in the transaction yet, and no other dispatch runs on the session."""
    outer = _current_guard.get()
    if outer is not None and outer.session is session:
        return False
    if _CONNECTION in session.__dict__ or session.get_nested_transaction() is not None:
        return False
    return not (session.new or session.deleted or session.dirty)


def _begin_nested(session: Session) -> SessionTransaction:
    return session.begin_nested()


register_unit_of_work(AsyncSession, SavepointPerDispatch())
