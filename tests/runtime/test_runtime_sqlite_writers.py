"""SQLite with a second writer on the same file (the audit table sink, the table kill switch).

The table sink writes the records of failed operations through its own connection, in the
background. With the documented single-engine setup, a request that read and then wrote while
that write was in flight got "database is locked" (SQLite refuses to upgrade a read lock while
another connection writes) and answered 500: the first request after a failed one, in this
test, failed most runs. The request sessions' engine now begins IMMEDIATE (the write lock is
taken up front, so a request waits instead of failing) and the sink writes through an engine
of its own, which retries.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from layerguard.runtime import OperationContext, OperationRegistry, OperationResult
from layerguard.runtime.audit.table import TableAuditSink, audit_table
from layerguard.runtime.integrations.fastapi import (
    SessionDep,
    registry_lifespan,
    result_to_response,
)
from layerguard.runtime.integrations.sqlalchemy_session import (
    configure_session_factory,
    create_sqlite_engine,
)

METADATA = MetaData()
NAMES = Table(
    "names",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String, unique=True),
)
AUDIT = audit_table(METADATA)


class CreateName:
    """Reads, then writes: the pattern whose lock upgrade SQLite refuses mid-write."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        name = ctx.params["name"]
        if await ctx.session.scalar(select(NAMES.c.id).where(NAMES.c.name == name)):
            return OperationResult.fail(f"{name!r} is taken", "CONFLICT")
        await ctx.session.execute(insert(NAMES).values(name=name))
        return OperationResult.ok(name)


async def test_requests_after_failed_operations_are_not_locked_out(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    sessions_engine = create_sqlite_engine(url, begin="IMMEDIATE")
    sink_engine = create_sqlite_engine(url)
    async with sink_engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    sink = TableAuditSink(sink_engine, table=AUDIT)
    registry = OperationRegistry(audit_sinks=[sink])
    app = FastAPI(
        lifespan=registry_lifespan(
            lambda r: r.register("names.create", CreateName()),
            registry=registry,
            session_factory=async_sessionmaker(sessions_engine),
        )
    )

    @app.post("/names")
    async def create(name: str, session: SessionDep) -> Any:
        context = OperationContext(session=session, params={"name": name})
        return result_to_response(await registry.execute("names.create", context))

    statuses = []
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
        ):
            for i in range(10):
                # a failed operation (its audit row goes to the sink's background writer),
                # immediately followed by a request that reads, then writes
                statuses.append((await c.post("/names", params={"name": "taken"})).status_code)
                statuses.append((await c.post("/names", params={"name": f"n{i}"})).status_code)
            await sink.drain()
    finally:
        configure_session_factory(None)
    async with sink_engine.connect() as conn:
        names = (await conn.execute(text("SELECT count(*) FROM names"))).scalar_one()
        audited = (await conn.execute(text("SELECT count(*) FROM layerguard_audit"))).scalar_one()
    await sessions_engine.dispose()
    await sink_engine.dispose()
    assert statuses == [200, 200] + [409, 200] * 9
    assert (names, audited, sink.dropped) == (11, 20, 0)


@pytest.mark.parametrize(("begin", "locked"), [("DEFERRED", False), ("IMMEDIATE", True)])
async def test_begin_immediate_takes_the_write_lock_when_the_transaction_starts(
    tmp_path: Path, begin: Any, locked: bool
) -> None:
    path = tmp_path / "app.db"
    engine = create_sqlite_engine(f"sqlite+aiosqlite:///{path}", begin=begin)
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        async with engine.connect() as conn:
            await conn.execute(select(NAMES.c.id))  # a read, no write yet
            try:
                other.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                refused: str | None = str(exc)
            else:
                refused = None
                other.execute("ROLLBACK")
    finally:
        other.close()
        await engine.dispose()
    assert refused == ("database is locked" if locked else None)


def test_an_unknown_begin_mode_is_refused() -> None:
    with pytest.raises(ValueError, match=r"begin must be one of DEFERRED, IMMEDIATE, EXCLUSIVE"):
        create_sqlite_engine("sqlite+aiosqlite://", begin="LAZY")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url", ["postgresql+asyncpg://u@127.0.0.1/db", "mysql+aiomysql://u@127.0.0.1/db"]
)
def test_create_sqlite_engine_refuses_other_databases(url: str) -> None:
    """It used to accept them, then sent a second BEGIN (or BEGIN IMMEDIATE, a syntax error)."""
    backend = url.split("+")[0]
    with pytest.raises(ValueError, match=f"is for SQLite URLs, got a {backend} one"):
        create_sqlite_engine(url)
