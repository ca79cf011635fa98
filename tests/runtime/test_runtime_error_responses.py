"""Every failure is a JSON error response with a code, also when the database misbehaves.

Before: a commit-time failure reached the client as Starlette's plain-text ``500 Internal
Server Error``, and an unreachable database as ``HANDLER_EXCEPTION:ConnectionRefusedError``,
i.e. as a bug in the handler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import app_engine, is_sqlite
from fastapi import FastAPI
from runtime_schema import ITEMS
from sqlalchemy import event, insert, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from layerguard.runtime import OperationContext, OperationRegistry, OperationResult, errors
from layerguard.runtime.integrations.fastapi import (
    SessionDep,
    registry_lifespan,
    result_to_response,
)
from layerguard.runtime.integrations.sqlalchemy_session import configure_session_factory
from layerguard.runtime.testing.postgres import PostgresCluster, free_port


class InsertItem:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        await ctx.session.execute(insert(ITEMS).values(name=ctx.params["name"]))
        return OperationResult.ok(ctx.params["name"])


def build_app(sessions: async_sessionmaker[AsyncSession]) -> FastAPI:
    registry = OperationRegistry(audit_sinks=[])
    app = FastAPI(
        lifespan=registry_lifespan(
            lambda r: r.register("items.insert", InsertItem()),
            registry=registry,
            session_factory=sessions,
        )
    )

    @app.post("/items")
    async def create(name: str, session: SessionDep) -> Any:
        ctx = OperationContext(session, params={"name": name})
        return result_to_response(await registry.execute("items.insert", ctx))

    @app.post("/broken-route")
    async def broken(session: SessionDep) -> Any:
        raise KeyError("a bug in the route itself")

    return app


@pytest.fixture
def client_for() -> Callable[[async_sessionmaker[AsyncSession]], Any]:
    def make(sessions: async_sessionmaker[AsyncSession]) -> Any:
        return _Client(build_app(sessions))

    return make


class _Client:
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __aenter__(self) -> httpx.AsyncClient:
        self._lifespan = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        transport = httpx.ASGITransport(self.app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://t")
        return self._client

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()
        await self._lifespan.__aexit__(None, None, None)
        configure_session_factory(None)


def assert_json_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    detail: dict[str, Any] = response.json()["detail"]
    assert detail["error_code"] == code
    return detail


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
async def test_unreachable_database_is_503_database_unavailable(
    client_for: Any, tmp_path: Path, database: str
) -> None:
    """A server nobody listens on; SQLite's counterpart, a file that cannot be opened
    (SQLITE_CANTOPEN: its directory is gone), was HANDLER_EXCEPTION:OperationalError."""
    if database == "postgresql":
        url = f"postgresql+asyncpg://u@127.0.0.1:{free_port()}/db"
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'no-such-directory' / 'app.db'}"
    engine = app_engine(url)
    try:
        async with client_for(async_sessionmaker(engine)) as client:
            response = await client.post("/items", params={"name": "x"})
    finally:
        await engine.dispose()
    detail = assert_json_error(response, 503, "DATABASE_UNAVAILABLE")
    assert detail == {
        "error": "operation 'items.insert' could not reach the database; try again later",
        "error_code": "DATABASE_UNAVAILABLE",
        "operation": "items.insert",
    }


async def test_commit_refused_by_the_database_is_commit_failed_and_nothing_is_kept(
    engine: AsyncEngine, db_url: str, client_for: Any, read_items: Any
) -> None:
    """A deferred constraint fails at COMMIT itself (the last moment a request can fail)."""
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE parents (id INTEGER PRIMARY KEY)"))
        await conn.execute(
            text(
                "CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES "
                "parents(id) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    if is_sqlite(db_url):  # SQLite checks foreign keys only when asked, per connection

        @event.listens_for(engine.sync_engine, "connect")
        def foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA foreign_keys = ON")

        await engine.dispose()

    class InsertOrphan(InsertItem):
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await ctx.session.execute(text("INSERT INTO children (id, parent) VALUES (1, 42)"))
            return await super().execute(ctx)

    sessions = async_sessionmaker(engine)
    app = build_app(sessions)
    async with _Client(app) as client:
        registry: OperationRegistry = app.state.operation_registry
        with registry.override("items.insert", InsertOrphan()):
            response = await client.post("/items", params={"name": "orphaned"})
    detail = assert_json_error(response, 500, "COMMIT_FAILED")
    assert detail["error"] == (
        "the database refused to commit the request's writes (IntegrityError); "
        "nothing was committed"
    )
    assert await read_items() == []


async def test_commit_failed_after_an_earlier_commit_does_not_claim_nothing_was_committed(
    sessions: async_sessionmaker[AsyncSession], read_items: Any
) -> None:
    """The route's own code committed the connection (outside any dispatch, which is its
    right); the session's transaction is over, so the dependency's COMMIT fails and the later
    write is lost. "Nothing was committed" was false: the earlier COMMIT's rows are there."""
    app = build_app(sessions)

    @app.post("/commits-early")
    async def commits_early(session: SessionDep) -> Any:
        await session.execute(insert(ITEMS).values(name="early"))
        await (await session.connection()).commit()
        await session.execute(insert(ITEMS).values(name="late"))
        return {}

    async with _Client(app) as client:
        response = await client.post("/commits-early")
    detail = assert_json_error(response, 500, "COMMIT_FAILED")
    assert detail["error"] == (
        "the database refused to commit the request's writes (InvalidRequestError); nothing "
        "since the earlier COMMIT of this request was committed (what that one committed stays)"
    )
    assert await read_items() == ["early"]


async def test_route_bug_is_json_internal_error(
    sessions: async_sessionmaker[AsyncSession], client_for: Any
) -> None:
    async with client_for(sessions) as client:
        response = await client.post("/broken-route")
    assert_json_error(response, 500, "INTERNAL_ERROR")


@pytest.fixture
async def pg_engine(layerguard_postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = app_engine(layerguard_postgres_url)
    async with engine.begin() as conn:
        await conn.run_sync(ITEMS.metadata.create_all)
    yield engine
    await engine.dispose()


async def count_items(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM items"))).scalar_one())


async def test_connection_lost_during_commit_is_commit_outcome_unknown(
    pg_engine: AsyncEngine, layerguard_postgres: PostgresCluster, client_for: Any
) -> None:
    """The backend is terminated at the instant COMMIT is about to be sent."""

    @event.listens_for(pg_engine.sync_engine, "commit")
    def terminate_backend(connection: Connection) -> None:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        layerguard_postgres.sql(f"SELECT pg_terminate_backend({pid})")

    async with client_for(async_sessionmaker(pg_engine)) as client:
        response = await client.post("/items", params={"name": "in-doubt"})
    event.remove(pg_engine.sync_engine, "commit", terminate_backend)
    assert_json_error(response, 500, "COMMIT_OUTCOME_UNKNOWN")
    assert await count_items(pg_engine) == 0  # here it was lost; the client could not know


async def test_backend_terminated_before_the_handler_runs_is_database_unavailable(
    pg_engine: AsyncEngine, layerguard_postgres: PostgresCluster, client_for: Any
) -> None:
    killed: list[int] = []

    @event.listens_for(pg_engine.sync_engine, "begin")
    def terminate_once(connection: Connection) -> None:
        if not killed:
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            layerguard_postgres.sql(f"SELECT pg_terminate_backend({pid})")
            killed.append(pid)

    async with client_for(async_sessionmaker(pg_engine)) as client:
        lost = await client.post("/items", params={"name": "lost"})
        again = await client.post("/items", params={"name": "after"})
    assert_json_error(lost, 503, "DATABASE_UNAVAILABLE")
    assert (again.status_code, again.json()) == (200, "after")  # the pool recovered
    assert await count_items(pg_engine) == 1


async def impatient_sqlite(path: Any) -> AsyncEngine:
    """The app's SQLite engine with the items table, waiting 0.1 s for a lock held elsewhere."""
    engine = app_engine(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 0.1})
    async with engine.begin() as conn:
        await conn.run_sync(ITEMS.metadata.create_all)
    return engine


async def test_a_lock_held_elsewhere_beyond_the_wait_is_database_unavailable(
    tmp_path: Any, client_for: Any
) -> None:
    """SQLite's "database is locked" (another connection kept the write lock longer than the
    busy timeout) is contention, not a bug in the handler: 503 DATABASE_UNAVAILABLE, and the
    request after the lock is released succeeds."""
    import sqlite3

    path = tmp_path / "locked.db"
    engine = await impatient_sqlite(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        async with client_for(async_sessionmaker(engine)) as client:
            locked = await client.post("/items", params={"name": "waits"})
            holder.execute("ROLLBACK")
            after = await client.post("/items", params={"name": "after"})
        assert_json_error(locked, 503, "DATABASE_UNAVAILABLE")
        assert after.status_code == 200, after.text
        async with engine.connect() as conn:
            names = (await conn.execute(text("SELECT name FROM items"))).scalars().all()
        assert names == ["after"]
    finally:
        holder.close()
        await engine.dispose()


async def test_a_commit_refused_for_a_lock_is_not_an_unknown_outcome(
    tmp_path: Any, client_for: Any
) -> None:
    """SQLite refuses a COMMIT that cannot get its lock (a reader holds one, beyond the busy
    timeout): nothing was committed, and the client is told so, not "outcome unknown"."""
    import sqlite3

    path = tmp_path / "read-locked.db"
    engine = await impatient_sqlite(path)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM items").fetchall()  # a shared lock, kept
    try:
        async with client_for(async_sessionmaker(engine)) as client:
            refused = await client.post("/items", params={"name": "waits"})
        detail = assert_json_error(refused, 503, "DATABASE_UNAVAILABLE")
        assert "nothing was committed" in detail["error"]
    finally:
        reader.close()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM items"))).scalar_one() == 0
    await engine.dispose()


def test_database_unavailable_classification() -> None:
    class DriverError(Exception):
        sqlstate = "57P01"

    class WrappedError(Exception):
        def __init__(self, orig: BaseException) -> None:
            self.orig = orig

    assert errors.database_unavailable(ConnectionRefusedError())
    assert errors.database_unavailable(WrappedError(DriverError()))
    assert not errors.database_unavailable(ValueError())
    busy = Exception("database is locked")
    busy.sqlite_errorcode = 5  # type: ignore[attr-defined]  # sqlite3's attribute
    assert errors.database_unavailable(busy)
    assert errors.lock_wait_exceeded(busy)
    lock_timeout = Exception("canceling statement due to lock timeout")
    lock_timeout.sqlstate = "55P03"  # type: ignore[attr-defined]  # asyncpg's attribute
    assert errors.database_unavailable(WrappedError(lock_timeout))
    assert errors.lock_wait_exceeded(WrappedError(lock_timeout))
    assert not errors.lock_wait_exceeded(ConnectionRefusedError())
    constraint = Exception("UNIQUE constraint failed")
    constraint.sqlite_errorcode = 2067  # type: ignore[attr-defined]  # SQLITE_CONSTRAINT_UNIQUE
    assert not errors.database_unavailable(constraint)
    assert not errors.database_unavailable(TimeoutError())  # a handler's own timeout
    refused = RuntimeError("wrapped")
    refused.__cause__ = ConnectionResetError()
    assert errors.database_unavailable(refused)
