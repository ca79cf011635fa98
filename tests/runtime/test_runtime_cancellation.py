"""A dispatch cancelled at any await has exactly one audit record and is counted.

Before: a cancellation that arrived while the dispatch's unit was settling (the deferred flush
of what the handler left pending), while the unit was being opened, or while the authority
gate refreshed the governance state went out of ``execute()`` with no audit record and no
count. The slow statements are real: a trigger that sleeps in the database (PostgreSQL) or in
a function SQLite calls (on aiosqlite's thread, so the event loop stays free).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import app_engine, is_sqlite, item_names
from runtime_schema import ITEMS, METADATA, Note
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from layerguard.runtime import (
    AuditOutcome,
    GovernanceState,
    InMemoryAuditSink,
    OperationContext,
    OperationRegistry,
    OperationResult,
)

SLOW_SECONDS = 1.0
BOUND = 30.0  # a dispatch that hangs fails the test instead of hanging it


class AddsPending:
    """Leaves an ORM object pending: the unit's commit flushes it (the slow INSERT)."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        ctx.session.add(Note(text="slow"))
        return OperationResult.ok()


class InsertsItem:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        await ctx.session.execute(insert(ITEMS).values(name=ctx.params["name"]))
        return OperationResult.ok()


class SlowDatabase:
    """An engine whose INSERT of the note ``'slow'`` takes ``SLOW_SECONDS``; ``inserting`` is
    set when that INSERT is sent."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = app_engine(url)
        self.inserting = asyncio.Event()
        sync_engine = self.engine.sync_engine
        if is_sqlite(url):

            @event.listens_for(sync_engine, "connect")
            def functions(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.create_function("slow_down", 0, lambda: time.sleep(SLOW_SECONDS))

        @event.listens_for(sync_engine, "before_cursor_execute")
        def sent(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if statement.startswith("INSERT INTO notes") and "slow" in str(parameters):
                self.inserting.set()

    async def create(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
            if is_sqlite(self.url):
                await conn.exec_driver_sql(
                    "CREATE TRIGGER slow_note BEFORE INSERT ON notes WHEN NEW.text = 'slow' "
                    "BEGIN SELECT slow_down(); END"
                )
            else:
                await conn.exec_driver_sql(
                    "CREATE FUNCTION slow_note() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.text = 'slow' THEN PERFORM pg_sleep({SLOW_SECONDS}); END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
                await conn.exec_driver_sql(
                    "CREATE TRIGGER slow_note BEFORE INSERT ON notes "
                    "FOR EACH ROW EXECUTE FUNCTION slow_note()"
                )


@pytest.fixture
async def slow(db_url: str) -> AsyncIterator[SlowDatabase]:
    database = SlowDatabase(db_url)
    await database.create()
    yield database
    await database.engine.dispose()


@pytest.fixture
def audit() -> InMemoryAuditSink:
    return InMemoryAuditSink()


@pytest.fixture
def registry(audit: InMemoryAuditSink) -> OperationRegistry:
    registry = OperationRegistry(audit_sinks=[audit])
    registry.register("notes.pending", AddsPending())
    registry.register("items.insert", InsertsItem())
    return registry


async def cancel_when_inserting(task: asyncio.Task[Any], slow: SlowDatabase) -> None:
    """Cancel ``task`` while the slow INSERT runs; it must end with ``CancelledError``."""
    await asyncio.wait_for(slow.inserting.wait(), BOUND)
    await asyncio.sleep(0.05)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, BOUND)


def assert_one_cancelled_record(
    registry: OperationRegistry, audit: InMemoryAuditSink, operation: str
) -> None:
    [record] = audit.for_operation(operation)
    assert (record.outcome, record.error_code) == (AuditOutcome.CANCELLED, "CANCELLED")
    counters = registry.status()["operations"][operation]
    assert (counters["calls"], counters["cancelled"], counters["last_error_code"]) == (
        1,
        1,
        "CANCELLED",
    )


async def notes(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(Note.text))).scalars())


@pytest.mark.parametrize("earlier_write", [False, True], ids=["transaction", "savepoint"])
async def test_cancelled_while_its_unit_settles(
    slow: SlowDatabase,
    registry: OperationRegistry,
    audit: InMemoryAuditSink,
    earlier_write: bool,
) -> None:
    """The handler returned; the deferred flush of its pending object is under way (with an
    earlier write the unit is a savepoint, else the whole transaction)."""
    async with AsyncSession(slow.engine, expire_on_commit=False) as session:
        if earlier_write:
            first = await registry.execute(
                "items.insert", OperationContext(session, params={"name": "before"})
            )
            assert first.success
        task = asyncio.create_task(registry.execute("notes.pending", OperationContext(session)))
        await cancel_when_inserting(task, slow)
        assert_one_cancelled_record(registry, audit, "notes.pending")
        await asyncio.wait_for(session.commit(), BOUND)  # a caller that went on regardless
    assert await notes(slow.engine) == []  # the cancelled dispatch kept nothing...
    assert await item_names(slow.engine) == (
        ["before"] if earlier_write else []
    )  # ...and lost nothing


async def test_cancelled_while_its_unit_opens(
    slow: SlowDatabase, registry: OperationRegistry, audit: InMemoryAuditSink
) -> None:
    """Opening the unit (a savepoint) first flushes what the route left pending."""
    async with AsyncSession(slow.engine) as session:
        session.add(Note(text="slow"))
        ctx = OperationContext(session, params={"name": "never"})
        task = asyncio.create_task(registry.execute("items.insert", ctx))
        await cancel_when_inserting(task, slow)
        assert_one_cancelled_record(registry, audit, "items.insert")
        await asyncio.wait_for(session.rollback(), BOUND)
    assert await item_names(slow.engine) == []


class WaitsForever:
    """A provider whose cache is stale and whose refresh is slow (a database read)."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()

    def snapshot(self) -> GovernanceState | None:
        return None

    async def refresh(self) -> GovernanceState:
        self.asked.set()
        await asyncio.sleep(3600)
        raise AssertionError("never reached")


@pytest.mark.parametrize("operation", ["items.insert", "no.such-operation"])
async def test_cancelled_while_the_governance_state_is_refreshed(operation: str) -> None:
    provider, audit = WaitsForever(), InMemoryAuditSink()
    registry = OperationRegistry(authority=provider, audit_sinks=[audit], authority_timeout=60)
    registry.register("items.insert", InsertsItem())
    task = asyncio.create_task(registry.execute(operation, OperationContext(tenant_id="t1")))
    await asyncio.wait_for(provider.asked.wait(), BOUND)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, BOUND)
    [record] = audit.records
    assert (record.operation, record.tenant_id, record.outcome, record.governance) == (
        operation,
        "t1",
        AuditOutcome.CANCELLED,
        "active",  # the last state known: the fresh one never came
    )
    status = registry.status()
    if operation == "items.insert":
        counters = status["operations"]["items.insert"]
        assert (counters["calls"], counters["cancelled"]) == (1, 1)
    else:
        assert status["unknown_operation_calls"] == 1
