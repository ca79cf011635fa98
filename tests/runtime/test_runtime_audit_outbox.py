"""The audit trail loses nothing: what the table cannot take goes to the durable outbox and is
replayed exactly once; misconfiguration is refused at start-up; dropped sessions and
operations that never touch the database are audited too. On SQLite and PostgreSQL.

The table is made unwritable by renaming it away (what a revoked INSERT or a dropped table
looks like to the sink) and writable again by renaming it back.
"""

from __future__ import annotations

import asyncio
import fcntl
import gc
import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import app_engine
from fastapi import FastAPI
from runtime_schema import ITEMS, audit_row
from sqlalchemy import event, insert, select, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from layerguard.runtime import OperationContext, OperationRegistry, OperationResult
from layerguard.runtime.audit.outbox import AuditOutbox
from layerguard.runtime.audit.table import AuditConfigurationError, TableAuditSink
from layerguard.runtime.integrations.fastapi import (
    SessionDep,
    registry_lifespan,
    result_to_response,
)
from layerguard.runtime.integrations.sqlalchemy_session import configure_session_factory


class InsertItem:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        await ctx.session.execute(insert(ITEMS).values(name=ctx.params["name"]))
        if ctx.params.get("fail"):
            return OperationResult.fail("refused", "CONFLICT")
        return OperationResult.ok(ctx.params["name"])


class Compute:
    """Never touches the database."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok(ctx.params.get("n", 0) * 2)


@pytest.fixture
async def sink_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """The sink's own engine on the request sessions' database."""
    engine = app_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sink(sink_engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[TableAuditSink]:
    sink = TableAuditSink(sink_engine, outbox=tmp_path / "outbox", replay_interval=0.05)
    await sink.create_table()
    yield sink
    await sink.aclose()


@pytest.fixture
def registry(sink: TableAuditSink) -> OperationRegistry:
    registry = OperationRegistry(audit_sinks=[sink])
    registry.register("items.insert", InsertItem())
    registry.register("pure.compute", Compute())
    return registry


@pytest.fixture
async def client(
    sessions: async_sessionmaker[AsyncSession], registry: OperationRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI(lifespan=registry_lifespan(registry=registry, session_factory=sessions))

    @app.post("/items")
    async def create(name: str, session: SessionDep, fail: bool = False) -> Any:
        ctx = OperationContext(session, "t1", {"name": name, "fail": fail})
        return result_to_response(await registry.execute("items.insert", ctx))

    @app.post("/compute")
    async def compute(n: int, session: SessionDep) -> Any:
        ctx = OperationContext(session, "t1", {"n": n})
        return result_to_response(await registry.execute("pure.compute", ctx))

    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        yield client


async def rename(engine: AsyncEngine, old: str, new: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def audit_rows(engine: AsyncEngine, sink: TableAuditSink) -> list[tuple[Any, ...]]:
    table = sink.table
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(table.c.operation, table.c.outcome, table.c.work_committed).order_by(
                table.c.recorded_at, table.c.id
            )
        )
        return [tuple(row) for row in rows]


async def test_records_the_table_cannot_take_are_spooled_then_replayed_exactly_once(
    client: httpx.AsyncClient,
    sink: TableAuditSink,
    reader: AsyncEngine,
    read_items: Any,
) -> None:
    assert (await client.post("/items", params={"name": "before"})).status_code == 200
    await rename(reader, "layerguard_audit", "audit_away")

    # The first write request meets the broken table at its commit: it fails, with a code,
    # and its work is not kept; its audit row is spooled, flagged uncommitted.
    first = await client.post("/items", params={"name": "lost-with-its-commit"})
    assert (first.status_code, first.json()["detail"]["error_code"]) == (500, "COMMIT_FAILED")
    # The next ones keep the table out of their transaction: they succeed.
    statuses = [
        (await client.post("/items", params={"name": f"n{i}"})).status_code for i in range(5)
    ]
    failed = await client.post("/items", params={"name": "refused", "fail": "true"})
    computed = await client.post("/compute", params={"n": 21})
    assert statuses == [200] * 5
    assert (failed.status_code, computed.json()) == (409, 42)
    await sink.drain()
    assert sink.status()["table_failing"] is True
    assert sink.outbox.pending_bytes() > 0
    assert sink.dropped == 0

    await rename(reader, "audit_away", "layerguard_audit")
    await sink.drain()
    assert sink.outbox.pending_bytes() == 0
    assert await read_items() == ["before", "n0", "n1", "n2", "n3", "n4"]
    assert await audit_rows(reader, sink) == [
        ("items.insert", "ok", True),
        ("items.insert", "ok", False),
        *[("items.insert", "ok", True)] * 5,
        ("items.insert", "failed", False),
        ("pure.compute", "ok", None),
    ]
    status = sink.status()
    assert (status["outbox_spooled"], status["outbox_replayed"], status["outbox_rejected"]) == (
        8,
        8,
        0,
    )


async def test_a_replay_interrupted_before_the_outbox_was_truncated_duplicates_nothing(
    sink_engine: AsyncEngine, sink: TableAuditSink, tmp_path: Path, reader: AsyncEngine
) -> None:
    """A worker died after its replay committed and before it truncated its file; the next
    process adopts the orphaned file and replays it: every record once."""
    dead = AuditOutbox(tmp_path / "outbox")
    rows = [audit_row(f"op.n{i}") for i in range(3)]
    assert dead.append(rows)
    async with sink_engine.begin() as conn:  # the part of the replay that did happen
        await conn.execute(insert(sink.table), rows[:2])
    dead.close()  # the process is gone: its lock with it

    survivor = TableAuditSink(sink_engine, outbox=tmp_path / "outbox")
    await survivor.check_configuration()  # start-up adopts the orphan
    await survivor.drain()
    await survivor.aclose()
    assert sorted(r[0] for r in await audit_rows(reader, sink)) == ["op.n0", "op.n1", "op.n2"]
    # start-up claimed the free file for itself (checking the outbox can be written) and
    # replayed it as its own: emptied, not removed
    assert [p.stat().st_size for p in (tmp_path / "outbox").glob("*.jsonl")] == [0]


async def test_the_outbox_is_bounded_and_says_when_it_is_full(
    sink_engine: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink = TableAuditSink(
        sink_engine, outbox=tmp_path / "small", outbox_max_bytes=2000, retries=0
    )  # its table was never created: everything goes to the outbox
    registry = OperationRegistry(audit_sinks=[sink])
    registry.register("pure.compute", Compute())
    with caplog.at_level(logging.ERROR, logger="layerguard.runtime.audit"):
        for _ in range(20):
            await registry.execute("pure.compute", OperationContext())
            await sink.drain()
    status = sink.status()
    assert status["outbox_full"] is True
    assert status["outbox_spooled"] + status["outbox_rejected"] == 20
    assert 0 < status["outbox_spooled"] < 20
    assert status["outbox_pending_bytes"] <= 2000
    assert registry.status()["audit"]["sink_status"]["TableAuditSink"] == status
    refusals = [r for r in caplog.records if "audit records lost" in r.getMessage()]
    assert len(refusals) == 1  # logged once per interval
    await sink.aclose()


def test_a_full_outbox_still_takes_what_fits_and_counts_its_real_size(tmp_path: Path) -> None:
    """Refusing a batch that does not fit says the outbox is full; it must not make the
    outbox refuse smaller rows that do fit, nor report more bytes than the file holds."""
    outbox = AuditOutbox(tmp_path / "outbox", max_bytes=1000)
    assert outbox.append([audit_row("op.first")])
    size = outbox.pending_bytes()
    assert outbox.append([audit_row(f"op.n{i}") for i in range(20)]) is False
    assert (outbox.full, outbox.pending_bytes(), outbox.rejected) == (True, size, 20)
    assert outbox.append([audit_row("op.second")])
    assert outbox.full is False
    assert outbox.pending_bytes() == sum(
        p.stat().st_size for p in (tmp_path / "outbox").glob("*.jsonl")
    )
    assert [row["operation"] for batch in outbox.take() for row in batch.rows] == [
        "op.first",
        "op.second",
    ]
    outbox.close()


async def test_a_session_dropped_without_close_still_gets_its_audit_row(
    sessions: async_sessionmaker[AsyncSession],
    registry: OperationRegistry,
    sink: TableAuditSink,
    reader: AsyncEngine,
    read_items: Any,
) -> None:
    session = sessions()
    result = await registry.execute(
        "items.insert", OperationContext(session, params={"name": "never-committed"})
    )
    assert result.success
    connection = await session.connection()
    await connection.invalidate()  # what the pool does to a connection nobody returned
    del session, connection
    gc.collect()
    await sink.drain()
    assert await audit_rows(reader, sink) == [("items.insert", "ok", False)]
    assert await read_items() == []


async def test_operations_that_do_not_touch_the_database_cost_no_round_trip_of_their_own(
    sessions: async_sessionmaker[AsyncSession],
    registry: OperationRegistry,
    sink: TableAuditSink,
    engine: AsyncEngine,
    sink_engine: AsyncEngine,
    reader: AsyncEngine,
) -> None:
    request_statements: list[str] = []
    sink_statements: list[str] = []
    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *a: request_statements.append(a[2])
    )
    event.listen(
        sink_engine.sync_engine, "before_cursor_execute", lambda *a: sink_statements.append(a[2])
    )
    for n in range(100):
        async with sessions() as session:
            assert (
                await registry.execute("pure.compute", OperationContext(session, params={"n": n}))
            ).success
            await session.commit()
    await sink.drain()
    assert request_statements == []  # nothing in the requests' transactions
    inserts = [s for s in sink_statements if s.startswith("INSERT INTO layerguard_audit")]
    assert len(inserts) <= 2  # batched: one round trip for many records
    assert len(await audit_rows(reader, sink)) == 100


async def test_missing_table_is_refused_at_start_up(
    sessions: async_sessionmaker[AsyncSession], sink_engine: AsyncEngine, tmp_path: Path
) -> None:
    sink = TableAuditSink(sink_engine, outbox=tmp_path / "o")  # no create_table()
    app = FastAPI(
        lifespan=registry_lifespan(
            registry=OperationRegistry(audit_sinks=[sink]), session_factory=sessions
        )
    )
    with pytest.raises(AuditConfigurationError) as caught:
        async with app.router.lifespan_context(app):
            pass
    assert str(caught.value).startswith(
        "audit table 'layerguard_audit' is missing or cannot be written ("
    )
    assert "create it (await sink.create_table(), or audit_table(metadata)" in str(caught.value)
    # The refused start-up closed the sink: the outbox file it claimed is free for others.
    locks = sorted((tmp_path / "o").glob("*.lock"))
    assert locks
    for lock in locks:
        with open(lock, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError if held


async def test_a_sink_on_another_database_is_refused_at_start_up(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    elsewhere = app_engine(f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}")
    sink = TableAuditSink(elsewhere, outbox=tmp_path / "o")
    await sink.create_table()
    app = FastAPI(
        lifespan=registry_lifespan(
            registry=OperationRegistry(audit_sinks=[sink]), session_factory=sessions
        )
    )
    try:
        with pytest.raises(AuditConfigurationError, match="but the request sessions use"):
            async with app.router.lifespan_context(app):
                pass
    finally:
        await elsewhere.dispose()
        configure_session_factory(None)


async def test_a_non_atomic_sink_on_another_database_writes_only_there(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, reader: AsyncEngine, db_url: str
) -> None:
    """It used to write successful records into the request's database."""
    elsewhere = app_engine(f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}")
    sink = TableAuditSink(elsewhere, outbox=tmp_path / "o", atomic=False)
    await sink.create_table()
    registry = OperationRegistry(audit_sinks=[sink])
    registry.register("items.insert", InsertItem())
    await sink.check_configuration(sessions)
    async with sessions() as session:
        await registry.execute("items.insert", OperationContext(session, params={"name": "a"}))
        await registry.execute(
            "items.insert", OperationContext(session, params={"name": "b", "fail": True})
        )
        await session.commit()
    await sink.drain()
    assert await audit_rows(elsewhere, sink) == [
        ("items.insert", "ok", True),
        ("items.insert", "failed", False),
    ]
    async with reader.connect() as conn:
        tables = await conn.run_sync(
            lambda c: __import__("sqlalchemy").inspect(c).get_table_names()
        )
    assert "layerguard_audit" not in tables
    await sink.aclose()
    await elsewhere.dispose()


async def test_an_unreachable_database_at_start_up_is_not_a_configuration_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from layerguard.runtime.testing.postgres import free_port

    engine = app_engine(f"postgresql+asyncpg://u@127.0.0.1:{free_port()}/db")
    sink = TableAuditSink(engine, outbox=tmp_path / "o")
    with caplog.at_level(logging.WARNING, logger="layerguard.runtime.audit"):
        await sink.check_configuration()
    assert "the database is unreachable at start-up (" in caplog.text
    await sink.aclose()
    await engine.dispose()


@pytest.mark.parametrize(
    ("where", "errno"),
    [
        ("a-file", "[Errno 17] File exists"),
        ("a-file/outbox", "[Errno 20] Not a directory"),
        ("/proc/version/x", "[Errno 20] Not a directory"),
    ],
)
async def test_an_outbox_that_cannot_be_written_is_refused_at_start_up(
    sessions: async_sessionmaker[AsyncSession],
    sink_engine: AsyncEngine,
    tmp_path: Path,
    where: str,
    errno: str,
) -> None:
    """It used to pass: the app started, and lost the records when the database failed."""
    (tmp_path / "a-file").write_text("not a directory\n")
    directory = Path(where) if where.startswith("/") else tmp_path / where
    sink = TableAuditSink(sink_engine, outbox=directory)
    await sink.create_table()
    app = FastAPI(
        lifespan=registry_lifespan(
            registry=OperationRegistry(audit_sinks=[sink]), session_factory=sessions
        )
    )
    started = False
    with pytest.raises(AuditConfigurationError) as caught:
        async with app.router.lifespan_context(app):
            started = True
    assert started is False
    assert str(caught.value).startswith(
        f"audit outbox {str(directory)!r} cannot be written ({errno}"
    )
    assert "Point outbox= (or $LAYERGUARD_AUDIT_OUTBOX) at a writable directory" in str(
        caught.value
    )
    assert isinstance(caught.value.__cause__, OSError)
    sink.outbox.close()


_SPOOL_AND_EXIT = """
import sys, uuid
from datetime import UTC, datetime
from layerguard.runtime.audit.outbox import AuditOutbox

outbox = AuditOutbox(sys.argv[1])
rows = [
    {"record_id": uuid.uuid4().hex, "recorded_at": datetime.now(UTC),
     "operation": f"sibling.n{i}", "tenant_id": None, "outcome": "ok", "error_code": None,
     "duration_ms": 1.0, "governance": "active", "unguarded": False, "degraded": False,
     "governance_reason": None, "correlation_id": None, "work_committed": None}
    for i in range(int(sys.argv[2]))
]
assert outbox.append(rows)
print(outbox.path)
"""


def spool_in_another_process(directory: Path, rows: int) -> Path:
    """A sibling worker spools ``rows`` into ``directory`` and exits (its lock goes with it);
    the path of the file it leaves."""
    done = subprocess.run(
        [sys.executable, "-c", _SPOOL_AND_EXIT, str(directory), str(rows)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return Path(done.stdout.strip())


def test_a_running_outbox_notices_a_file_a_sibling_left_after_its_first_look(
    tmp_path: Path,
) -> None:
    """It looked once and remembered the answer: a sibling's rows waited for a restart."""
    outbox = AuditOutbox(tmp_path / "shared", rescan_interval=0)
    assert outbox.append([audit_row("op.mine")])
    mine = outbox.pending_bytes()
    outbox.take()[0].done()
    assert (outbox.has_pending(), outbox.pending_bytes()) == (False, 0)

    left = spool_in_another_process(tmp_path / "shared", 5)
    assert (outbox.has_pending(), outbox.pending_bytes()) == (True, left.stat().st_size)
    sink = TableAuditSink(create_async_engine("sqlite+aiosqlite://"), outbox=outbox)
    assert sink.status()["outbox_pending_bytes"] == left.stat().st_size
    assert mine > 0
    (batch,) = outbox.take()
    assert [row["operation"] for row in batch.rows] == [f"sibling.n{i}" for i in range(5)]
    assert outbox.pending_bytes() == left.stat().st_size  # adopted, not replayed yet
    batch.release()  # the table refused it: still waiting, for anyone
    assert outbox.pending_bytes() == left.stat().st_size
    (batch,) = outbox.take()
    batch.done()
    assert (outbox.has_pending(), outbox.pending_bytes(), left.exists()) == (False, 0, False)
    outbox.close()


def test_between_two_looks_has_pending_answers_from_memory(tmp_path: Path) -> None:
    """``has_pending()`` lists the directory at most once per ``rescan_interval``."""
    outbox = AuditOutbox(tmp_path / "shared", rescan_interval=3600)
    assert outbox.has_pending() is False
    spool_in_another_process(tmp_path / "shared", 1)
    assert outbox.has_pending() is False
    assert outbox.rescan() > 0
    assert outbox.has_pending() is True
    outbox.close()


async def test_a_running_sink_replays_what_an_exited_sibling_left_while_the_table_is_healthy(
    sink_engine: AsyncEngine, tmp_path: Path, reader: AsyncEngine
) -> None:
    """Process B is alive throughout; process A spools rows into the shared outbox and
    exits. B replays them, once, within a few replay intervals, not at its next start."""
    shared = tmp_path / "shared"
    sink = TableAuditSink(sink_engine, outbox=shared, replay_interval=0.05)
    await sink.create_table()
    await sink.check_configuration()
    registry = OperationRegistry(audit_sinks=[sink])
    registry.register("pure.compute", Compute())
    assert (await registry.execute("pure.compute", OperationContext())).success
    await sink.drain()
    assert sink.status()["outbox_pending_bytes"] == 0

    left = spool_in_another_process(shared, 5)
    # Serving goes on; neither a restart nor drain() picks the file up: the sink's own watch.
    deadline = time.monotonic() + 30  # a bound for slow machines, not a speed assertion
    while sink.replayed < 5 and time.monotonic() < deadline:
        assert (await registry.execute("pure.compute", OperationContext())).success
        await asyncio.sleep(0.05)
    assert sink.replayed == 5
    await sink.drain()
    operations = [row[0] for row in await audit_rows(reader, sink)]
    assert sorted(op for op in operations if op.startswith("sibling.")) == [
        f"sibling.n{i}" for i in range(5)
    ]
    assert sink.status()["outbox_replayed"] == 5
    assert sink.status()["outbox_pending_bytes"] == 0
    assert left.exists() is False
    await sink.aclose()
