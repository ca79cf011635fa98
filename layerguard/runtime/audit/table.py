"""An audit sink writing to a database table, atomically with the work it describes.

* A successful dispatch on a session inside a transaction: the row is kept on the session and
  inserted by a ``before_commit`` hook in the same transaction as the operation's writes, so
  the work and its audit row are committed together or not at all.
* A failed dispatch, or a successful one whose request was rolled back after all: the row is
  written through the sink's own engine (a separate connection and transaction), so it
  survives the rollback.
* A dispatch without a SQLAlchemy session: written through the sink's own engine too.

The ``work_committed`` column tells which: true (committed with the work), false (the work
was discarded), null (no database work to tie the record to).

Independent writes are queued and done by a background task (``emit`` must not block the
dispatch), retried with backoff on errors (a busy SQLite file, a failover) and dropped (and
counted, and logged once per interval) after ``retries``. ``drain()`` waits for the queue,
``aclose()`` drains at shutdown (the FastAPI lifespan helper calls it).
"""

from __future__ import annotations

import asyncio
import logging
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
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from layerguard.runtime.audit.record import AuditOutcome
from layerguard.runtime.throttle import ThrottledLog

if TYPE_CHECKING:
    from layerguard.runtime.audit.record import AuditRecord
    from layerguard.runtime.context import OperationContext

logger = logging.getLogger("layerguard.runtime.audit")

DEFAULT_TABLE = "layerguard_audit"
_PENDING = "layerguard.audit_pending"
_INSERTED = "layerguard.audit_inserted"


def audit_table(metadata: MetaData | None = None, name: str = DEFAULT_TABLE) -> Table:
    """The table definition (add it to your metadata to manage it with your migrations)."""
    return Table(
        name,
        metadata if metadata is not None else MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=True),
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
        batch_size: int = 200,
        retries: int = 6,
        retry_delay: float = 0.05,
        log_interval: float = 60.0,
    ) -> None:
        self._engine = engine
        self.table = table if table is not None else audit_table()
        self._batch_size = batch_size
        self._retries = retries
        self._retry_delay = retry_delay
        self._queue: list[dict[str, Any]] = []
        self._writer: asyncio.Task[None] | None = None
        self._log = ThrottledLog(logger, log_interval)
        self.written_independently = 0
        self.dropped = 0

    def enabled(self) -> bool:
        """Always wants records."""
        return True

    def emit(self, record: AuditRecord, ctx: OperationContext) -> None:
        """Attach the row to the request's transaction, or queue it for the separate writer."""
        session = _sync_session(ctx.session)
        if session is not None and record.outcome is AuditOutcome.OK and session.in_transaction():
            # Tagged with the innermost open savepoint (nested dispatches): if that savepoint
            # is rolled back later, the row moves to the separate writer, flagged uncommitted.
            entry = [self, _row(record, True), session.get_nested_transaction()]
            session.info.setdefault(_PENDING, []).append(entry)
            return
        self.enqueue(_row(record, None if session is None else False))

    def enqueue(self, row: dict[str, Any]) -> None:
        """Write ``row`` through the sink's own connection (in the background)."""
        self._queue.append(row)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_queue())

    async def drain(self) -> None:
        """Wait until every queued row is written (or dropped after an error)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def aclose(self) -> None:
        """Drain at shutdown."""
        await self.drain()

    async def create_table(self) -> None:
        """Create the table if it does not exist (applications with migrations skip this)."""
        async with self._engine.begin() as conn:
            await conn.run_sync(self.table.create, checkfirst=True)

    async def _write_queue(self) -> None:
        while self._queue:
            batch = self._queue[: self._batch_size]
            del self._queue[: self._batch_size]
            await self._write_batch(batch)

    async def _write_batch(self, batch: list[dict[str, Any]]) -> None:
        delay = self._retry_delay
        for attempt in range(self._retries + 1):
            try:
                async with self._engine.begin() as conn:
                    await conn.execute(insert(self.table), batch)
            except Exception as exc:
                if attempt < self._retries:
                    await asyncio.sleep(delay)
                    delay *= 2
                    continue
                self.dropped += len(batch)
                self._log.log(
                    "write",
                    logging.ERROR,
                    "audit table sink could not write %d records after %d attempts; dropped",
                    len(batch),
                    attempt + 1,
                    exc_info=exc,
                )
            else:
                self.written_independently += len(batch)
            return


def _sync_session(session: object) -> Session | None:
    if isinstance(session, AsyncSession):
        return session.sync_session
    if isinstance(session, Session):
        return session
    return None


def _row(record: AuditRecord, work_committed: bool | None) -> dict[str, Any]:
    return {
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


@event.listens_for(Session, "before_commit")
def _insert_with_the_work(session: Session) -> None:
    # Only the commit of the outermost transaction: savepoint releases fire this event too.
    pending = session.info.get(_PENDING)
    if not pending or session.get_nested_transaction() is not None:
        return
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for sink, row, _savepoint in pending:
        by_table.setdefault(sink.table, []).append(row)
    connection = session.connection()
    for table, rows in by_table.items():
        connection.execute(insert(table), rows)
    session.info[_INSERTED] = True


@event.listens_for(Session, "after_commit")
def _committed_with_the_work(session: Session) -> None:
    released = session.get_nested_transaction()
    if released is None:  # the outermost transaction: the rows are in the database now
        if session.info.pop(_INSERTED, False):
            session.info.pop(_PENDING, None)
        return
    # A savepoint was released: its rows now belong to the enclosing transaction.
    parent = released.parent
    enclosing = parent if parent is not None and parent.nested else None
    for entry in session.info.get(_PENDING, ()):
        if entry[2] is released:
            entry[2] = enclosing


def _savepoint_rolled_back(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        return
    pending = session.info.get(_PENDING)
    if not pending:
        return
    kept = []
    for entry in pending:
        if entry[2] is previous:
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
    session.info.pop(_INSERTED, None)
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    for sink, row, _savepoint in pending:
        sink.enqueue({**row, "work_committed": False})
