"""A timeout leaves the request's unit of work usable: earlier operations keep their writes.

Before: 25 concurrent requests whose second operation ran into ``timeout=0.2`` in the middle of
a PostgreSQL query; 2–4 of them per run ended in ``PendingRollbackError`` at the dependency's
commit and lost the first operation's row.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from conftest import is_sqlite
from fastapi import FastAPI
from runtime_schema import ITEMS
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from layerguard.runtime import OperationContext, OperationRegistry, OperationResult
from layerguard.runtime.integrations.fastapi import SessionDep, registry_lifespan

REQUESTS = 25


class Insert:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        await ctx.session.execute(insert(ITEMS).values(name=ctx.params["name"]))
        return OperationResult.ok()


class InsertThenWait:
    """Inserts, then waits in the database (PostgreSQL) or in Python (SQLite)."""

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite

    async def execute(self, ctx: OperationContext) -> OperationResult:
        await ctx.session.execute(insert(ITEMS).values(name=ctx.params["name"]))
        seconds = ctx.params["seconds"]
        if self.sqlite:
            await asyncio.sleep(seconds)
        else:
            await ctx.session.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
        return OperationResult.ok()


async def test_concurrent_timeouts_keep_the_earlier_operations_writes(
    sessions: async_sessionmaker[AsyncSession], db_url: str, read_items: Any
) -> None:
    registry = OperationRegistry(audit_sinks=[])
    # On PostgreSQL the fast second operations get a second, also on a loaded machine; on
    # SQLite requests take turns holding the write lock, so each may hold it only briefly.
    timeout = 0.2 if is_sqlite(db_url) else 1.0

    def register(r: OperationRegistry) -> None:
        r.register("items.insert", Insert())
        r.register("items.slow", InsertThenWait(is_sqlite(db_url)), timeout=timeout)

    app = FastAPI(lifespan=registry_lifespan(register, registry=registry))

    @app.post("/pair/{i}")
    async def pair(i: int, session: SessionDep) -> Any:
        first = await registry.execute(
            "items.insert", OperationContext(session, params={"name": f"first-{i}"})
        )
        # every other request's second operation outlives its timeout, mid-query
        seconds = 5 * timeout if i % 2 else 0.0
        second = await registry.execute(
            "items.slow",
            OperationContext(session, params={"name": f"second-{i}", "seconds": seconds}),
        )
        return {"first": first.error_code, "second": second.error_code}

    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as client,
    ):
        responses = await asyncio.gather(*(client.post(f"/pair/{i}") for i in range(REQUESTS)))
    assert [r.status_code for r in responses] == [200] * REQUESTS
    assert [r.json() for r in responses] == [
        {"first": None, "second": "TIMEOUT" if i % 2 else None} for i in range(REQUESTS)
    ]
    expected = {f"first-{i}" for i in range(REQUESTS)} | {
        f"second-{i}" for i in range(0, REQUESTS, 2)
    }
    assert sorted(await read_items()) == sorted(expected)
