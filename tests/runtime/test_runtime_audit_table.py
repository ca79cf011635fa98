"""The table audit sink: rows of committed work commit with it, the others survive rollbacks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from runtime_schema import ITEMS
from sqlalchemy import event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from layerguard.runtime import OperationContext, OperationRegistry, OperationResult
from layerguard.runtime.audit.table import TableAuditSink
from layerguard.runtime.integrations.fastapi import (
    SessionDep,
    registry_lifespan,
    result_to_response,
)
from layerguard.runtime.testing.postgres import PostgresCluster


class InsertItem:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        await ctx.session.execute(insert(ITEMS).values(name=ctx.params["name"]))
        if ctx.params.get("then") == "raise":
            raise ValueError("boom")
        return OperationResult.ok(ctx.params["name"])


class Nested:
    """Dispatches ``items.insert`` through the registry, then fails if asked."""

    def __init__(self, registry: OperationRegistry) -> None:
        self.registry = registry

    async def execute(self, ctx: OperationContext) -> OperationResult:
        await self.registry.execute(
            "items.insert", OperationContext(ctx.session, params={"name": ctx.params["name"]})
        )
        return OperationResult.fail("outer gave up", "CONFLICT")


@pytest.fixture
async def sink(engine: AsyncEngine, db_url: str) -> AsyncIterator[TableAuditSink]:
    from sqlalchemy.ext.asyncio import create_async_engine

    own_engine = create_async_engine(db_url)  # the sink's separate connection pool
    sink = TableAuditSink(own_engine)
    await sink.create_table()
    yield sink
    await sink.aclose()
    await own_engine.dispose()


@pytest.fixture
async def registry(sink: TableAuditSink) -> OperationRegistry:
    registry = OperationRegistry(audit_sinks=[sink])
    registry.register("items.insert", InsertItem())
    registry.register("items.nested", Nested(registry))
    registry.register("pure.ok", _Ok())
    return registry


@pytest.fixture
async def client(
    sessions: async_sessionmaker[AsyncSession], registry: OperationRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI(lifespan=registry_lifespan(registry=registry, session_factory=sessions))

    @app.post("/items")
    async def create(
        session: SessionDep, name: str, then: str = "", abort: bool = False, clear: bool = False
    ) -> Any:
        result = await registry.execute(
            "items.insert", OperationContext(session, "t1", {"name": name, "then": then})
        )
        if clear:
            session.info.clear()  # the application's dictionary: it may do what it likes
        if abort:
            raise HTTPException(status_code=409, detail="changed my mind")
        return {"error_code": result.error_code}

    @app.post("/nested")
    async def nested(session: SessionDep, name: str) -> Any:
        return result_to_response(
            await registry.execute("items.nested", OperationContext(session, params={"name": name}))
        )

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as client,
    ):
        yield client


async def audit_rows(reader: AsyncEngine, sink: TableAuditSink) -> list[tuple[Any, ...]]:
    await sink.drain()
    table = sink.table
    async with reader.connect() as conn:
        rows = await conn.execute(
            select(
                table.c.operation, table.c.outcome, table.c.error_code, table.c.work_committed
            ).order_by(table.c.id)
        )
        return [tuple(row) for row in rows]


async def test_successful_operation_audit_row_commits_with_its_work(
    client: httpx.AsyncClient, reader: AsyncEngine, sink: TableAuditSink, read_items: Any
) -> None:
    response = await client.post("/items", params={"name": "a"})
    assert response.json() == {"error_code": None}
    assert await read_items() == ["a"]
    assert await audit_rows(reader, sink) == [("items.insert", "ok", None, True)]
    assert sink.written_independently == 0  # it went in with the request's transaction


async def test_clearing_session_info_does_not_lose_the_pending_audit_row(
    client: httpx.AsyncClient, reader: AsyncEngine, sink: TableAuditSink, read_items: Any
) -> None:
    # The rows waiting for the commit were kept in session.info: a route that cleared it lost
    # them there, and the row was written only when the session was collected, as uncommitted.
    response = await client.post("/items", params={"name": "a", "clear": "true"})
    assert response.json() == {"error_code": None}
    assert await read_items() == ["a"]
    assert await audit_rows(reader, sink) == [("items.insert", "ok", None, True)]
    assert (sink.written_with_work, sink.written_independently) == (1, 0)


async def test_failed_operation_audit_row_survives_the_rollback(
    client: httpx.AsyncClient, reader: AsyncEngine, sink: TableAuditSink, read_items: Any
) -> None:
    await client.post("/items", params={"name": "a"})
    response = await client.post("/items", params={"name": "b", "then": "raise"})
    assert response.json() == {"error_code": "HANDLER_EXCEPTION:ValueError"}
    assert await read_items() == ["a"]
    assert await audit_rows(reader, sink) == [
        ("items.insert", "ok", None, True),
        ("items.insert", "failed", "HANDLER_EXCEPTION:ValueError", False),
    ]


async def test_request_rolled_back_after_success_keeps_the_row_flagged_uncommitted(
    client: httpx.AsyncClient, reader: AsyncEngine, sink: TableAuditSink, read_items: Any
) -> None:
    response = await client.post("/items", params={"name": "a", "abort": "true"})
    assert response.status_code == 409
    assert await read_items() == []
    assert await audit_rows(reader, sink) == [("items.insert", "ok", None, False)]


async def test_inner_success_inside_a_failed_outer_is_flagged_uncommitted(
    client: httpx.AsyncClient, reader: AsyncEngine, sink: TableAuditSink, read_items: Any
) -> None:
    response = await client.post("/nested", params={"name": "inner"})
    assert response.status_code == 409
    assert await read_items() == []
    assert await audit_rows(reader, sink) == [
        ("items.insert", "ok", None, False),
        ("items.nested", "failed", "CONFLICT", False),
    ]


async def test_row_columns(
    client: httpx.AsyncClient, reader: AsyncEngine, sink: TableAuditSink
) -> None:
    await client.post("/items", params={"name": "a"})
    await sink.drain()
    async with reader.connect() as conn:
        row = (await conn.execute(select(sink.table))).one()._asdict()
    assert row["tenant_id"] == "t1"
    assert row["governance"] == "active"
    assert (row["unguarded"], row["degraded"]) == (False, False)
    assert row["duration_ms"] >= 0
    assert row["recorded_at"] is not None


async def test_row_sent_with_the_work_reads_back_as_core_writes_it(
    client: httpx.AsyncClient,
    registry: OperationRegistry,
    reader: AsyncEngine,
    sink: TableAuditSink,
) -> None:
    # The row committed with the work goes straight to the DBAPI cursor, the other one
    # through Core (the sink's own engine): both must read back alike.
    await client.post("/items", params={"name": "a"})
    await registry.execute("pure.ok", OperationContext(None, "t1"))
    await sink.drain()
    table = sink.table
    async with reader.connect() as conn:
        rows = [r._asdict() for r in await conn.execute(select(table).order_by(table.c.id))]
    assert sink.written_with_work == 1
    assert sink.written_independently == 1
    with_work, independent = rows
    both = [key for key in with_work if None not in (with_work[key], independent[key])]
    assert [type(with_work[key]) for key in both] == [type(independent[key]) for key in both]
    assert abs((independent["recorded_at"] - with_work["recorded_at"]).total_seconds()) < 60
    for row in rows:
        del row["id"], row["record_id"], row["recorded_at"], row["duration_ms"]
    assert with_work == {
        "operation": "items.insert",
        "tenant_id": "t1",
        "outcome": "ok",
        "error_code": None,
        "governance": "active",
        "unguarded": False,
        "degraded": False,
        "governance_reason": None,
        "correlation_id": None,
        "work_committed": True,
    }
    assert independent == {**with_work, "operation": "pure.ok", "work_committed": None}


async def test_dispatch_without_session_is_written_separately(
    registry: OperationRegistry, reader: AsyncEngine, sink: TableAuditSink
) -> None:
    class NoDb:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            return OperationResult.ok()

    registry.register("pure.compute", NoDb())
    await registry.execute("pure.compute", OperationContext())
    assert await audit_rows(reader, sink) == [("pure.compute", "ok", None, None)]


class _Ok:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # terminates a backend
async def test_connection_lost_before_the_row_is_sent_is_database_unavailable(
    client: httpx.AsyncClient,
    reader: AsyncEngine,
    sink: TableAuditSink,
    read_items: Any,
    request: pytest.FixtureRequest,
) -> None:
    # The row with the work goes to the driver directly: a lost connection must still be told
    # apart from a refused statement, as SQLAlchemy tells them apart.
    cluster: PostgresCluster = request.getfixturevalue("layerguard_postgres")

    def terminate(session: Session) -> None:
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        cluster.sql(f"SELECT pg_terminate_backend({pid})")

    event.listen(Session, "before_commit", terminate, insert=True)  # before the sink's hook
    try:
        response = await client.post("/items", params={"name": "a"})
    finally:
        event.remove(Session, "before_commit", terminate)
    assert response.status_code == 503
    assert response.json()["detail"]["error_code"] == "DATABASE_UNAVAILABLE"
    assert await read_items() == []
    assert await audit_rows(reader, sink) == [("items.insert", "ok", None, False)]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # terminates a backend
async def test_connection_found_closed_at_the_commit_is_database_unavailable(
    sessions: async_sessionmaker[AsyncSession],
    registry: OperationRegistry,
    reader: AsyncEngine,
    sink: TableAuditSink,
    read_items: Any,
    request: pytest.FixtureRequest,
) -> None:
    """The backend dies after the dispatch and the driver has noticed by the commit: its
    "connection is closed" is a lost database, not a refused row, so the audit table is not
    marked failing, and the dead connection does not go back to the pool."""
    cluster: PostgresCluster = request.getfixturevalue("layerguard_postgres")
    app = FastAPI(lifespan=registry_lifespan(registry=registry, session_factory=sessions))

    @app.post("/items")
    async def create(session: SessionDep, name: str, kill: bool = False) -> Any:
        context = OperationContext(session, "t1", {"name": name})
        result = await registry.execute("items.insert", context)
        if kill:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await asyncio.to_thread(cluster.sql, f"SELECT pg_terminate_backend({pid})")
            await asyncio.sleep(0.2)  # the driver sees the socket close
        return {"error_code": result.error_code}

    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as client,
    ):
        lost = await client.post("/items", params={"name": "lost", "kill": "true"})
        after = await client.post("/items", params={"name": "after"})
    assert lost.status_code == 503, lost.text
    assert lost.json()["detail"]["error_code"] == "DATABASE_UNAVAILABLE"
    assert (after.status_code, after.json()) == (200, {"error_code": None})
    assert await read_items() == ["after"]
    assert not sink.status()["table_failing"]
    assert sorted(await audit_rows(reader, sink)) == [
        ("items.insert", "ok", None, False),
        ("items.insert", "ok", None, True),
    ]


class FailsWith:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.fail("refused", ctx.params["code"])


@pytest.mark.parametrize(
    ("tenant", "stored"),
    [
        ("t" * 300, "t" * 199 + "…"),
        ("a\x00b", "a\\x00b"),
        ("a\ud800b", "a\\ud800b"),
        ("ünïcödé", "ünïcödé"),
    ],
)
async def test_texts_the_table_would_refuse_are_stored_fitted(
    sessions: async_sessionmaker[AsyncSession],
    registry: OperationRegistry,
    reader: AsyncEngine,
    sink: TableAuditSink,
    read_items: Any,
    tenant: str,
    stored: str,
) -> None:
    """A tenant id or an error code comes from outside: one longer than its column (which
    PostgreSQL enforces), or holding a NUL or a lone surrogate, failed the request's commit,
    then blocked the outbox for every later row."""
    registry.register("items.refuse", FailsWith())
    app = FastAPI(lifespan=registry_lifespan(registry=registry, session_factory=sessions))

    @app.post("/items")
    async def create(session: SessionDep, name: str) -> Any:
        await registry.execute("items.insert", OperationContext(session, tenant, {"name": name}))
        refused = OperationContext(session, tenant, {"code": "E" * 250})
        return {"error_code": (await registry.execute("items.refuse", refused)).error_code}

    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as client,
    ):
        first = await client.post("/items", params={"name": "a"})
        second = await client.post("/items", params={"name": "b"})
    assert (first.status_code, second.status_code) == (200, 200), first.text
    assert await read_items() == ["a", "b"]
    await sink.drain()
    assert not sink.status()["table_failing"]
    table = sink.table
    async with reader.connect() as conn:
        rows = await conn.execute(
            select(table.c.operation, table.c.tenant_id, table.c.error_code).order_by(
                table.c.operation, table.c.id
            )
        )
        assert [tuple(row) for row in rows] == [
            ("items.insert", stored, None),
            ("items.insert", stored, None),
            ("items.refuse", stored, "E" * 199 + "…"),
            ("items.refuse", stored, "E" * 199 + "…"),
        ]
