"""An audit sink writing to a database table, atomically with the work it describes, and
losing nothing when the table cannot be written.

Which transaction writes a row:

* A successful dispatch that wrote to the database (its session has a connection in a
  transaction): the row is kept on the session and inserted by a ``before_commit`` hook in the
  same transaction as the work, so the work and its row are committed together or not at all
  (``work_committed`` true).
* A failed dispatch, or a successful one whose savepoint or request was rolled back after all,
  or whose session was dropped without being closed: written through the sink's own engine,
  ``work_committed`` false.
* A dispatch without a session, or one that did not touch the database: written through the
  sink's own engine too, ``work_committed`` null (no database work to tie the record to). These
  are batched (``flush_interval``), so an operation that never touches the database does not
  pay for a round trip of its own.

Rows written through the sink's engine are queued (``emit`` must not block the dispatch) and
written by a background task in batches. When the table cannot take them (database down,
INSERT revoked, connection lost) after ``retries``, they go to the durable local outbox
(``AuditOutbox``: append-only, fsync'd, bounded) and are replayed, exactly once, when the table
is back. While the table is failing, successful dispatches' rows are not put in the request's
transaction (the insert would fail the request's commit): they are written after the commit,
flagged ``work_committed`` true, through the same queue and outbox. The first request that
meets a broken table is the one whose commit fails (``COMMIT_FAILED``); its rows are spooled.

Every row carries a ``record_id`` (unique): a replay interrupted between its INSERT and the
truncation of the outbox, or a row written both with its work and separately (the connection
died during COMMIT), is stored once. A replayed row the database refuses for its values is
found by retrying its batch in halves and set aside (``Batch.refuse``): one bad row does not
keep the others, nor the table's "failing" state, waiting.

``check_configuration()`` (called by the FastAPI lifespan helper) refuses at start-up an
outbox that cannot be written, a table that is missing or not writable, and a sink on another
database than the request sessions (with ``atomic=True``, the default, its rows could not
commit with the work); it also starts watching the outbox for files that exited siblings left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
import weakref
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    event,
    insert,
)
from sqlalchemy.engine import URL, Connection, Dialect
from sqlalchemy.exc import CompileError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Executable

from layerguard.runtime.audit.outbox import (
    DEFAULT_MAX_BYTES,
    AuditOutbox,
    Batch,
    default_directory,
    first_line,
)
from layerguard.runtime.audit.record import AuditOutcome
from layerguard.runtime.errors import database_unavailable, values_refused
from layerguard.runtime.throttle import ThrottledLog

if TYPE_CHECKING:
    from pathlib import Path

    from layerguard.runtime.audit.record import AuditRecord
    from layerguard.runtime.context import OperationContext

logger = logging.getLogger("layerguard.runtime.audit")

DEFAULT_TABLE = "layerguard_audit"
# The rows waiting for the request's commit live in private attributes of the (sync) Session,
# as the ownership guard's state does, never in ``session.__dict__``: that dictionary is the
# application's, and a handler that cleared it took its request's audit rows with it.
_PENDING = "_layerguard_audit_pending"
_INSERTED = "_layerguard_audit_inserted"
_CONNECTED = "_layerguard_audit_connected"


class AuditConfigurationError(RuntimeError):
    """The audit table sink cannot work as configured (the message says what to change)."""


def audit_table(metadata: MetaData | None = None, name: str = DEFAULT_TABLE) -> Table:
    """The table definition (add it to your metadata to manage it with your migrations)."""
    return Table(
        name,
        metadata if metadata is not None else MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("record_id", String(32), nullable=False, unique=True),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Column("operation", String(200), nullable=False, index=True),
        Column("tenant_id", String(200), index=True),
        Column("outcome", String(20), nullable=False),
        Column("error_code", String(200)),
        Column("duration_ms", Float, nullable=False),
        Column("governance", String(20), nullable=False),
        Column("unguarded", Boolean, nullable=False),
        Column("degraded", Boolean, nullable=False),
        Column("governance_reason", String(500)),
        Column("correlation_id", String(200)),
        Column("work_committed", Boolean),
    )


class TableAuditSink:
    """Writes one row per dispatch (see the module docstring for which transaction)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        table: Table | None = None,
        outbox: AuditOutbox | str | Path | None = None,
        outbox_max_bytes: int = DEFAULT_MAX_BYTES,
        atomic: bool = True,
        batch_size: int = 500,
        flush_interval: float = 0.05,
        retries: int = 2,
        retry_delay: float = 0.05,
        replay_interval: float = 1.0,
        log_interval: float = 60.0,
    ) -> None:
        """``outbox`` is an ``AuditOutbox`` or its directory (default: ``default_directory``
        for this table and database). ``atomic=False`` writes every row through the sink's
        engine after the request's outcome is known (for an audit table in another database).
        """
        self._engine = engine
        self.table = table if table is not None else audit_table()
        # Built once: their compiled forms are cached.
        self._insert_with_work = insert(self.table)
        self._row_insert = _RowInsert(self.table)
        self._text_limits = _text_limits(self.table)
        self._row_columns = {key: self.table.c[key] for key in _ROW_KEYS if key in self.table.c}
        self._insert_idempotent = _insert_once(engine.dialect.name, self.table)
        if not isinstance(outbox, AuditOutbox):
            directory = outbox if outbox is not None else default_directory(self._outbox_name())
            outbox = AuditOutbox(directory, max_bytes=outbox_max_bytes)
        self.outbox = outbox
        self.atomic = atomic
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._retries = retries
        self._retry_delay = retry_delay
        self._replay_interval = replay_interval
        self._database = _database_key(engine.url)
        self._queue: list[dict[str, Any]] = []
        self._writer: asyncio.Task[None] | None = None
        self._flush_now = asyncio.Event()
        self._replaying = asyncio.Lock()
        self._replayer: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._down = False  # the table failed; only a successful replay says it is back
        self._log = ThrottledLog(logger, log_interval)
        self.written_with_work = 0
        self.written_independently = 0
        self.replayed = 0

    # ------------------------------------------------------------------ the sink protocol

    def enabled(self) -> bool:
        """Always wants records."""
        return True

    def emit(self, record: AuditRecord, ctx: OperationContext) -> None:
        """Attach the row to the request's transaction, or queue it for the separate writer."""
        session = _sync_session(ctx.session)
        if session is None:
            self.enqueue(self._row(record, None))
        elif record.outcome is not AuditOutcome.OK:
            self.enqueue(self._row(record, False))
        elif not session.__dict__.get(_CONNECTED) or not session.in_transaction():
            self.enqueue(self._row(record, None))  # no database work of the request to tie it to
        else:
            # Tagged with the innermost open savepoint (nested dispatches): if that savepoint
            # is rolled back later, the row moves to the separate writer, flagged uncommitted.
            nested = session.get_nested_transaction()
            entry = [self, self._row(record, True), None if nested is None else weakref.ref(nested)]
            _pending(session).append(entry)

    def _row(self, record: AuditRecord, work_committed: bool | None) -> dict[str, Any]:
        return _fitted(_row(record, work_committed), self._text_limits)

    # ------------------------------------------------------------------ status

    def status(self) -> dict[str, Any]:
        """Counters for ``registry.status()["audit"]``: where rows went, what waits, what
        was lost (``outbox_rejected``: the outbox was full or unwritable)."""
        return {
            "written_with_work": self.written_with_work,
            "written_independently": self.written_independently,
            "queued": len(self._queue),
            "outbox_spooled": self.outbox.spooled,
            "outbox_replayed": self.replayed,
            "outbox_pending_bytes": self.outbox.pending_bytes(),
            "outbox_full": self.outbox.full,
            "outbox_rejected": self.outbox.rejected,
            "table_failing": self._failing(),
        }

    @property
    def dropped(self) -> int:
        """Records lost for good: refused by a full or unwritable outbox."""
        return self.outbox.rejected

    # ------------------------------------------------------------------ separate writes

    def enqueue(self, row: dict[str, Any]) -> None:
        """Write ``row`` through the sink's own connection (in the background)."""
        self._queue.append(row)
        if len(self._queue) >= self._batch_size:
            self._flush_now.set()
        if self._writer is None or self._writer.done():
            loop = self._loop = asyncio.get_running_loop()
            self._writer = loop.create_task(self._write_queue())

    def spool(self, rows: list[dict[str, Any]]) -> None:
        """Put rows straight into the outbox (no event loop needed: used from finalizers)."""
        if self.outbox.append(rows):
            loop = self._loop
            if loop is not None and not loop.is_closed():
                # If the loop closes meanwhile, the rows are replayed at the next start.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._schedule_replay)

    async def drain(self) -> None:
        """Wait until every queued row is in the table or the outbox; then, if the outbox
        holds rows, try to replay them once now."""
        while self._writer is not None and not self._writer.done():
            self._flush_now.set()
            await asyncio.shield(self._writer)
        if self.outbox.has_pending():
            await self._replay()

    async def aclose(self) -> None:
        """Drain at shutdown; what the table cannot take stays in the outbox for next time."""
        await self.drain()
        if self._replayer is not None:
            self._replayer.cancel()
        self.outbox.close()

    async def create_table(self) -> None:
        """Create the table if it does not exist (applications with migrations skip this)."""
        async with self._engine.begin() as conn:
            await conn.run_sync(self.table.create, checkfirst=True)

    async def check_configuration(
        self, session_factory: async_sessionmaker[AsyncSession] | None = None
    ) -> None:
        """Refuse, with a clear error, what would fail requests later: an outbox directory
        that cannot be written (a file, a path under a file, ...), a table that is
        missing or not writable, or (``atomic``) another database than the request sessions'.

        An unreachable database is not refused (it may come back): that is logged, and rows
        go to the outbox meanwhile. Leftover outbox rows are replayed, and files that other
        processes leave later are looked for every ``replay_interval``.
        """
        bind = None if session_factory is None else session_factory.kw.get("bind")
        if self.atomic and isinstance(bind, AsyncEngine):
            theirs = _database_key(bind.url)
            if theirs != self._database:
                raise AuditConfigurationError(
                    f"TableAuditSink writes to {_describe(self._database)}, but the request "
                    f"sessions use {_describe(theirs)}: a successful operation's audit row "
                    "could not be committed with its work. Give the sink an engine on the "
                    "request sessions' database (on SQLite, a separate engine on the same file "
                    "is fine), or pass atomic=False to write every row separately."
                )
        try:
            self.outbox.check()
        except OSError as exc:
            raise AuditConfigurationError(
                f"audit outbox {str(self.outbox.directory)!r} cannot be written ({exc}): the "
                "records the table cannot take would be lost. Point outbox= (or "
                "$LAYERGUARD_AUDIT_OUTBOX) at a writable directory on persistent storage."
            ) from exc
        self._loop = asyncio.get_running_loop()
        try:
            async with self._engine.connect() as conn:
                transaction = await conn.begin()
                try:
                    await conn.execute(insert(self.table), [_probe_row()])
                finally:
                    await transaction.rollback()
        except Exception as exc:
            if database_unavailable(exc):
                logger.warning(
                    "audit table %s: the database is unreachable at start-up (%s); records "
                    "go to the outbox %s until it is back",
                    self.table.name,
                    type(exc).__name__,
                    self.outbox.directory,
                )
                self.outbox.watch(self._replay_interval, self._schedule_replay)
                return
            raise AuditConfigurationError(
                f"audit table {self.table.name!r} is missing or cannot be written "
                f"({type(exc).__name__}: {first_line(exc)}); create it (await "
                "sink.create_table(), or audit_table(metadata) in your migrations) and grant "
                "INSERT on it"
            ) from exc
        self.outbox.watch(self._replay_interval, self._schedule_replay)
        if self.outbox.has_pending():
            self._schedule_replay()

    # ------------------------------------------------------------------ internals

    def _outbox_name(self) -> str:
        url = self._engine.url
        parts = [url.get_backend_name(), url.host or "", str(url.port or ""), url.database or ""]
        raw = "-".join([*parts, self.table.name])
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in raw)[:200]

    def _failing(self) -> bool:
        return self._down

    def _table_failed(self, exc: BaseException) -> None:
        self._down = True
        self._log.log(
            "table",
            logging.ERROR,
            "audit table %s cannot be written (%s); records go to the outbox %s and are "
            "replayed when it is back",
            self.table.name,
            type(exc).__name__,
            self.outbox.directory,
            exc_info=exc,
        )

    def in_transaction_allowed(self, connection: Any) -> bool:
        """Whether a successful dispatch's row may go into the request's transaction."""
        return (
            self.atomic
            and not self._failing()
            and _database_key(connection.engine.url) == self._database
        )

    async def _write_queue(self) -> None:
        if len(self._queue) < self._batch_size and self._flush_interval > 0:
            # Let a batch gather; drain() (or a full batch) cuts the wait short.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush_now.wait(), self._flush_interval)
        self._flush_now.clear()
        while self._queue:
            batch = self._queue[: self._batch_size]
            del self._queue[: self._batch_size]
            if self.outbox.pending_bytes():
                self._spool(batch)  # keep the order with what waits; do not hammer the table
                continue
            # Failing with nothing spooled: the outbox refused the rows (full, unwritable),
            # so the table is their only chance; one attempt, no retries.
            attempts = 1 if self._failing() else self._retries + 1
            if await self._insert(batch, attempts=attempts):
                self.written_independently += len(batch)
                self._down = False
            else:
                self._spool(batch)

    def _spool(self, batch: list[dict[str, Any]]) -> None:
        self.outbox.append(batch)
        self._schedule_replay()

    def _schedule_replay(self) -> None:
        if self._replayer is None or self._replayer.done():
            self._replayer = asyncio.get_running_loop().create_task(self._replay_loop())

    async def _replay_loop(self) -> None:
        """Probe the table with the outbox's rows until it takes them (that also ends the
        "table down" state, which keeps successful rows out of request transactions).
        Every turn awaits something real: bytes the outbox reports but cannot hand out (a
        sibling adopted the file meanwhile, or it cannot be read) are looked at again after
        ``replay_interval``, not in a loop that never yields."""
        delay = self._replay_interval
        while self.outbox.has_pending():
            replayed = await self._replay()
            if replayed is None:  # the table refused: back off
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = self._replay_interval
            await asyncio.sleep(0 if replayed else self._replay_interval)

    async def _replay(self) -> int | None:
        """Write what the outbox holds: the number of batches replayed, or None if the table
        (or the outbox) failed, in which case every batch not replayed is given back, for
        later or for a sibling. One replay at a time (drain() and the replay loop may both
        ask): a second one finds nothing left. Never raises (but for cancellation)."""
        async with self._replaying:
            batches: list[Batch] = []
            try:
                batches = self.outbox.take(self._stored)
                for batch in batches:
                    try:
                        refused = await self._insert_sorting(batch.rows)
                    except Exception as exc:
                        self._table_failed(exc)
                        return None
                    batch.refuse(refused)
                    batch.done()
                    self.replayed += len(batch.rows)
            except Exception as exc:
                self._log.log(
                    "replay",
                    logging.ERROR,
                    "audit outbox %s cannot be replayed (%s: %s); trying again later",
                    self.outbox.directory,
                    type(exc).__name__,
                    first_line(exc),
                    exc_info=exc,
                )
                return None
            finally:
                for batch in batches:
                    batch.release()  # those not done: a failed or cancelled replay
            self._down = False
            return len(batches)

    def _stored(self, row: dict[str, Any]) -> dict[str, Any]:
        """A row read back from the outbox as the table takes it, or ``ValueError`` saying
        why it cannot be one. A line someone edited or a disk corrupted must not block the
        rows after it (the batch's INSERT would fail on every replay): it is set aside."""
        unknown = sorted(set(row) - self._row_columns.keys())
        if unknown:
            raise ValueError(f"unknown field {unknown[0][:50]!r}")
        for key, column in self._row_columns.items():
            value = row.get(key)
            if value is None:
                if not column.nullable:
                    raise ValueError(f"{key} is missing")
                continue
            kind = column.type
            if isinstance(kind, DateTime):
                if not isinstance(value, str):
                    raise ValueError(f"{key} is not a date-time")
                try:
                    moment = datetime.fromisoformat(value)
                except ValueError:
                    raise ValueError(f"{key} is not a date-time: {value[:50]!r}") from None
                if moment.tzinfo is None and kind.timezone:
                    moment = moment.replace(tzinfo=UTC)
                row[key] = moment
                try:  # as the driver will (asyncpg refuses what falls outside years 1-9999)
                    if moment.tzinfo is not None:
                        moment.astimezone(UTC)
                except OverflowError:
                    raise ValueError(f"{key} is out of range in UTC: {value[:50]!r}") from None
            elif isinstance(kind, Boolean):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} is not a boolean")
            elif isinstance(kind, Float):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"{key} is not a number")
                try:
                    finite = math.isfinite(float(value))
                except OverflowError:  # an integer past a float's range
                    finite = False
                if not finite:
                    raise ValueError(f"{key} is not a finite number")
            elif isinstance(kind, String):
                if not isinstance(value, str):
                    raise ValueError(f"{key} is not a text")
                if key not in self._text_limits and kind.length and len(value) > kind.length:
                    raise ValueError(f"{key} is longer than {kind.length} characters")
        return _fitted(row, self._text_limits)

    async def _insert_sorting(self, rows: list[dict[str, Any]]) -> dict[int, str]:
        """Insert replayed rows, ``batch_size`` at a time, each chunk in a transaction of its
        own (replays are idempotent, so a failure halfway costs nothing). A chunk whose
        values the database refuses (``values_refused``: a date out of its range, a
        constraint) is tried again in halves down to single rows: the rows it still refuses
        are returned (index in ``rows`` → why) and the others are stored, so one bad row
        does not block the outbox. Any other failure (an unreachable database, a missing
        table, a revoked INSERT: every row would meet it) raises."""
        refused: dict[int, str] = {}
        for start in range(0, len(rows), self._batch_size):
            await self._insert_halving(rows[start : start + self._batch_size], start, refused)
        return refused

    async def _insert_halving(
        self, rows: list[dict[str, Any]], offset: int, refused: dict[int, str]
    ) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(self._insert_idempotent, rows)
        except Exception as exc:
            if not values_refused(exc):
                raise
            if len(rows) == 1:
                refused[offset] = f"{type(exc).__name__}: {first_line(exc)}"
                return
            half = len(rows) // 2
            await self._insert_halving(rows[:half], offset, refused)
            await self._insert_halving(rows[half:], offset + half, refused)

    async def _insert(self, rows: list[dict[str, Any]], *, attempts: int) -> bool:
        if not rows:  # e.g. a batch of lines that were no records: nothing to ask the table
            return True
        delay = self._retry_delay
        for attempt in range(attempts):
            try:
                async with self._engine.begin() as conn:
                    for start in range(0, len(rows), self._batch_size):
                        chunk = rows[start : start + self._batch_size]
                        await conn.execute(self._insert_idempotent, chunk)
            except Exception as exc:
                if attempt + 1 < attempts:
                    await asyncio.sleep(delay)
                    delay *= 2
                    continue
                self._table_failed(exc)
                return False
            return True
        return False


def _insert_once(dialect: str, table: Table) -> Executable:
    """INSERT that skips rows whose ``record_id`` is already there (replays are idempotent)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=[table.c.record_id])
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing(index_elements=[table.c.record_id])
    return insert(table)  # other databases: a duplicate fails the batch, which is retried


class _RowInsert:
    """One audit row inserted through the DBAPI cursor of the request's connection.

    This row is the registry's only statement on a DB-writing request's critical path, and
    Core's execution machinery (parameter handling, the result object, the events) costs more
    than the driver's round trip: on PostgreSQL about 100 µs of the 220 µs the row costs. The
    statement is compiled once per dialect and the row goes through the columns' own bind
    processors, so the driver receives what ``connection.execute(insert(table), row)`` would
    send. A driver error is raised as SQLAlchemy's ``DBAPIError``, as Core would raise it.
    Cursor-level events (``before_cursor_execute``, SQL tracing) do not see this statement.
    """

    __slots__ = ("_compiled", "_table")

    def __init__(self, table: Table) -> None:
        self._table = table
        self._compiled: dict[Dialect, tuple[str, list[tuple[str, Any]], bool]] = {}

    def execute(self, connection: Connection, row: dict[str, Any]) -> None:
        dialect = connection.dialect
        compiled = self._compiled.get(dialect)
        if compiled is None:
            compiled = self._compiled[dialect] = self._compile(dialect, row)
        statement, processors, positional = compiled
        values = [
            (name, row[name] if process is None else process(row[name]))
            for name, process in processors
        ]
        parameters: Any = [value for _name, value in values] if positional else dict(values)
        driver_connection = connection.connection.dbapi_connection
        assert driver_connection is not None  # the session's connection is in a transaction
        cursor = driver_connection.cursor()
        try:
            cursor.execute(statement, parameters)
        except dialect.loaded_dbapi.Error as exc:
            # As Core does: a lost connection is flagged, and invalidated so that the pool
            # does not hand it out again.
            lost = dialect.is_disconnect(exc, driver_connection, cursor)
            if lost:
                connection.invalidate(exc)
            raise DBAPIError.instance(
                statement,
                parameters,
                exc,
                dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=dialect,
            ) from exc
        finally:
            cursor.close()

    def _compile(
        self, dialect: Dialect, row: dict[str, Any]
    ) -> tuple[str, list[tuple[str, Any]], bool]:
        names = [column.key for column in self._table.columns if column.key in row]
        if len(names) != len(row):  # as Core refuses it
            unknown = ", ".join(sorted(set(row) - set(names)))
            raise CompileError(f"Unconsumed column names: {unknown}")
        compiled = insert(self._table).compile(dialect=dialect, column_keys=names)
        order = list(compiled.positiontup) if compiled.positiontup is not None else names
        processors = [
            (name, self._table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in order
        ]
        return compiled.string, processors, compiled.positiontup is not None


def _database_key(url: URL) -> tuple[str, str, int | None, str]:
    """Which database a URL names (drivers and credentials aside)."""
    return (url.get_backend_name(), url.host or "", url.port, url.database or "")


def _describe(key: tuple[str, str, int | None, str]) -> str:
    backend, host, port, database = key
    where = f"{host}:{port}" if port else host
    return f"{backend} database {database!r}" + (f" on {where}" if where else "")


def _probe_row() -> dict[str, Any]:
    return {
        "record_id": uuid.uuid4().hex,
        "recorded_at": datetime.now(UTC),
        "operation": "layerguard.configuration_check",
        "outcome": "ok",
        "duration_ms": 0.0,
        "governance": "active",
        "unguarded": False,
        "degraded": False,
    }


def _sync_session(session: object) -> Session | None:
    if isinstance(session, AsyncSession):
        return session.sync_session
    if isinstance(session, Session):
        return session
    return None


def _text_limits(table: Table) -> dict[str, int | None]:
    """The text columns of the audit table, with their length (None: unbounded)."""
    return {
        column.key: column.type.length
        for column in table.columns
        if isinstance(column.type, String) and column.key != "record_id"
    }


def _fitted(row: dict[str, Any], limits: dict[str, int | None]) -> dict[str, Any]:
    """``row`` with every text the table could refuse made storable: a NUL character and a
    lone surrogate escaped, a text longer than its column cut (ending in "…"). A tenant id,
    a correlation id or an error code comes from outside; one the table refuses would fail
    the request's commit, and then every replay of the outbox that holds it."""
    for key, limit in limits.items():
        value = row.get(key)
        if not isinstance(value, str):
            continue
        if not value.isascii() or "\x00" in value:
            value = value.replace("\x00", "\\x00")
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
        if limit is not None and len(value) > limit:
            value = value[: limit - 1] + "…"
        row[key] = value
    return row


_ROW_KEYS = (
    "record_id",
    "recorded_at",
    "operation",
    "tenant_id",
    "outcome",
    "error_code",
    "duration_ms",
    "governance",
    "unguarded",
    "degraded",
    "governance_reason",
    "correlation_id",
    "work_committed",
)


def _row(record: AuditRecord, work_committed: bool | None) -> dict[str, Any]:
    return {
        "record_id": uuid.uuid4().hex,
        "recorded_at": datetime.fromtimestamp(record.timestamp, UTC),
        "operation": record.operation,
        "tenant_id": record.tenant_id,
        "outcome": record.outcome.value,
        "error_code": record.error_code,
        "duration_ms": record.duration_ms,
        "governance": record.governance,
        "unguarded": record.unguarded,
        "degraded": record.degraded,
        "governance_reason": record.governance_reason,
        "correlation_id": record.correlation_id,
        "work_committed": work_committed,
    }


def _pending(session: Session) -> list[list[Any]]:
    """The session's rows awaiting its commit; a session dropped without close still gets
    them written (spooled by a finalizer that holds the list, not the session)."""
    pending: list[list[Any]] | None = session.__dict__.get(_PENDING)
    if pending is None:
        pending = session.__dict__[_PENDING] = []
        weakref.finalize(session, _session_dropped, pending)
    return pending


def _session_dropped(pending: list[list[Any]]) -> None:
    # The session was garbage-collected with rows still attached: its transaction never
    # committed (the pool rolls the connection back), so the work was not kept.
    by_sink: dict[TableAuditSink, list[dict[str, Any]]] = {}
    for sink, row, _savepoint in pending:
        by_sink.setdefault(sink, []).append({**row, "work_committed": False})
    pending.clear()
    for sink, rows in by_sink.items():
        sink.spool(rows)


@event.listens_for(Session, "after_begin")
def _connected(session: Session, _transaction: Any, _connection: Any) -> None:
    session.__dict__[_CONNECTED] = True


@event.listens_for(Session, "before_commit")
def _insert_with_the_work(session: Session) -> None:
    # Only the commit of the outermost transaction: savepoint releases fire this event too.
    pending = session.__dict__.get(_PENDING)
    if not pending or session.get_nested_transaction() is not None:
        return
    connection = session.connection()
    by_sink: dict[TableAuditSink, list[dict[str, Any]]] = {}
    for sink, row, _savepoint in pending:
        by_sink.setdefault(sink, []).append(row)
    inserted = []
    for sink, rows in by_sink.items():
        if not sink.in_transaction_allowed(connection):
            continue  # written after the commit (after_commit below)
        try:
            if len(rows) == 1:  # the usual case: one INSERT, straight to the driver
                sink._row_insert.execute(connection, rows[0])
            else:
                connection.execute(sink._insert_with_work, rows)
        except Exception as exc:
            if not database_unavailable(exc):  # the table refused: keep rows out of its way
                sink._table_failed(exc)
            raise
        inserted.append(sink)
    session.__dict__[_INSERTED] = inserted


@event.listens_for(Session, "after_commit")
def _committed_with_the_work(session: Session) -> None:
    released = session.get_nested_transaction()
    if released is None:  # the outermost transaction: the rows are in the database now
        inserted = session.__dict__.pop(_INSERTED, ())
        pending = session.__dict__.get(_PENDING) or []
        rows = [(sink, row) for sink, row, _savepoint in pending]
        pending.clear()  # in place: the finalizer of a dropped session holds this list
        for sink, row in rows:
            if sink in inserted:
                sink.written_with_work += 1
            else:
                sink.enqueue(row)  # work_committed stays true: the work is committed
        return
    # A savepoint was released: its rows now belong to the enclosing transaction.
    parent = released.parent
    enclosing = weakref.ref(parent) if parent is not None and parent.nested else None
    for entry in session.__dict__.get(_PENDING, ()):
        if entry[2] is not None and entry[2]() is released:
            entry[2] = enclosing


def _savepoint_rolled_back(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        return
    pending = session.__dict__.get(_PENDING)
    if not pending:
        return
    kept = []
    for entry in pending:
        if entry[2] is not None and entry[2]() is previous:
            sink, row, _savepoint = entry
            sink.enqueue({**row, "work_committed": False})
        else:
            kept.append(entry)
    pending[:] = kept


# First in line: the transaction-ownership guard raises from this event, which would skip
# listeners registered after it.
event.listen(Session, "after_soft_rollback", _savepoint_rolled_back, insert=True)


@event.listens_for(Session, "after_transaction_end")
def _work_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without committing the rows: the work they describe was
    # discarded, so write them separately, flagged as not committed.
    if transaction.parent is not None:
        return
    session.__dict__.pop(_CONNECTED, None)
    session.__dict__.pop(_INSERTED, None)
    pending = session.__dict__.get(_PENDING)
    if not pending:
        return
    rows = [(sink, row) for sink, row, _savepoint in pending]
    pending.clear()
    for sink, row in rows:
        sink.enqueue({**row, "work_committed": False})


__all__ = [
    "DEFAULT_TABLE",
    "AuditConfigurationError",
    "AuditOutbox",
    "TableAuditSink",
    "audit_table",
]
