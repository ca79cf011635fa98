"""Every behaviour the seed (operation_registry.md) lists, on the stdlib-only core."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from layerguard.runtime import (
    DuplicateOperationError,
    InMemoryAuditSink,
    InvalidHandlerError,
    OperationContext,
    OperationRegistry,
    OperationResult,
    RegistrationError,
    RegistryFrozenError,
    errors,
    get_operation_registry,
    reset_operation_registry,
)


class Echo:
    """Returns what it was given, plus what the registry filled in."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok(
            {"params": dict(ctx.params), "tenant": ctx.tenant_id, "operation": ctx.operation}
        )


class Raises:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    async def execute(self, ctx: OperationContext) -> OperationResult:
        raise self.exc


class Fails:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.fail("no such policy", "NOT_FOUND")


@pytest.fixture
def audit() -> InMemoryAuditSink:
    return InMemoryAuditSink()


@pytest.fixture
def registry(audit: InMemoryAuditSink) -> OperationRegistry:
    return OperationRegistry(audit_sinks=[audit])


async def test_round_trip_returns_handler_data_with_operation_and_duration(
    registry: OperationRegistry,
) -> None:
    registry.register("policies.query", Echo())
    result = await registry.execute(
        "policies.query", OperationContext(tenant_id="t1", params={"endpoint": "highlights"})
    )
    assert result.success is True
    assert result.data == {
        "params": {"endpoint": "highlights"},
        "tenant": "t1",
        "operation": "policies.query",
    }
    assert result.error is None
    assert result.error_code is None
    assert result.operation == "policies.query"
    assert result.duration_ms is not None
    assert result.duration_ms >= 0


async def test_context_gets_operation_and_timestamp_and_stays_frozen(
    registry: OperationRegistry,
) -> None:
    seen: list[OperationContext] = []

    class Capture:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            seen.append(ctx)
            return OperationResult.ok()

    registry.register("a.capture", Capture())
    ctx = OperationContext(tenant_id="t1")
    assert ctx.operation is None
    assert ctx.timestamp is None
    await registry.execute("a.capture", ctx)
    assert seen == [ctx]
    assert seen[0] is ctx  # first dispatch: filled in place, no copy
    assert ctx.operation == "a.capture"
    assert isinstance(ctx.timestamp, float)
    assert ctx.started_at is not None
    assert ctx.started_at.tzinfo is not None
    with pytest.raises(AttributeError):
        ctx.operation = "other"  # type: ignore[misc]


async def test_redispatched_context_is_copied_so_each_handler_sees_its_operation(
    registry: OperationRegistry,
) -> None:
    registry.register("a.one", Echo())
    registry.register("a.two", Echo())
    ctx = OperationContext(tenant_id="t1", params={"x": 1})
    first = await registry.execute("a.one", ctx)
    second = await registry.execute("a.two", ctx)
    assert first.data["operation"] == "a.one"
    assert second.data["operation"] == "a.two"
    assert ctx.operation == "a.one"  # the caller's context was not rewritten


async def test_reused_result_object_is_copied_not_overwritten(registry: OperationRegistry) -> None:
    shared = OperationResult.ok("constant")

    class Constant:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            return shared

    registry.register("a.one", Constant())
    registry.register("a.two", Constant())
    first = await registry.execute("a.one", OperationContext())
    second = await registry.execute("a.two", OperationContext())
    assert (first.operation, second.operation) == ("a.one", "a.two")
    assert first is shared
    assert second is not shared
    assert second.data == "constant"


async def test_unknown_operation_fails_with_code(
    registry: OperationRegistry, audit: InMemoryAuditSink
) -> None:
    result = await registry.execute("nope.query", OperationContext(tenant_id="t1"))
    assert result.success is False
    assert result.error_code == errors.UNKNOWN_OPERATION == "UNKNOWN_OPERATION"
    assert result.error == "unknown operation 'nope.query'"
    assert result.operation == "nope.query"
    assert [(r.operation, r.error_code) for r in audit.records] == [
        ("nope.query", "UNKNOWN_OPERATION")
    ]
    assert registry.status()["unknown_operation_calls"] == 1


def test_duplicate_registration_is_refused_with_advice(registry: OperationRegistry) -> None:
    registry.register("policies.query", Echo())
    with pytest.raises(DuplicateOperationError) as caught:
        registry.register("policies.query", Fails())
    message = str(caught.value)
    assert "'policies.query' is already handled by Echo" in message
    assert "registry.override()" in message
    assert isinstance(registry.get_handler("policies.query"), Echo)


def test_registration_after_freeze_is_refused_with_advice(registry: OperationRegistry) -> None:
    registry.register("a.one", Echo())
    assert registry.is_frozen() is False
    registry.freeze()
    assert registry.is_frozen() is True
    with pytest.raises(RegistryFrozenError) as caught:
        registry.register("a.two", Echo())
    assert "cannot register 'a.two': the registry is frozen" in str(caught.value)
    assert "before freeze()" in str(caught.value)
    assert registry.operations() == ["a.one"]


class SyncExecute:
    def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok()


class NoExecute:
    pass


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (Echo, "register an instance, not the class: registry.register('a.b', Echo())"),
        (SyncExecute(), "(SyncExecute) has a synchronous execute()"),
        (NoExecute(), "(NoExecute) has no execute()"),
        (None, "(NoneType) has no execute()"),
        (lambda ctx: None, "has no execute()"),
    ],
)
def test_invalid_handlers_are_refused_with_advice(
    registry: OperationRegistry, handler: Any, expected: str
) -> None:
    with pytest.raises(InvalidHandlerError) as caught:
        registry.register("a.b", handler)
    assert expected in str(caught.value)
    assert isinstance(caught.value, TypeError)
    assert registry.operation_count() == 0


@pytest.mark.parametrize("name", ["", "   ", None, 42])
def test_operation_names_must_be_non_empty_strings(registry: OperationRegistry, name: Any) -> None:
    with pytest.raises(RegistrationError, match=r"non-empty strings such as 'policies\.query'"):
        registry.register(name, Echo())


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_timeouts_must_be_positive(registry: OperationRegistry, timeout: float) -> None:
    with pytest.raises(RegistrationError, match="must be a positive number of seconds"):
        registry.register("a.b", Echo(), timeout=timeout)


async def test_handler_exception_is_wrapped(
    registry: OperationRegistry, audit: InMemoryAuditSink
) -> None:
    registry.register("a.boom", Raises(KeyError("tenant_secret_42")))
    result = await registry.execute("a.boom", OperationContext(tenant_id="t1"))
    assert result.success is False
    assert result.error_code == "HANDLER_EXCEPTION:KeyError"
    assert result.error == "operation 'a.boom' failed (KeyError); details are in the server log"
    assert "tenant_secret_42" not in (result.error or "")
    assert [r.outcome.value for r in audit.records] == ["failed"]


async def test_fail_result_passes_through(registry: OperationRegistry) -> None:
    registry.register("a.fail", Fails())
    result = await registry.execute("a.fail", OperationContext())
    assert (result.success, result.error, result.error_code, result.operation) == (
        False,
        "no such policy",
        "NOT_FOUND",
        "a.fail",
    )


def test_ok_and_fail_constructors() -> None:
    assert OperationResult.ok({"a": 1}) == OperationResult(True, {"a": 1}, None, None)
    assert OperationResult.ok() == OperationResult(True, None)
    assert OperationResult.fail("bad", "CODE") == OperationResult(False, None, "bad", "CODE")


def test_introspection(registry: OperationRegistry) -> None:
    echo = Echo()
    registry.register("b.query", echo)
    registry.register("a.query", Fails())
    assert registry.operations() == ["a.query", "b.query"]
    assert registry.operation_count() == 2
    assert registry.has_operation("b.query") is True
    assert registry.has_operation("c.query") is False
    assert registry.get_handler("b.query") is echo
    assert registry.get_handler("c.query") is None


async def test_status_is_json_and_reports_counters_and_governance(
    registry: OperationRegistry,
) -> None:
    registry.register("a.ok", Echo())
    registry.register("a.fail", Fails())
    registry.freeze()
    for _ in range(3):
        await registry.execute("a.ok", OperationContext())
    await registry.execute("a.fail", OperationContext())
    status = json.loads(json.dumps(registry.status()))
    assert status["pid"] == os.getpid()
    assert status["frozen"] is True
    assert status["operation_count"] == 2
    assert status["governance"]["mode"] == "active"
    assert status["governance"]["guarded"] is True
    assert status["governance"]["provider"] == "InMemoryKillSwitch"
    ok, fail = status["operations"]["a.ok"], status["operations"]["a.fail"]
    assert (ok["calls"], ok["failures"], ok["last_error_code"]) == (3, 0, None)
    assert (fail["calls"], fail["failures"], fail["last_error_code"]) == (1, 1, "NOT_FOUND")
    assert ok["latency_ms"]["samples"] == 3
    assert set(ok["latency_ms"]) == {"samples", "p50", "p95", "p99", "max"}
    assert 0 <= ok["latency_ms"]["p50"] <= ok["latency_ms"]["p99"] <= ok["latency_ms"]["max"]
    assert status["audit"] == {"sinks": ["InMemoryAuditSink"], "sink_failures": 0}


def test_singleton_and_reset() -> None:
    reset_operation_registry()
    try:
        first = get_operation_registry()
        assert get_operation_registry() is first
        reset_operation_registry()
        second = get_operation_registry()
        assert second is not first
        assert second.operation_count() == 0
    finally:
        reset_operation_registry()


async def test_override_works_on_frozen_registry_and_restores(
    registry: OperationRegistry,
) -> None:
    echo = Echo()
    registry.register("a.query", echo)
    registry.freeze()
    with registry.override("a.query", Fails()) as replacement:
        assert registry.get_handler("a.query") is replacement
        assert (await registry.execute("a.query", OperationContext())).error_code == "NOT_FOUND"
        with registry.override("a.query", Raises(ValueError("x"))):
            result = await registry.execute("a.query", OperationContext())
            assert result.error_code == "HANDLER_EXCEPTION:ValueError"
        assert registry.get_handler("a.query") is replacement
    assert registry.get_handler("a.query") is echo
    assert (await registry.execute("a.query", OperationContext())).success is True
    assert registry.status()["operations"]["a.query"]["calls"] == 3


async def test_override_of_unregistered_operation_is_removed_afterwards(
    registry: OperationRegistry,
) -> None:
    registry.freeze()
    with registry.override("new.op", Echo()):
        assert registry.operations() == ["new.op"]
        assert (await registry.execute("new.op", OperationContext())).success is True
    assert registry.operations() == []
    assert (await registry.execute("new.op", OperationContext())).error_code == (
        "UNKNOWN_OPERATION"
    )


def test_override_validates_the_handler(registry: OperationRegistry) -> None:
    with pytest.raises(InvalidHandlerError), registry.override("a.b", NoExecute()):  # type: ignore[arg-type]
        pass
