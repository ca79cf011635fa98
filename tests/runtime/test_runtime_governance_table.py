"""The table-backed kill switch, shared by workers that each have their own engine."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import app_engine
from sqlalchemy import event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from layerguard.runtime import (
    InMemoryAuditSink,
    OperationContext,
    OperationRegistry,
    OperationResult,
)
from layerguard.runtime.governance.table import GovernanceConfigurationError, TableAuthority


class Ok:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok("ran")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Worker:
    """One worker process: its own engine, provider, registry and audit sink."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Any,
        ttl: float = 5.0,
        listen: bool = False,
        authority_timeout: float = 1.0,
    ) -> None:
        self.engine = engine
        # listen=False: these tests are about the ttl, the fallback of LISTEN/NOTIFY.
        self.authority = TableAuthority(engine, ttl=ttl, clock=clock, listen=listen)
        self.audit = InMemoryAuditSink()
        self.registry = OperationRegistry(
            authority=self.authority,
            audit_sinks=[self.audit],
            authority_timeout=authority_timeout,
        )
        self.registry.register("a.op", Ok())
        self.registry.freeze()

    async def dispatch(self) -> str:
        result = await self.registry.execute("a.op", OperationContext(tenant_id="t1"))
        assert result.data == "ran"
        return self.audit.records[-1].governance


@pytest.fixture
async def two_engines(db_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    first, second = create_async_engine(db_url), create_async_engine(db_url)
    yield first, second
    await first.dispose()
    await second.dispose()


async def test_kill_switch_flipped_by_one_worker_is_seen_by_another_within_ttl(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    clock = FakeClock()
    one, two = Worker(two_engines[0], clock), Worker(two_engines[1], clock)
    await one.authority.create_table()
    assert await one.dispatch() == "active"
    assert await two.dispatch() == "active"  # worker two caches "active" until t=5

    await one.authority.disable("incident 42", actor="alice")
    assert await one.dispatch() == "disabled"  # the writer sees its own flip at once
    clock.now = 4.9
    assert await two.dispatch() == "active"  # still inside worker two's TTL
    clock.now = 5.0
    assert await two.dispatch() == "disabled"  # TTL elapsed: re-read from the table

    record = two.audit.records[-1]
    assert (record.unguarded, record.governance_reason) == (True, "incident 42")
    status = two.registry.status()["governance"]
    assert (status["mode"], status["actor"], status["guarded"]) == ("disabled", "alice", False)
    assert status["changed_at"].endswith("+00:00")

    await two.authority.enable(actor="bob")
    clock.now = 10.0
    assert await one.dispatch() == "active"
    assert [r.unguarded for r in one.audit.records] == [False, True, False]


async def test_manual_update_of_the_row_is_picked_up(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    clock = FakeClock()
    worker = Worker(two_engines[0], clock, ttl=1)
    await worker.authority.create_table()
    async with two_engines[1].begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO layerguard_governance (scope, mode, reason, actor) "
                "VALUES ('default', 'degraded', 'replica lag', 'dba')"
            )
        )
    assert await worker.dispatch() == "degraded"
    assert worker.audit.records[-1].degraded is True


async def test_concurrent_dispatches_share_one_refresh_query(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    clock = FakeClock()
    worker = Worker(two_engines[0], clock)
    await worker.authority.create_table()
    await worker.authority.disable("drill")
    statements: list[str] = []

    @event.listens_for(worker.engine.sync_engine, "before_cursor_execute")
    def count(*args: Any) -> None:
        statements.append(args[2])

    clock.now = 100.0  # cache expired
    results = await asyncio.gather(
        *(worker.registry.execute("a.op", OperationContext()) for _ in range(50))
    )
    assert all(r.success for r in results)
    assert len([s for s in statements if "layerguard_governance" in s]) == 1
    assert {r.governance for r in worker.audit.records} == {"disabled"}


async def test_unreadable_table_means_fail_safe_state_logged_once(
    two_engines: tuple[AsyncEngine, AsyncEngine], db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    missing_table = "OperationalError" if db_url.startswith("sqlite") else "ProgrammingError"
    worker = Worker(two_engines[0], FakeClock())  # the table was never created
    with caplog.at_level(logging.ERROR, logger="layerguard.runtime.governance"):
        for _ in range(20):
            assert await worker.dispatch() == "degraded"
    assert worker.audit.records[0].governance_reason == (
        f"authority provider unavailable ({missing_table})"
    )
    assert len(caplog.records) == 1


async def test_unknown_mode_in_the_row_is_a_provider_error(
    two_engines: tuple[AsyncEngine, AsyncEngine], caplog: pytest.LogCaptureFixture
) -> None:
    worker = Worker(two_engines[0], FakeClock())
    await worker.authority.create_table()
    async with two_engines[0].begin() as conn:
        await conn.execute(
            text("INSERT INTO layerguard_governance (scope, mode) VALUES ('default', 'off')")
        )
    with caplog.at_level(logging.ERROR, logger="layerguard.runtime.governance"):
        assert await worker.dispatch() == "degraded"
    assert "has mode 'off'; expected one of active, disabled, degraded" in caplog.text


def test_ttl_must_be_positive(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="ttl must be a positive number of seconds"):
        TableAuthority(engine, ttl=0)


async def test_concurrent_flips_from_many_workers_all_succeed(db_url: str) -> None:
    """Each flip is one upsert: with UPDATE-then-INSERT, two writers racing on a missing row
    both inserted, and one failed with a duplicate key (1 in 20 flips)."""
    engines = [app_engine(db_url) for _ in range(20)]
    try:
        await TableAuthority(engines[0]).create_table()
        switches = [TableAuthority(engine) for engine in engines]
        states = await asyncio.gather(
            *(
                switch.disable(f"flip {i}") if i % 2 else switch.enable(f"flip {i}")
                for i, switch in enumerate(switches)
            ),
            return_exceptions=True,
        )
        assert [type(s).__name__ for s in states] == ["GovernanceState"] * 20
        async with engines[0].connect() as conn:
            rows = (await conn.execute(text("SELECT scope FROM layerguard_governance"))).all()
        assert rows == [("default",)]
    finally:
        for engine in engines:
            await engine.dispose()


async def test_on_postgresql_a_flip_reaches_the_other_worker_without_waiting_for_the_ttl(
    layerguard_postgres_url: str, layerguard_postgres: Any
) -> None:
    """LISTEN/NOTIFY: with a ttl of an hour, the other worker still sees the flip at once,
    also after its listening connection was terminated (it reconnects)."""
    engines = [app_engine(layerguard_postgres_url) for _ in range(2)]
    one, two = (Worker(e, time.monotonic, ttl=3600, listen=True) for e in engines)
    try:
        await one.authority.create_table()
        await one.authority.check_configuration()
        await two.authority.check_configuration()
        await wait_for(lambda: two.authority.listening)
        assert await two.dispatch() == "active"

        await one.authority.disable("incident 7", actor="alice")
        await wait_for(
            lambda: (
                two.authority.snapshot() is not None
                and two.authority.snapshot().mode.value == "disabled"
            )
        )  # type: ignore[union-attr]
        assert await two.dispatch() == "disabled"
        assert two.registry.status()["governance"]["reason"] == "incident 7"

        # The listening connection dies (a terminated backend, a restart): it comes back.
        layerguard_postgres.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
        )
        await wait_for(lambda: not two.authority.listening)
        await wait_for(lambda: two.authority.listening)
        await one.authority.enable(actor="bob")
        await wait_for(
            lambda: (
                two.authority.snapshot() is not None
                and two.authority.snapshot().mode.value == "active"
            )
        )  # type: ignore[union-attr]
        assert await two.dispatch() == "active"
        assert two.authority.notifications >= 2
    finally:
        for worker in (one, two):
            await worker.authority.aclose()
        for engine in engines:
            await engine.dispose()


async def wait_for(condition: Any, limit: float = 20.0) -> None:
    """Poll until ``condition()``; the limit only keeps a broken build from hanging."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        await asyncio.sleep(0.01)


async def test_missing_kill_switch_table_is_refused_at_start_up(engine: AsyncEngine) -> None:
    authority = TableAuthority(engine, listen=False)
    with pytest.raises(
        GovernanceConfigurationError,
        match="kill-switch table 'layerguard_governance' cannot be read",
    ):
        await authority.check_configuration()


SLOW_READER = "layerguard_slow_reader"


async def test_a_flip_notified_while_a_refresh_reads_the_row_is_not_lost_for_the_ttl(
    layerguard_postgres_url: str,
) -> None:
    """The flip's NOTIFY arrives while the worker's SELECT (started before the flip) is in
    flight: the notification must cause a read that starts after it. Before, refresh() shared
    the in-flight read, which then cached the old state for the whole ttl (an hour here).

    The worker reads as a role whose row-level-security policy sleeps, so its SELECT is slow.
    """
    owner = app_engine(layerguard_postgres_url)
    worker_url = make_url(layerguard_postgres_url).set(username=SLOW_READER)
    worker_engine = app_engine(worker_url.render_as_string(hide_password=False))
    clock = FakeClock()
    admin = TableAuthority(owner, listen=False)
    worker = Worker(worker_engine, clock, ttl=3600, listen=True, authority_timeout=30)
    try:
        await admin.create_table()
        await admin.enable(actor="setup")  # a row: the policy is evaluated for it
        async with owner.begin() as conn:
            await conn.execute(
                text(
                    f"DO $$ BEGIN CREATE ROLE {SLOW_READER} LOGIN; "
                    "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
                )
            )
            await conn.execute(text(f"GRANT SELECT ON layerguard_governance TO {SLOW_READER}"))
            await conn.execute(text("ALTER TABLE layerguard_governance ENABLE ROW LEVEL SECURITY"))
            await conn.execute(
                text(
                    f"CREATE POLICY slow ON layerguard_governance FOR SELECT TO {SLOW_READER} "
                    "USING ((SELECT true FROM pg_sleep(1)))"
                )
            )
        await worker.authority.check_configuration()
        await wait_for(lambda: worker.authority.listening)
        assert await worker.dispatch() == "active"

        clock.now += 3600  # the ttl ran out: the next dispatch reads the row again
        reading = asyncio.create_task(worker.dispatch())
        await wait_for_sql(
            owner,
            "SELECT count(*) FROM pg_stat_activity WHERE usename = :role AND state = 'active' "
            "AND query LIKE 'SELECT%layerguard_governance%'",
        )
        await admin.disable("incident 9", actor="ops")  # lands while that SELECT runs
        assert await asyncio.wait_for(reading, 20) == "active"  # it started before the flip

        await wait_for(
            lambda: (
                worker.authority.snapshot() is not None
                and worker.authority.snapshot().mode.value == "disabled"  # type: ignore[union-attr]
            )
        )
        assert await worker.dispatch() == "disabled"
        assert worker.authority.notifications == 1
    finally:
        await worker.authority.aclose()
        await worker_engine.dispose()
        await owner.dispose()


async def wait_for_sql(engine: AsyncEngine, query: str, limit: float = 20.0) -> None:
    """Poll until ``query`` (a count, with ``:role`` bound to the slow reader) is not 0."""
    deadline = time.monotonic() + limit
    while True:
        async with engine.connect() as conn:
            if (await conn.execute(text(query), {"role": SLOW_READER})).scalar():
                return
        assert time.monotonic() < deadline, "the query never ran"
        await asyncio.sleep(0.01)


def test_engine_and_scope_are_checked(engine: AsyncEngine) -> None:
    """A synchronous engine (or a URL) failed at the first dispatch, as a provider error."""
    with pytest.raises(TypeError) as caught:
        TableAuthority(engine.sync_engine)  # type: ignore[arg-type]
    assert str(caught.value) == (
        "engine must be an AsyncEngine (sqlalchemy.ext.asyncio.create_async_engine), got Engine"
    )
    with pytest.raises(TypeError, match=r"^scope must be a non-empty str, got ''$"):
        TableAuthority(engine, scope="")
