"""Per-dispatch cost of the operation registry over a direct handler call.

Run: ``.venv/bin/python benchmarks/runtime_overhead.py [--dispatches N] [--repeats R]``

Three loops run the same trivial handler, each building a fresh context per dispatch (as an
API route does), so the difference between them is what the registry adds:

1. direct ``await handler.execute(ctx)``;
2. ``await registry.execute(name, ctx)`` with the default sinks and audit logging below INFO
   (no record is built: this is the production hot path the 2 µs target applies to);
3. the same with the audit logger at INFO writing to a ``NullHandler`` (record built, dict
   made, ``LogRecord`` created and handled).

Costs are measured as this thread's CPU time (``time.thread_time_ns``): on a small shared
machine, wall-clock time mostly measures what the other processes do. Wall-clock numbers are
printed too. The loops are interleaved and repeated, and each loop's best repeat is kept.
On PostgreSQL (a throwaway server started from the installed binaries, with the server's
default durability; skipped with the reason when there are none), FastAPI requests are sent
in-process (httpx's ASGI transport), sequentially, and timed on the wall clock (the
database's work is the point). "Direct" routes call the handler with a session from a plain
dependency that commits after the route; "registry" routes take ``SessionDep`` and dispatch
through the registry, whose only sink is the table audit sink:

4. a DB-writing operation (one INSERT), whose audit row goes into the request's transaction;
5. an operation that does not touch the database, whose audit rows are written in batches
   through the sink's engine (the drain is inside the timing).

Rounds interleave the loops; each loop's median round is kept. Targets: the registry with the
table audit at most 1.2x direct on the writing operation, 2x on the other; PASS/FAIL printed.
This is a benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import platform
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from layerguard.runtime import OperationContext, OperationRegistry, OperationResult
from layerguard.runtime.audit import AUDIT_LOGGER
from layerguard.runtime.audit.table import TableAuditSink
from layerguard.runtime.integrations.fastapi import (
    SessionDep,
    registry_lifespan,
    result_to_response,
)
from layerguard.runtime.integrations.sqlalchemy_session import configure_session_factory

TARGET_NS = 2_000
WRITE_TARGET = 1.2
NO_DB_TARGET = 2.0


class EchoHandler:
    """The cheapest realistic handler: read a parameter, return it."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok(ctx.params)


async def _time_loop(
    step: Callable[[dict[str, int]], Awaitable[object]], n: int
) -> tuple[float, float]:
    """(CPU ns, wall ns) per call of ``step``."""
    params = {"n": 1}
    gc.collect()
    gc.disable()
    try:
        cpu, wall = time.thread_time_ns(), time.perf_counter_ns()
        for _ in range(n):
            await step(params)
        return (time.thread_time_ns() - cpu) / n, (time.perf_counter_ns() - wall) / n
    finally:
        gc.enable()


async def main(n: int, repeats: int) -> None:
    handler = EchoHandler()
    registry = OperationRegistry()  # default sinks: one LoggingAuditSink
    registry.register("bench.echo", handler)
    registry.freeze()
    audit_logger = logging.getLogger(AUDIT_LOGGER)
    audit_logger.propagate = False
    audit_logger.addHandler(logging.NullHandler())

    async def direct(params: dict[str, int]) -> object:
        return await handler.execute(OperationContext(None, "t1", params))

    async def dispatched(params: dict[str, int]) -> object:
        return await registry.execute("bench.echo", OperationContext(None, "t1", params))

    loops = {"direct": direct, "below_info": dispatched, "at_info": dispatched}
    levels = {"direct": logging.WARNING, "below_info": logging.WARNING, "at_info": logging.INFO}
    best = dict.fromkeys(loops, (float("inf"), float("inf")))
    for name, step in loops.items():  # warm-up: caches, specialisation
        audit_logger.setLevel(levels[name])
        await _time_loop(step, min(n, 10_000))
    # Interleave the loops and keep each one's best repeat, so a burst of load from another
    # process penalises one repeat rather than one loop.
    for _ in range(repeats):
        for name, step in loops.items():
            audit_logger.setLevel(levels[name])
            cpu, wall = await _time_loop(step, n)
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
    audit_logger.setLevel(logging.WARNING)
    direct_ns, below_info_ns, at_info_ns = (best[k][0] for k in loops)

    print(f"python {platform.python_version()} on {platform.machine()}, {n} dispatches x {repeats}")
    header = "loop (CPU time per dispatch)"
    print(f"{header:<44}{'ns':>8}{'ratio':>8}{'overhead ns':>13}{'wall ns':>9}")
    rows = [
        ("direct await handler.execute(ctx)", "direct"),
        ("registry.execute, audit logging < INFO", "below_info"),
        ("registry.execute, audit INFO -> NullHandler", "at_info"),
    ]
    for label, key in rows:
        cpu, wall = best[key]
        print(f"{label:<44}{cpu:>8.0f}{cpu / direct_ns:>8.2f}{cpu - direct_ns:>13.0f}{wall:>9.0f}")
    overhead = below_info_ns - direct_ns
    verdict = "within" if overhead <= TARGET_NS else "OVER"
    print(f"overhead below INFO: {overhead:.0f} ns ({verdict} the {TARGET_NS} ns target)")
    print(f"overhead at INFO to a NullHandler: {at_info_ns - direct_ns:.0f} ns")


# ---------------------------------------------------------------------- PostgreSQL rows

_plain_sessions: async_sessionmaker[AsyncSession] | None = None


async def plain_session() -> AsyncIterator[AsyncSession]:
    """The direct baseline's unit of work: a session, committed after the route."""
    assert _plain_sessions is not None
    async with _plain_sessions() as session:
        yield session
        await session.commit()


PlainSession = Annotated[AsyncSession, Depends(plain_session, scope="function")]


async def postgres_rows(requests: int, rounds: int) -> bool | None:
    """The table-audit overhead on PostgreSQL; None when no server can be started."""
    from layerguard.runtime.testing.postgres import PostgresCluster, PostgresUnavailableError

    try:
        cluster = PostgresCluster.start_new(durable=True)
    except PostgresUnavailableError as exc:
        print(f"PostgreSQL rows skipped: {exc}")
        return None
    try:
        url = cluster.create_database("bench")
        return await _postgres_loops(url, requests, rounds)
    finally:
        cluster.stop()


async def _postgres_loops(url: str, requests: int, rounds: int) -> bool:
    metadata = MetaData()
    items = Table(
        "items", metadata, Column("id", Integer, primary_key=True), Column("name", String(100))
    )

    class WriteHandler:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await ctx.session.execute(insert(items).values(name=ctx.params["name"]))
            return OperationResult.ok({"name": ctx.params["name"]})

    class NoDbHandler:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            return OperationResult.ok({"name": ctx.params["name"]})

    engine = create_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    handlers: dict[str, Any] = {"write": WriteHandler(), "no_db": NoDbHandler()}
    outbox = tempfile.TemporaryDirectory()
    sink = TableAuditSink(engine, outbox=outbox.name)
    registry = OperationRegistry(audit_sinks=[sink])

    global _plain_sessions
    _plain_sessions = sessions

    def register(target: OperationRegistry) -> None:
        for name, handler in handlers.items():
            target.register(f"bench.{name}", handler)

    app = FastAPI(lifespan=registry_lifespan(register, registry=registry, session_factory=sessions))

    @app.post("/direct/{op}")
    async def direct(op: str, name: str, session: PlainSession) -> Any:
        result = await handlers[op].execute(OperationContext(session, "t1", {"name": name}))
        return result.data

    @app.post("/registry/{op}")
    async def dispatched(op: str, name: str, session: SessionDep) -> Any:
        ctx = OperationContext(session, "t1", {"name": name})
        return result_to_response(await registry.execute(f"bench.{op}", ctx))

    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await sink.create_table()
    counter = iter(range(10**9))
    loops = [f"{way}/{op}" for op in handlers for way in ("direct", "registry")]
    times: dict[str, list[float]] = {loop: [] for loop in loops}
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):

        async def run(loop: str, n: int) -> float:
            started = time.perf_counter()
            for _ in range(n):
                response = await client.post(f"/{loop}", params={"name": f"n{next(counter)}"})
                assert response.status_code == 200, response.text
            await sink.drain()  # the audit rows written in the background count too
            return (time.perf_counter() - started) / n * 1e6

        for loop in loops:  # warm-up: pool, statement caches
            await run(loop, min(requests, 50))
        for _ in range(rounds):
            for loop in loops:
                times[loop].append(await run(loop, requests))
    configure_session_factory(None)
    await engine.dispose()
    outbox.cleanup()

    median = {loop: statistics.median(values) for loop, values in times.items()}
    print(
        f"PostgreSQL, table audit sink, FastAPI requests in-process: {requests} requests x "
        f"{rounds} rounds, median round (wall clock per request)"
    )
    print(f"{'operation':<40}{'direct us':>10}{'registry us':>13}{'ratio':>8}{'target':>8}")
    verdicts = []
    for label, op, target in (
        ("DB-writing (INSERT; audit row in its tx)", "write", WRITE_TARGET),
        ("no database (audit rows batched)", "no_db", NO_DB_TARGET),
    ):
        direct_us, registry_us = median[f"direct/{op}"], median[f"registry/{op}"]
        ratio = registry_us / direct_us
        verdict = "PASS" if ratio <= target else "FAIL"
        verdicts.append(verdict == "PASS")
        print(
            f"{label:<40}{direct_us:>10.0f}{registry_us:>13.0f}{ratio:>7.2f}x{target:>7.1f}x"
            f"  {verdict}"
        )
    return all(verdicts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dispatches", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--requests", type=int, default=300, help="per PostgreSQL round")
    parser.add_argument("--rounds", type=int, default=7, help="PostgreSQL rounds")
    args = parser.parse_args()
    asyncio.run(main(args.dispatches, args.repeats))
    print()
    passed = asyncio.run(postgres_rows(args.requests, args.rounds))
    raise SystemExit(1 if passed is False else 0)
