"""Transaction ownership through a real FastAPI app over httpx's ASGI transport and a real
SQLite file; every outcome is read back through an independent engine."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException
from runtime_schema import ITEMS, Note
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from layerguard.runtime import (
    InMemoryAuditSink,
    OperationContext,
    OperationRegistry,
    OperationResult,
    TransactionOwnershipError,
    UnitOfWorkError,
    get_operation_registry,
)
from layerguard.runtime.integrations.fastapi import (
    SessionDep,
    registry_lifespan,
    result_to_response,
)
from layerguard.runtime.integrations.sqlalchemy_session import (
    configure_session_factory,
    get_session_dep,
    poison,
)

ReadItems = Callable[[], Awaitable[list[str]]]


async def add_item(session: AsyncSession, name: str, tenant: str | None = None) -> None:
    await session.execute(insert(ITEMS).values(name=name, tenant_id=tenant))


class InsertItem:
    """Inserts ``params['name']``; then raises, fails or succeeds as asked."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        await add_item(ctx.session, ctx.params["name"], ctx.tenant_id)
        if ctx.params.get("then") == "raise":
            raise ValueError("constraint details nobody outside should see")
        if ctx.params.get("then") == "fail":
            return OperationResult.fail("refused by the domain", "VALIDATION_ERROR")
        return OperationResult.ok({"name": ctx.params["name"]})


class CommitsItself:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        await add_item(ctx.session, "committed-by-handler")
        await ctx.session.commit()
        return OperationResult.ok()


class RollsBackItself:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        await add_item(ctx.session, "rolled-back-by-handler")
        await ctx.session.rollback()
        return OperationResult.ok()


class IgnoresTheRefusal:
    """Catches the ownership error and keeps writing: still nothing may be committed."""

    def __init__(self, action: str) -> None:
        self.action = action

    async def execute(self, ctx: OperationContext) -> OperationResult:
        await add_item(ctx.session, f"before-{self.action}")
        with contextlib.suppress(TransactionOwnershipError):
            await getattr(ctx.session, self.action)()
        await add_item(ctx.session, f"after-{self.action}")
        return OperationResult.ok("carried on")


class ClosesTheSession:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        await add_item(ctx.session, "written-before-close")
        await ctx.session.close()
        await add_item(ctx.session, "written-after-close")
        return OperationResult.ok()


class PendingDuplicate:
    """Adds a duplicate without flushing: the error surfaces when the savepoint is released."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        ctx.session.add_all([])  # the session is used as an ORM session would be
        await ctx.session.execute(insert(ITEMS).values(name=ctx.params["name"]))
        return OperationResult.ok()


class SlowInsert:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        await add_item(ctx.session, "slow")
        await asyncio.sleep(60)
        return OperationResult.ok()


class DispatchesInner:
    """Cross-domain work goes through the registry, on the same session."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        await add_item(ctx.session, ctx.params.get("outer") or "outer")
        inner = await get_operation_registry().execute(
            "items.insert",
            OperationContext(ctx.session, ctx.tenant_id, {"name": ctx.params["inner"]}),
        )
        if ctx.params.get("then") == "fail":
            return OperationResult.fail("outer failed", "VALIDATION_ERROR")
        return OperationResult.ok({"inner": inner.success})


def register_all(registry: OperationRegistry) -> None:
    registry.register("items.insert", InsertItem())
    registry.register("items.commit", CommitsItself())
    registry.register("items.rollback", RollsBackItself())
    registry.register("items.commit_and_continue", IgnoresTheRefusal("commit"))
    registry.register("items.rollback_and_continue", IgnoresTheRefusal("rollback"))
    registry.register("items.pending_duplicate", PendingDuplicate())
    registry.register("items.close", ClosesTheSession())
    registry.register("items.slow", SlowInsert(), timeout=0.05)
    registry.register("items.nested", DispatchesInner())


def build_app(sessions: async_sessionmaker[AsyncSession]) -> FastAPI:
    """An API module as users write it: no sqlalchemy import needed for the routes."""
    app = FastAPI(lifespan=registry_lifespan(register_all, session_factory=sessions))

    def dispatch(operation: str, session: Any, **params: Any) -> Awaitable[OperationResult]:
        ctx = OperationContext(session=session, tenant_id="t1", params=params)
        return get_operation_registry().execute(operation, ctx)

    @app.post("/items")
    async def create_item(name: str, session: SessionDep, then: str = "") -> Any:
        return result_to_response(await dispatch("items.insert", session, name=name, then=then))

    @app.post("/ops/{operation}")
    async def run(operation: str, session: SessionDep, name: str = "x", inner: str = "") -> Any:
        return result_to_response(await dispatch(operation, session, name=name, inner=inner))

    @app.post("/pair")
    async def pair(session: SessionDep, first: str, second: str, op: str = "items.insert") -> Any:
        """Two operations; the response reports each outcome instead of raising."""
        a = await dispatch("items.insert", session, name=first)
        b = await dispatch(op, session, name=second, then="raise")
        return {"first": a.error_code or "ok", "second": b.error_code or "ok"}

    @app.post("/then-raise")
    async def then_raise(session: SessionDep) -> Any:
        await dispatch("items.insert", session, name="kept-only-if-the-request-succeeds")
        raise HTTPException(status_code=409, detail="the route changed its mind")

    return app


@pytest.fixture
async def client(
    sessions: async_sessionmaker[AsyncSession], layerguard_registry: OperationRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(sessions)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as client,
    ):
        yield client


def probe_at_response_start(app: ASGIApp, probe: Callable[[], Awaitable[None]]) -> ASGIApp:
    """Run ``probe`` at the instant the response starts leaving the application."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        async def spy(message: Message) -> None:
            if message["type"] == "http.response.start":
                await probe()
            await send(message)

        await app(scope, receive, spy)

    return asgi


async def test_successful_write_is_committed_before_the_response_is_sent(
    sessions: async_sessionmaker[AsyncSession],
    layerguard_registry: OperationRegistry,
    read_items: ReadItems,
) -> None:
    app = build_app(sessions)
    seen_at_response: list[list[str]] = []

    async def probe() -> None:
        seen_at_response.append(await read_items())

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(probe_at_response_start(app, probe)),
            base_url="http://api",
        ) as client,
    ):
        response = await client.post("/items", params={"name": "widget"})
    assert response.status_code == 200
    assert response.json() == {"name": "widget"}
    assert seen_at_response == [["widget"]]


async def test_default_request_scope_would_commit_after_the_response(
    sessions: async_sessionmaker[AsyncSession],
    layerguard_registry: OperationRegistry,
    read_items: ReadItems,
) -> None:
    """The control experiment: why ``SessionDep`` pins ``scope="function"``."""
    layerguard_registry.register("items.insert", InsertItem())
    app = FastAPI()

    @app.post("/items")
    async def create_item(name: str, session: Annotated[Any, Depends(get_session_dep)]) -> Any:
        ctx = OperationContext(session=session, params={"name": name})
        return result_to_response(await layerguard_registry.execute("items.insert", ctx))

    seen_at_response: list[list[str]] = []

    async def probe() -> None:
        seen_at_response.append(await read_items())

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(probe_at_response_start(app, probe)),
        base_url="http://api",
    ) as client:
        response = await client.post("/items", params={"name": "late"})
    assert response.status_code == 200
    assert seen_at_response == [[]]  # not yet committed when the response went out
    assert await read_items() == ["late"]  # committed afterwards


async def test_lifespan_refuses_session_dependency_without_function_scope(
    sessions: async_sessionmaker[AsyncSession], layerguard_registry: OperationRegistry
) -> None:
    app = FastAPI(lifespan=registry_lifespan(session_factory=sessions))

    @app.get("/bad")
    async def bad(session: Annotated[Any, Depends(get_session_dep)]) -> None:
        return None

    with pytest.raises(RuntimeError) as caught:
        async with app.router.lifespan_context(app):
            pass
    assert "GET /bad" in str(caught.value)
    assert "Use `session: SessionDep`" in str(caught.value)


async def test_operation_that_inserts_then_raises_leaves_no_row(
    client: httpx.AsyncClient, read_items: ReadItems, layerguard_audit: InMemoryAuditSink
) -> None:
    response = await client.post("/items", params={"name": "doomed", "then": "raise"})
    assert response.status_code == 500
    assert response.json() == {
        "detail": {
            "error": "operation 'items.insert' failed (ValueError); details are in the server log",
            "error_code": "HANDLER_EXCEPTION:ValueError",
            "operation": "items.insert",
        }
    }
    assert await read_items() == []
    assert [(r.outcome.value, r.error_code) for r in layerguard_audit.records] == [
        ("failed", "HANDLER_EXCEPTION:ValueError")
    ]


async def test_operation_that_inserts_then_returns_fail_leaves_no_row(
    client: httpx.AsyncClient, read_items: ReadItems
) -> None:
    response = await client.post("/items", params={"name": "refused", "then": "fail"})
    assert response.status_code == 422
    assert response.json()["detail"]["error_code"] == "VALIDATION_ERROR"
    assert await read_items() == []


async def test_two_operations_first_ok_second_failing_keep_exactly_the_first_row(
    client: httpx.AsyncClient, read_items: ReadItems
) -> None:
    response = await client.post("/pair", params={"first": "alpha", "second": "beta"})
    assert response.status_code == 200
    assert response.json() == {"first": "ok", "second": "HANDLER_EXCEPTION:ValueError"}
    assert await read_items() == ["alpha"]


async def test_exception_in_the_route_rolls_back_everything(
    client: httpx.AsyncClient, read_items: ReadItems, layerguard_audit: InMemoryAuditSink
) -> None:
    response = await client.post("/then-raise")
    assert response.status_code == 409
    assert await read_items() == []
    assert [r.outcome.value for r in layerguard_audit.records] == ["ok"]


async def test_handler_that_commits_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, read_items: ReadItems, layerguard_audit: InMemoryAuditSink
) -> None:
    response = await client.post("/ops/items.commit")
    assert response.status_code == 500
    detail = response.json()["detail"]
    assert detail["error_code"] == "TRANSACTION_OWNERSHIP"
    assert detail["error"] == (
        "operation 'items.commit' tried to commit the request's transaction; "
        "only the session dependency commits or rolls back"
    )
    assert await read_items() == []
    assert [r.error_code for r in layerguard_audit.records] == ["TRANSACTION_OWNERSHIP"]


@pytest.mark.parametrize("op", ["items.commit", "items.rollback"])
async def test_refused_commit_or_rollback_keeps_earlier_operations_writes(
    client: httpx.AsyncClient, read_items: ReadItems, op: str
) -> None:
    response = await client.post("/pair", params={"first": "earlier", "second": "-", "op": op})
    assert response.json() == {"first": "ok", "second": "TRANSACTION_OWNERSHIP"}
    assert await read_items() == ["earlier"]


@pytest.mark.parametrize("action", ["commit", "rollback"])
async def test_handler_ignoring_the_refusal_still_writes_nothing(
    client: httpx.AsyncClient, read_items: ReadItems, action: str
) -> None:
    response = await client.post(
        "/pair", params={"first": "kept", "second": "-", "op": f"items.{action}_and_continue"}
    )
    assert response.json() == {"first": "ok", "second": "TRANSACTION_OWNERSHIP"}
    assert await read_items() == ["kept"]


async def test_handler_that_closes_the_session_fails_the_whole_request(
    sessions: async_sessionmaker[AsyncSession],
    layerguard_registry: OperationRegistry,
    layerguard_audit: InMemoryAuditSink,
    read_items: ReadItems,
) -> None:
    """Closing discarded the earlier operation's writes: the request cannot succeed."""
    app = build_app(sessions)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app, raise_app_exceptions=False),
            base_url="http://api",
        ) as client,
    ):
        response = await client.post(
            "/pair", params={"first": "earlier", "second": "-", "op": "items.close"}
        )
    assert response.status_code == 500
    assert [r.error_code for r in layerguard_audit.records] == [None, "TRANSACTION_OWNERSHIP"]
    assert await read_items() == []


async def test_interpreter_exit_during_a_dispatch_poisons_the_unit_of_work(
    sessions: async_sessionmaker[AsyncSession],
    layerguard_registry: OperationRegistry,
    read_items: ReadItems,
) -> None:
    class InsertsThenExits:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await add_item(ctx.session, "half-done")
            raise KeyboardInterrupt

    layerguard_registry.register("items.insert", InsertItem())
    layerguard_registry.register("items.exit", InsertsThenExits())
    dependency = get_session_dep()
    session = await anext(dependency)
    ok = await layerguard_registry.execute(
        "items.insert", OperationContext(session, params={"name": "before"})
    )
    assert ok.success
    with pytest.raises(KeyboardInterrupt):
        await layerguard_registry.execute("items.exit", OperationContext(session))
    with pytest.raises(UnitOfWorkError, match="aborted before its savepoint was rolled back"):
        await anext(dependency)  # the dependency refuses to commit, and rolls back
    assert await read_items() == []


async def test_deferred_flush_error_fails_the_operation_and_keeps_the_session_usable(
    client: httpx.AsyncClient, read_items: ReadItems
) -> None:
    response = await client.post(
        "/pair", params={"first": "dup", "second": "dup", "op": "items.pending_duplicate"}
    )
    assert response.json() == {"first": "ok", "second": "HANDLER_EXCEPTION:IntegrityError"}
    assert await read_items() == ["dup"]


async def test_timed_out_operation_leaves_no_row(
    client: httpx.AsyncClient, read_items: ReadItems
) -> None:
    response = await client.post("/ops/items.slow")
    assert response.status_code == 504
    assert response.json()["detail"]["error_code"] == "TIMEOUT"
    assert await read_items() == []


async def test_nested_dispatch_through_the_registry_keeps_both_levels(
    client: httpx.AsyncClient, read_items: ReadItems
) -> None:
    ok = await client.post("/ops/items.nested", params={"inner": "inner-1"})
    assert ok.json() == {"inner": True}
    assert await read_items() == ["outer", "inner-1"]


async def test_nested_dispatch_inner_failure_is_contained_and_outer_failure_covers_inner(
    sessions: async_sessionmaker[AsyncSession],
    layerguard_registry: OperationRegistry,
    read_items: ReadItems,
) -> None:
    register_all(layerguard_registry)
    async with sessions() as session:
        # The inner insert collides with the outer's own row: only the inner one fails.
        contained = await layerguard_registry.execute(
            "items.nested", OperationContext(session, params={"outer": "o1", "inner": "o1"})
        )
        assert (contained.success, contained.data) == (True, {"inner": False})
        # The outer fails after a successful inner dispatch: both are discarded.
        failing = await layerguard_registry.execute(
            "items.nested",
            OperationContext(session, params={"outer": "o2", "inner": "i2", "then": "fail"}),
        )
        assert failing.error_code == "VALIDATION_ERROR"
        await session.commit()
    assert await read_items() == ["o1"]


async def test_cancelled_operation_on_a_session_is_rolled_back(
    sessions: async_sessionmaker[AsyncSession],
    layerguard_registry: OperationRegistry,
    read_items: ReadItems,
) -> None:
    started = asyncio.Event()

    class InsertsThenWaits:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await add_item(ctx.session, "cancelled")
            started.set()
            await asyncio.Event().wait()
            return OperationResult.ok()

    layerguard_registry.register("items.insert", InsertItem())
    layerguard_registry.register("items.wait", InsertsThenWaits())
    async with sessions() as session:
        first = await layerguard_registry.execute(
            "items.insert", OperationContext(session, params={"name": "before"})
        )
        assert first.success
        task = asyncio.create_task(
            layerguard_registry.execute("items.wait", OperationContext(session))
        )
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await session.commit()  # a caller that swallowed the cancellation and went on
    assert await read_items() == ["before"]


async def test_poisoned_unit_of_work_is_not_committed(
    sessions: async_sessionmaker[AsyncSession], read_items: ReadItems
) -> None:
    dependency = get_session_dep()
    session = await anext(dependency)
    await add_item(session, "must-not-commit")
    poison(session, "a savepoint was lost")
    with pytest.raises(UnitOfWorkError, match="a savepoint was lost"):
        await anext(dependency)
    assert await read_items() == []


async def test_session_dependency_needs_a_factory() -> None:
    configure_session_factory(None)
    with pytest.raises(RuntimeError, match="call configure_session_factory"):
        await anext(get_session_dep())


async def test_session_dependency_rolls_back_on_exception(
    sessions: async_sessionmaker[AsyncSession], read_items: ReadItems
) -> None:
    dependency = get_session_dep()
    session = await anext(dependency)
    await add_item(session, "rolled-back")
    with pytest.raises(KeyError):
        await dependency.athrow(KeyError("route failed"))
    assert await read_items() == []


async def test_session_without_adapter_runs_without_a_savepoint(
    layerguard_registry: OperationRegistry,
) -> None:
    class NotASession:
        pass

    layerguard_registry.register("a.op", InsertItemFree())
    result = await layerguard_registry.execute("a.op", OperationContext(session=NotASession()))
    assert result.success


class InsertItemFree:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok(type(ctx.session).__name__)


async def test_savepoint_that_cannot_start_fails_with_transaction_error(
    sessions: async_sessionmaker[AsyncSession],
    layerguard_registry: OperationRegistry,
    read_items: ReadItems,
) -> None:
    """Opening the savepoint flushes what the caller left pending; if that fails, the
    operation does not run."""
    layerguard_registry.register("items.insert", InsertItem())
    async with sessions() as session:
        session.add_all([Note(text="same"), Note(text="same")])
        result = await layerguard_registry.execute(
            "items.insert", OperationContext(session, params={"name": "never"})
        )
    assert result.error_code == "TRANSACTION_ERROR:IntegrityError"
    assert result.error == "operation 'items.insert' could not start its unit of work"
    assert await read_items() == []


class InsertsThenWaits:
    """Writes, then lets other tasks run before it succeeds or fails."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        await add_item(ctx.session, ctx.params["name"])
        await asyncio.sleep(0.05)
        if ctx.params.get("then") == "fail":
            return OperationResult.fail("refused by the domain", "VALIDATION_ERROR")
        return OperationResult.ok()


class GathersInner:
    """Dispatches two inner operations at once on its own session."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        registry = get_operation_registry()
        results = await asyncio.gather(
            *(
                registry.execute("items.wait", OperationContext(ctx.session, params={"name": n}))
                for n in ("inner-1", "inner-2")
            )
        )
        return OperationResult.ok([r.error_code for r in results])


async def test_concurrent_dispatches_on_one_session_are_refused_not_interleaved(
    sessions: async_sessionmaker[AsyncSession],
    layerguard_registry: OperationRegistry,
    read_items: ReadItems,
) -> None:
    """Two dispatches interleaved on one session (asyncio.gather over one context) each took
    the whole transaction for its own: the failing one discarded the other's write, which
    still reported success. The second now fails without running; the first is unaffected."""
    layerguard_registry.register("items.wait", InsertsThenWaits())
    layerguard_registry.register("items.gather", GathersInner())
    refused = "TRANSACTION_ERROR:ConcurrentDispatchError"
    async with sessions() as session:
        ok, failing = await asyncio.gather(
            layerguard_registry.execute(
                "items.wait", OperationContext(session, params={"name": "a"})
            ),
            layerguard_registry.execute(
                "items.wait", OperationContext(session, params={"name": "b", "then": "fail"})
            ),
        )
        assert (ok.error_code, failing.error_code) == (None, refused)
        nested = await layerguard_registry.execute("items.gather", OperationContext(session))
        assert (nested.success, nested.data) == (True, [None, refused])
        after = await layerguard_registry.execute(
            "items.wait", OperationContext(session, params={"name": "after"})
        )
        assert after.success  # one after the other is fine
        await session.commit()
    assert sorted(await read_items()) == ["a", "after", "inner-1"]
