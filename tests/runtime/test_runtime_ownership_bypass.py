"""Every way around ``session.commit()`` is refused too, on SQLite and PostgreSQL.

The route runs ``good`` (inserts ``ok-op``), then ``bad``: it inserts ``bad-before``, tries to
take over the transaction one way or another, swallows the refusal, inserts ``bad-after`` and
reports success. Before the guard covered the connection and raw SQL, ``bad`` committed its
own rows and, with ``ROLLBACK``, erased ``ok-op``. Now: ``TRANSACTION_OWNERSHIP``, nothing of
``bad`` committed, ``ok-op`` kept. Rows are read back through another engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_schema import ITEMS
from sqlalchemy import (
    DDL,
    ReleaseSavepointClause,
    RollbackToSavepointClause,
    SavepointClause,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.ext.compiler import compiles, deregister
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.expression import Executable
from sqlalchemy.sql.selectable import Select

from layerguard.runtime import (
    InMemoryAuditSink,
    OperationContext,
    OperationRegistry,
    OperationResult,
    TransactionOwnershipError,
)
from layerguard.runtime.errors import UnitOfWorkError
from layerguard.runtime.integrations.fastapi import SessionDep, registry_lifespan
from layerguard.runtime.integrations.sqlalchemy_session import get_session_dep, poison_reason
from layerguard.runtime.transaction_control import transaction_control

Bypass = Callable[[AsyncSession], Awaitable[Any]]


async def _connection_commit(session: AsyncSession) -> None:
    await (await session.connection()).commit()


async def _connection_rollback(session: AsyncSession) -> None:
    await (await session.connection()).rollback()


async def _connection_begin(session: AsyncSession) -> None:
    async with (await session.connection()).begin():
        pass


def _text(sql: str) -> Bypass:
    async def run(session: AsyncSession) -> None:
        await session.execute(text(sql))

    return run


def _driver_sql(sql: str) -> Bypass:
    async def run(session: AsyncSession) -> None:
        await (await session.connection()).exec_driver_sql(sql)

    return run


def _execute(make: Callable[[], Any]) -> Bypass:
    async def run(session: AsyncSession) -> None:
        await session.execute(make())

    return run


class _Base(DeclarativeBase):
    pass


class _Item(_Base):
    __table__ = ITEMS


class _Commit(Executable, ClauseElement):
    """An application's own construct whose SQL is a COMMIT."""

    inherit_cache = True


@compiles(_Commit)
def _compile_commit(_element: _Commit, _compiler: Any, **_kw: Any) -> str:
    return "COMMIT"


def _second_session(
    mode: str | None, then: Callable[[AsyncConnection, AsyncSession], Any]
) -> Bypass:
    """A second session bound to the request's connection (it once took the connection's
    guard with it: the connection counted as the second session's, which no dispatch runs on)."""

    async def run(session: AsyncSession) -> None:
        connection = await session.connection()
        second = (
            AsyncSession(bind=connection)
            if mode is None
            else AsyncSession(bind=connection, join_transaction_mode=mode)  # type: ignore[arg-type]
        )
        await second.execute(select(1))
        await then(connection, second)

    return run


async def _connection_commits(connection: AsyncConnection, _second: AsyncSession) -> None:
    await connection.commit()


async def _connection_sends_commit(connection: AsyncConnection, _second: AsyncSession) -> None:
    await connection.exec_driver_sql("COMMIT")


async def _second_commits(_connection: AsyncConnection, second: AsyncSession) -> None:
    await second.commit()


def _in_fresh_context(action: Callable[[AsyncSession], Awaitable[Any]]) -> Bypass:
    """Run ``action`` in a task that does not inherit the dispatch's context variables."""

    async def run(session: AsyncSession) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_task(action(session), context=contextvars.Context())

    return run


async def _session_commit(session: AsyncSession) -> None:
    await session.commit()


def _after_clearing_info(action: Bypass) -> Bypass:
    """``session.info`` is the application's dictionary: clearing it once took the running
    dispatch's guard (and the poison mark) with it, and COMMIT reached the database."""

    async def run(session: AsyncSession) -> None:
        session.info.clear()
        await action(session)

    return run


class _SubSelect(Select[Any]):
    """A select subclass without a compiler of its own: it uses Select's."""

    inherit_cache = True


class _OwnCompilerSelect(Select[Any]):
    """Given a compiler of its own (``deregister()`` leaves Select's original on it)."""

    inherit_cache = True


def _compiles_after_first_use(kind: type[Select[Any]], ran: type[Select[Any]]) -> Bypass:
    """A ``@compiles(kind)`` registered after a ``ran`` statement was executed: the guard
    once decided per class, at its first statement, that SQLAlchemy writes its SQL, and never
    saw the application's compiler that turns it into COMMIT."""

    def late_commit(_element: Any, _compiler: Any, **_kw: Any) -> str:
        return "COMMIT"

    async def run(session: AsyncSession) -> None:
        await session.execute(ran(literal_column("1")))
        compiles(kind)(late_commit)  # until deregister(): nothing else compiles meanwhile
        try:
            await session.execute(ran(literal_column("2")))  # not in the compiled cache
        finally:
            deregister(kind)

    return run


BYPASSES: dict[str, Bypass] = {
    "connection.commit()": _connection_commit,
    "connection.rollback()": _connection_rollback,
    "connection.begin()": _connection_begin,
    **{
        f"execute(text({sql!r}))": _text(sql)
        for sql in (
            "COMMIT",
            "ROLLBACK",
            "BEGIN",
            "START TRANSACTION",
            "END",
            "ABORT",
            "SAVEPOINT mine",
            "RELEASE SAVEPOINT sa_savepoint_1",
            "ROLLBACK TO SAVEPOINT sa_savepoint_1",
            "/* hidden */ commit",
            "SELECT 1; COMMIT",
            # SQLite's block comments do not nest (the first commits there), PostgreSQL's do
            # (the third commits there): each is refused on both.
            "/* /* */ COMMIT",
            "/* */ COMMIT",
            "/* /* */ */ COMMIT",
        )
    },
    **{
        f"exec_driver_sql({sql!r})": _driver_sql(sql)
        for sql in (
            "COMMIT",
            "ROLLBACK",
            "begin",
            "end",
            "RELEASE sa_savepoint_1",
        )
    },
    # Constructs whose SQL text is the application's, not SQLAlchemy's, and savepoint
    # statements executed by hand rather than through begin_nested(): they once passed as
    # "compiled constructs", and COMMIT committed bad-before (ROLLBACK erased ok-op).
    "execute(text('COMMIT').columns())": _execute(lambda: text("COMMIT").columns()),
    "execute(text('ROLLBACK').columns())": _execute(lambda: text("ROLLBACK").columns()),
    "execute(DDL('COMMIT'))": _execute(lambda: DDL("COMMIT")),
    "execute(DDL('ROLLBACK'))": _execute(lambda: DDL("ROLLBACK")),
    "execute(select().from_statement(text('COMMIT')))": _execute(
        lambda: select(_Item).from_statement(text("COMMIT"))
    ),
    "execute(@compiles construct that says COMMIT)": _execute(_Commit),
    "execute(select().suffix_with('; COMMIT'))": _execute(
        lambda: select(literal_column("1")).suffix_with("; COMMIT")
    ),
    "execute(SavepointClause('mine'))": _execute(lambda: SavepointClause("mine")),
    "execute(ReleaseSavepointClause('sa_savepoint_1'))": _execute(
        lambda: ReleaseSavepointClause("sa_savepoint_1")
    ),
    "execute(RollbackToSavepointClause('sa_savepoint_1'))": _execute(
        lambda: RollbackToSavepointClause("sa_savepoint_1")
    ),
    # A second session on the request's connection, and code that runs without the
    # dispatch's context variables, once switched the guard off.
    "second session (control_fully).commit()": _second_session("control_fully", _second_commits),
    "second session, then connection.commit()": _second_session(None, _connection_commits),
    "second session, then exec_driver_sql('COMMIT')": _second_session(
        None, _connection_sends_commit
    ),
    "fresh-context task: connection.commit()": _in_fresh_context(_connection_commit),
    "fresh-context task: connection.rollback()": _in_fresh_context(_connection_rollback),
    "fresh-context task: session.commit()": _in_fresh_context(_session_commit),
    "fresh-context task: execute(text('COMMIT'))": _in_fresh_context(_text("COMMIT")),
    "session.info.clear(), then session.commit()": _after_clearing_info(_session_commit),
    "session.info.clear(), then connection.commit()": _after_clearing_info(_connection_commit),
    "session.info.clear(), then execute(text('COMMIT'))": _after_clearing_info(_text("COMMIT")),
    "fresh-context task: session.info.clear(), then execute(text('COMMIT'))": _in_fresh_context(
        _after_clearing_info(_text("COMMIT"))
    ),
    "@compiles(Select) after a select ran": _compiles_after_first_use(Select, Select),
    "@compiles(Select) after a Select subclass ran": _compiles_after_first_use(Select, _SubSelect),
    "@compiles(subclass) after the subclass ran": _compiles_after_first_use(
        _OwnCompilerSelect, _OwnCompilerSelect
    ),
}


class Good:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        await ctx.session.execute(insert(ITEMS).values(name="ok-op"))
        return OperationResult.ok()


class Bad:
    """Tries the bypass, swallows the refusal, writes again and claims success."""

    def __init__(self, bypass: Bypass) -> None:
        self.bypass = bypass
        self.refusals: list[str] = []

    async def execute(self, ctx: OperationContext) -> OperationResult:
        await ctx.session.execute(insert(ITEMS).values(name="bad-before"))
        try:
            await self.bypass(ctx.session)
        except TransactionOwnershipError as exc:
            self.refusals.append(str(exc))
        await ctx.session.execute(insert(ITEMS).values(name="bad-after"))
        return OperationResult.ok()


@pytest.fixture
def run_route(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[Bypass], Awaitable[tuple[httpx.Response, Bad, InMemoryAuditSink]]]:
    async def run(
        bypass: Bypass, *, alone: bool = False
    ) -> tuple[httpx.Response, Bad, InMemoryAuditSink]:
        audit = InMemoryAuditSink()
        registry = OperationRegistry(audit_sinks=[audit])
        bad = Bad(bypass)

        def register(r: OperationRegistry) -> None:
            r.register("items.good", Good())
            r.register("items.bad", bad)

        app = FastAPI(lifespan=registry_lifespan(register, registry=registry))

        @app.post("/two")
        async def two(session: SessionDep) -> Any:
            if alone:  # the dispatch's unit is the whole transaction (no savepoint)
                outcome = await registry.execute("items.bad", OperationContext(session))
                return {"bad": outcome.error_code or "ok"}
            good = await registry.execute("items.good", OperationContext(session))
            outcome = await registry.execute("items.bad", OperationContext(session))
            return {"good": good.error_code or "ok", "bad": outcome.error_code or "ok"}

        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c,
        ):
            return await c.post("/two"), bad, audit

    return run


@pytest.mark.parametrize("form", list(BYPASSES))
async def test_bypass_is_refused_before_the_database_and_earlier_writes_stay(
    form: str, run_route: Any, read_items: Any
) -> None:
    response, bad, audit = await run_route(BYPASSES[form])
    assert (response.status_code, response.json()) == (
        200,
        {"good": "ok", "bad": "TRANSACTION_OWNERSHIP"},
    )
    assert await read_items() == ["ok-op"]
    assert len(bad.refusals) == 1
    assert [r.error_code for r in audit.records] == [None, "TRANSACTION_OWNERSHIP"]


@pytest.mark.parametrize("form", list(BYPASSES))
async def test_bypass_is_refused_when_the_dispatch_owns_the_whole_transaction(
    form: str, run_route: Any, read_items: Any
) -> None:
    """The first dispatch of a request has no savepoint: its unit is the transaction."""
    response, bad, audit = await run_route(BYPASSES[form], alone=True)
    assert (response.status_code, response.json()) == (200, {"bad": "TRANSACTION_OWNERSHIP"})
    assert await read_items() == []
    assert len(bad.refusals) == 1
    assert [r.error_code for r in audit.records] == ["TRANSACTION_OWNERSHIP"]


async def test_commit_through_the_transaction_object_is_refused_and_fails_the_request(
    sessions: async_sessionmaker[AsyncSession], read_items: Any
) -> None:
    """The last line: refused at the connection's commit event, too late to keep the unit of
    work usable, so the request fails as a whole and nothing at all is committed."""
    registry = OperationRegistry(audit_sinks=[])

    class ViaTransaction:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await ctx.session.execute(insert(ITEMS).values(name="bad-before"))
            connection = await ctx.session.connection()
            await connection.run_sync(lambda sync: sync.get_transaction().commit())
            return OperationResult.ok()

    registry.register("items.good", Good())
    registry.register("items.bad", ViaTransaction())
    async with sessions() as session:
        assert (await registry.execute("items.good", OperationContext(session))).success
        result = await registry.execute("items.bad", OperationContext(session))
        assert result.error_code == "TRANSACTION_OWNERSHIP"
        assert "committed the request's connection" in (poison_reason(session) or "")
    assert await read_items() == []


async def test_clearing_session_info_keeps_the_poison_mark(
    sessions: async_sessionmaker[AsyncSession], read_items: Any
) -> None:
    """The mark lived in ``session.info``: a handler that cleared it after poisoning the unit
    of work let the dependency commit it."""
    registry = OperationRegistry(audit_sinks=[])

    class PoisonsThenClears:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await ctx.session.execute(insert(ITEMS).values(name="bad-before"))
            connection = await ctx.session.connection()
            with contextlib.suppress(TransactionOwnershipError):
                await connection.run_sync(lambda sync: sync.get_transaction().commit())
            ctx.session.info.clear()
            return OperationResult.ok()

    registry.register("items.good", Good())
    registry.register("items.bad", PoisonsThenClears())
    dependency = get_session_dep()  # the request's session, from ``sessions``
    session = await anext(dependency)
    assert (await registry.execute("items.good", OperationContext(session))).success
    result = await registry.execute("items.bad", OperationContext(session))
    assert result.error_code == "TRANSACTION_OWNERSHIP"
    assert session.info == {}
    reason = "a handler committed the request's connection during a dispatch"
    assert poison_reason(session) == reason
    with pytest.raises(UnitOfWorkError, match=f"unit of work not committed: {reason}"):
        await anext(dependency)
    assert await read_items() == []


async def test_clearing_session_info_does_not_hand_the_transaction_to_the_next_dispatch(
    sessions: async_sessionmaker[AsyncSession], read_items: Any
) -> None:
    """Whether the transaction had sent SQL was read from ``session.info``: after a handler
    cleared it, the next dispatch took the whole transaction as its unit, and its failure
    rolled back the earlier operations' writes."""
    registry = OperationRegistry(audit_sinks=[])

    class ClearsInfo:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await ctx.session.execute(insert(ITEMS).values(name="clearer"))
            ctx.session.info.clear()
            return OperationResult.ok()

    class Fails:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await ctx.session.execute(insert(ITEMS).values(name="failed"))
            return OperationResult.fail("no", "VALIDATION_ERROR")

    registry.register("items.good", Good())
    registry.register("items.clear", ClearsInfo())
    registry.register("items.fail", Fails())
    async with sessions() as session:
        for operation, code in (
            ("items.good", None),
            ("items.clear", None),
            ("items.fail", "VALIDATION_ERROR"),
        ):
            result = await registry.execute(operation, OperationContext(session))
            assert result.error_code == code
        await session.commit()
    assert sorted(await read_items()) == ["clearer", "ok-op"]


async def test_the_handlers_own_savepoints_and_plain_sql_still_work(
    sessions: async_sessionmaker[AsyncSession], read_items: Any
) -> None:
    registry = OperationRegistry(audit_sinks=[])

    class OwnSavepoint:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            async with ctx.session.begin_nested():
                await ctx.session.execute(text("INSERT INTO items (name) VALUES ('kept')"))
            try:
                async with ctx.session.begin_nested():
                    await ctx.session.execute(insert(ITEMS).values(name="undone"))
                    raise LookupError
            except LookupError:
                pass
            await ctx.session.execute(text("SELECT 'COMMIT; ROLLBACK' -- not a commit"))
            # Non-ASCII names once failed the guard itself (HANDLER_EXCEPTION:AssertionError).
            assert (await ctx.session.execute(text("SELECT 1 AS é"))).keys() == ["é"]
            await ctx.session.execute(text("INSERT INTO items (name) VALUES ('café')"))
            await ctx.session.execute(text('SELECT name AS "ünï" FROM items'))
            return OperationResult.ok()

    registry.register("items.own", OwnSavepoint())
    async with sessions() as session:
        assert (await registry.execute("items.own", OperationContext(session))).success
        await session.commit()
    assert sorted(await read_items()) == ["café", "kept"]


async def test_outside_a_dispatch_the_connection_is_not_guarded(
    sessions: async_sessionmaker[AsyncSession], read_items: Any
) -> None:
    """The guard is about handlers: the owner of the session may do as it likes."""
    async with sessions() as session:
        await session.execute(insert(ITEMS).values(name="owner"))
        await (await session.connection()).commit()
    assert await read_items() == ["owner"]


async def _driver_commit(session: AsyncSession) -> None:
    connection = await (await session.connection()).get_raw_connection()
    driver = connection.driver_connection
    if hasattr(driver, "is_in_transaction"):  # asyncpg
        await driver.execute("COMMIT")
    else:  # aiosqlite
        await driver.commit()


async def _driver_rollback(session: AsyncSession) -> None:
    connection = await (await session.connection()).get_raw_connection()
    driver = connection.driver_connection
    if hasattr(driver, "is_in_transaction"):
        await driver.execute("ROLLBACK")
    else:
        await driver.rollback()


def _dbapi(verb: str) -> Bypass:
    """The DBAPI connection's own commit()/rollback() (SQLAlchemy's asyncpg adapter forgets
    its transaction and begins another at the next statement: this went unnoticed on
    PostgreSQL)."""

    async def run(session: AsyncSession) -> None:
        connection = await session.connection()
        await connection.run_sync(lambda sync: getattr(sync.connection.dbapi_connection, verb)())

    return run


@pytest.mark.parametrize(
    ("bypass", "left"),
    [
        (_driver_commit, ["bad-after", "bad-before", "ok-op"]),
        (_driver_rollback, ["bad-after"]),
        # SQLite runs what follows in autocommit; asyncpg's adapter begins a new transaction,
        # which the failed request rolls back.
        (
            _dbapi("commit"),
            {"sqlite": ["bad-after", "bad-before", "ok-op"], "postgresql": ["bad-before", "ok-op"]},
        ),
        (_dbapi("rollback"), {"sqlite": ["bad-after"], "postgresql": []}),
    ],
    ids=["driver COMMIT", "driver ROLLBACK", "dbapi commit()", "dbapi rollback()"],
)
async def test_ending_the_transaction_through_the_driver_fails_the_request(
    bypass: Bypass,
    left: list[str] | dict[str, list[str]],
    run_route: Any,
    read_items: Any,
    db_url: str,
) -> None:
    """Past SQLAlchemy, on the driver itself, nothing can refuse the COMMIT; but the driver
    tells that the transaction ended, so the operation is TRANSACTION_OWNERSHIP and the
    request fails as a whole instead of reporting success (what the driver already committed
    or discarded cannot be undone: the handler left SQLAlchemy's control)."""
    response, _bad, audit = await run_route(bypass)
    assert response.status_code == 500
    assert response.json()["detail"]["error_code"] == "UNIT_OF_WORK_POISONED"
    assert [r.error_code for r in audit.records] == [None, "TRANSACTION_OWNERSHIP"]
    if isinstance(left, dict):
        left = left["sqlite" if db_url.startswith("sqlite") else "postgresql"]
    assert sorted(await read_items()) == left


async def test_a_dispatch_that_only_takes_the_connection_or_reads_is_no_violation(
    sessions: async_sessionmaker[AsyncSession], read_items: Any, db_url: str
) -> None:
    """The driver check must not mistake "no BEGIN sent yet" (asyncpg sends it with the first
    statement; sqlite3's own transaction control only before a write) for a transaction a
    handler ended."""
    from sqlalchemy.ext.asyncio import create_async_engine

    class TakesTheConnection:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await ctx.session.connection()
            return OperationResult.ok()

    class Writes:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await ctx.session.execute(insert(ITEMS).values(name=ctx.params["name"]))
            return OperationResult.ok()

    class Reads:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await ctx.session.execute(text("SELECT count(*) FROM items"))
            return OperationResult.ok()

    registry = OperationRegistry(audit_sinks=[])
    registry.register("items.connection", TakesTheConnection())
    registry.register("items.read", Reads())
    registry.register("items.write", Writes())
    plain = create_async_engine(db_url)  # no savepoint recipe: the driver's own BEGIN rules
    try:
        for name, factory in (("recipe", sessions), ("plain", async_sessionmaker(plain))):
            async with factory() as session:
                for operation in ("items.connection", "items.read", "items.write"):
                    context = OperationContext(session, params={"name": name})
                    result = await registry.execute(operation, context)
                    assert result.error_code is None, operation
                assert poison_reason(session) is None
                await session.commit()
    finally:
        await plain.dispose()
    assert sorted(await read_items()) == ["plain", "recipe"]


@pytest.mark.parametrize(
    ("sql", "command"),
    [
        # Non-ASCII text is a name or a literal, never an error.
        ("SELECT 1 AS é", None),
        ("café", None),
        ("É COMMIT", None),
        ("SELECT 1 AS ß; commit", "COMMIT"),
        ('SELECT 1 AS "é; COMMIT"', None),
        ("SELECT 'naïve; ROLLBACK'", None),
        # Block comments: a command visible under PostgreSQL's (nested) or SQLite's (flat)
        # reading is flagged.
        ("/* /* */ COMMIT", "COMMIT"),
        ("/* */ COMMIT", "COMMIT"),
        ("/* /* */ */ COMMIT", "COMMIT"),
        ("/* /* */ */ SELECT 1", None),
        ("/* COMMIT */ SELECT 1", None),
        # Dollar quoting (PostgreSQL), including tags with non-ASCII letters.
        ("DO $$ BEGIN NULL; END $$", None),
        ("SELECT $é$; COMMIT; $é$", None),
        ("SELECT $é$ x $é$; COMMIT", "COMMIT"),
        ("SELECT 1 AS a$x$; COMMIT; SELECT 1 AS b$x$", "COMMIT"),  # a$x$ is a name
        # E'' strings take backslash escapes (PostgreSQL); a name ending in e is no prefix.
        ("SELECT E'it''s; COMMIT'", None),
        ("SELECT E'\\'; COMMIT; --'", None),
        ("SELECT E'it\\'s; COMMIT'", None),
        ("SELECT '\\'; COMMIT; --'", "COMMIT"),
        ("SELECT e'x'; end", "END"),
        ("SELECT ee'\\'; COMMIT; --'", "COMMIT"),  # ee is a name, not an E prefix
        # Unterminated comments and literals swallow the rest; nothing raises.
        ("/*", None),
        ("SELECT 1; /* COMMIT", None),
        ("SELECT 'COMMIT", None),
        ('SELECT "COMMIT', None),
        ("SELECT E'\\", None),
        ("SELECT $a$ COMMIT", None),
        ("SELECT [COMMIT", None),
        ("-- COMMIT", None),
        ("", None),
        ("ROLLBACK TO SAVEPOINT x", "ROLLBACK TO"),
        ("start transaction", "START TRANSACTION"),
        ("START", None),
    ],
)
def test_transaction_control_exact_cases(sql: str, command: str | None) -> None:
    assert transaction_control(sql) == command


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_transaction_control_is_total(sql: str) -> None:
    """Any string gives a command or None: a query must never fail because of the guard."""
    assert transaction_control(sql) in {None, *COMMANDS}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"/*;'\"$eE-\n xé", "/*", "*/", "$$", "$é$", "--"])).map("".join))
def test_transaction_control_is_total_on_sql_punctuation(sql: str) -> None:
    """Comment, quote and dollar characters in every order (where a scanner gets stuck)."""
    assert transaction_control(sql) in {None, *COMMANDS}
    assert transaction_control(sql + "; COMMIT") in {None, *COMMANDS}


COMMANDS = {
    "ABORT",
    "BEGIN",
    "COMMIT",
    "END",
    "PREPARE TRANSACTION",
    "RELEASE",
    "ROLLBACK",
    "ROLLBACK TO",
    "SAVEPOINT",
    "START TRANSACTION",
}
