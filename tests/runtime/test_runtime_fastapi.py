"""FastAPI ergonomics: error mapping, lifespan, health route, correlation ids, lazy exports."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException

import layerguard.runtime
from layerguard.runtime import (
    InMemoryAuditSink,
    OperationContext,
    OperationRegistry,
    OperationResult,
    get_operation_registry,
)
from layerguard.runtime.integrations.fastapi import (
    DEFAULT_ERROR_STATUSES,
    CorrelationIdMiddleware,
    ErrorStatusMap,
    add_status_route,
    configure_error_statuses,
    registry_lifespan,
    result_to_response,
)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("UNKNOWN_OPERATION", 501),
        ("HANDLER_EXCEPTION:ValueError", 500),
        ("TIMEOUT", 504),
        ("TRANSACTION_OWNERSHIP", 500),
        ("TRANSACTION_ERROR:IntegrityError", 503),
        ("INVALID_RESULT", 500),
        ("NOT_FOUND", 404),
        ("VALIDATION_ERROR", 422),
        ("CONFLICT", 409),
        ("FORBIDDEN", 403),
        ("UNAUTHORIZED", 401),
        ("SOMETHING_ELSE", 500),
        (None, 500),
    ],
)
def test_default_error_statuses(code: str | None, status: int) -> None:
    assert ErrorStatusMap().status_for(code) == status


def test_exact_code_beats_prefix_and_defaults_can_be_replaced() -> None:
    statuses = ErrorStatusMap({"HANDLER_EXCEPTION:PermissionError": 403, "NOT_FOUND": 410})
    assert statuses.status_for("HANDLER_EXCEPTION:PermissionError") == 403
    assert statuses.status_for("HANDLER_EXCEPTION:KeyError") == 500
    assert statuses.status_for("NOT_FOUND") == 410
    bare = ErrorStatusMap({"QUOTA": 429}, default=400, include_defaults=False)
    assert (bare.status_for("QUOTA"), bare.status_for("NOT_FOUND")) == (429, 400)
    assert statuses.with_overrides({"CONFLICT": 423}).status_for("CONFLICT") == 423
    assert DEFAULT_ERROR_STATUSES["UNKNOWN_OPERATION"] == 501


def test_result_to_response() -> None:
    assert result_to_response(OperationResult.ok({"a": 1})) == {"a": 1}
    failed = OperationResult.fail("missing", "NOT_FOUND")
    failed.operation = "policies.get"
    with pytest.raises(HTTPException) as caught:
        result_to_response(failed)
    assert caught.value.status_code == 404
    assert caught.value.detail == {
        "error": "missing",
        "error_code": "NOT_FOUND",
        "operation": "policies.get",
    }
    with pytest.raises(HTTPException) as caught:
        result_to_response(failed, ErrorStatusMap({"NOT_FOUND": 400}))
    assert caught.value.status_code == 400


def test_configured_error_statuses_are_the_default_for_result_to_response() -> None:
    configure_error_statuses(ErrorStatusMap({"NOT_FOUND": 418}))
    try:
        with pytest.raises(HTTPException) as caught:
            result_to_response(OperationResult.fail("x", "NOT_FOUND"))
        assert caught.value.status_code == 418
    finally:
        configure_error_statuses(ErrorStatusMap())


class Greets:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok({"hello": ctx.params["who"]})


def register_greeting(registry: OperationRegistry) -> None:
    registry.register("greet.say", Greets())


async def test_lifespan_registers_freezes_and_serves_status(
    layerguard_registry: OperationRegistry, layerguard_audit: InMemoryAuditSink
) -> None:
    started: list[bool] = []

    @asynccontextmanager
    async def own_lifespan(app: FastAPI) -> AsyncIterator[None]:
        started.append(get_operation_registry().is_frozen())
        yield

    app = FastAPI(lifespan=registry_lifespan(register_greeting, inner=own_lifespan))
    add_status_route(app)
    app.add_middleware(CorrelationIdMiddleware)

    @app.get("/greet/{who}")
    async def greet(who: str) -> Any:
        registry = get_operation_registry()
        return result_to_response(
            await registry.execute("greet.say", OperationContext(params={"who": who}))
        )

    @app.get("/missing")
    async def missing() -> Any:
        ctx = OperationContext()
        return result_to_response(await get_operation_registry().execute("no.such", ctx))

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as client,
    ):
        assert started == [True]  # the app's own lifespan runs with the registry ready
        assert layerguard_registry.is_frozen()
        assert app.state.operation_registry is layerguard_registry
        greeting = await client.get("/greet/ada", headers={"X-Request-ID": "req-123"})
        assert greeting.json() == {"hello": "ada"}
        missing = await client.get("/missing")
        assert missing.status_code == 501
        assert missing.json()["detail"]["error_code"] == "UNKNOWN_OPERATION"
        status = (await client.get("/health/operations")).json()
    assert layerguard_audit.records[0].correlation_id == "req-123"
    assert layerguard_audit.records[1].correlation_id is None
    assert status["frozen"] is True
    assert status["operations"]["greet.say"]["calls"] == 1
    assert status["unknown_operation_calls"] == 1
    assert status == json.loads(json.dumps(status))


def test_session_names_are_lazy_exports_of_the_runtime_package() -> None:
    from layerguard.runtime.integrations.fastapi import SessionDep
    from layerguard.runtime.integrations.sqlalchemy_session import get_session_dep

    assert layerguard.runtime.get_session_dep is get_session_dep
    assert layerguard.runtime.SessionDep is SessionDep
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = layerguard.runtime.nope  # type: ignore[attr-defined]
