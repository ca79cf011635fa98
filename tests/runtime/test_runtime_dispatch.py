"""Error handling, timeouts, cancellation and concurrency of ``registry.execute``."""

from __future__ import annotations

import asyncio
import logging

import pytest

from layerguard.runtime import (
    AuditOutcome,
    InMemoryAuditSink,
    OperationContext,
    OperationRegistry,
    OperationResult,
)


class Raises:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    async def execute(self, ctx: OperationContext) -> OperationResult:
        raise self.exc


class Sleeps:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def execute(self, ctx: OperationContext) -> OperationResult:
        await asyncio.sleep(self.seconds)
        return OperationResult.ok("slept")


@pytest.fixture
def audit() -> InMemoryAuditSink:
    return InMemoryAuditSink()


@pytest.fixture
def registry(audit: InMemoryAuditSink) -> OperationRegistry:
    return OperationRegistry(audit_sinks=[audit])


async def test_exception_text_is_hidden_by_default_and_the_log_gets_the_traceback(
    registry: OperationRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    registry.register("a.boom", Raises(RuntimeError("password=hunter2 at /srv/app/db.py")))
    with caplog.at_level(logging.ERROR, logger="layerguard.runtime"):
        result = await registry.execute("a.boom", OperationContext())
    assert result.error_code == "HANDLER_EXCEPTION:RuntimeError"
    assert "hunter2" not in (result.error or "")
    [logged] = [r for r in caplog.records if r.name == "layerguard.runtime"]
    assert logged.levelno == logging.ERROR
    assert logged.getMessage() == "operation a.boom failed with RuntimeError"
    assert logged.exc_info is not None
    assert "hunter2" in caplog.text  # the traceback, with the message, is in the log


async def test_exception_text_can_be_exposed() -> None:
    registry = OperationRegistry(audit_sinks=[], expose_error_details=True)
    registry.register("a.boom", Raises(ValueError("amount must be positive")))
    result = await registry.execute("a.boom", OperationContext())
    assert result.error == "ValueError: amount must be positive"
    assert result.error_code == "HANDLER_EXCEPTION:ValueError"


async def test_timeout_fails_with_code_and_is_counted(
    registry: OperationRegistry, audit: InMemoryAuditSink
) -> None:
    registry.register("a.slow", Sleeps(60), timeout=0.01)
    result = await registry.execute("a.slow", OperationContext())
    assert (result.success, result.error_code) == (False, "TIMEOUT")
    assert result.error == "operation 'a.slow' did not finish within 0.01s"
    assert registry.status()["operations"]["a.slow"]["timeouts"] == 1
    assert [(r.outcome, r.error_code) for r in audit.records] == [(AuditOutcome.FAILED, "TIMEOUT")]


async def test_fast_handler_with_timeout_succeeds(registry: OperationRegistry) -> None:
    registry.register("a.fast", Sleeps(0), timeout=30)
    result = await registry.execute("a.fast", OperationContext())
    assert (result.success, result.data) == (True, "slept")


async def test_handlers_own_timeout_error_is_a_handler_exception(
    registry: OperationRegistry,
) -> None:
    registry.register("a.own", Raises(TimeoutError("upstream")), timeout=30)
    result = await registry.execute("a.own", OperationContext())
    assert result.error_code == "HANDLER_EXCEPTION:TimeoutError"
    assert registry.status()["operations"]["a.own"]["timeouts"] == 0


async def test_non_result_return_value_is_an_invalid_result(registry: OperationRegistry) -> None:
    class ReturnsDict:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            return {"oops": True}  # type: ignore[return-value]

    registry.register("a.dict", ReturnsDict())
    result = await registry.execute("a.dict", OperationContext())
    assert result.error_code == "INVALID_RESULT"
    assert result.error == (
        "handler of 'a.dict' returned dict, expected OperationResult.ok(...) or "
        "OperationResult.fail(...)"
    )


async def test_cancelled_dispatch_raises_and_is_audited_as_cancelled(
    registry: OperationRegistry, audit: InMemoryAuditSink
) -> None:
    started = asyncio.Event()

    class Waits:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            started.set()
            await asyncio.Event().wait()
            return OperationResult.ok()

    registry.register("a.wait", Waits())
    task = asyncio.create_task(registry.execute("a.wait", OperationContext(tenant_id="t9")))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [record] = audit.records
    assert (record.operation, record.tenant_id, record.outcome, record.error_code) == (
        "a.wait",
        "t9",
        AuditOutcome.CANCELLED,
        "CANCELLED",
    )
    counters = registry.status()["operations"]["a.wait"]
    assert (counters["calls"], counters["cancelled"], counters["last_error_code"]) == (
        1,
        1,
        "CANCELLED",
    )


async def test_timeout_around_the_dispatch_still_cancels_it(
    registry: OperationRegistry, audit: InMemoryAuditSink
) -> None:
    registry.register("a.slow", Sleeps(60))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await registry.execute("a.slow", OperationContext())
    assert [r.outcome for r in audit.records] == [AuditOutcome.CANCELLED]


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit])
async def test_interpreter_exits_are_never_swallowed(
    registry: OperationRegistry, audit: InMemoryAuditSink, exc_type: type[BaseException]
) -> None:
    registry.register("a.exit", Raises(exc_type()))
    with pytest.raises(exc_type):
        await registry.execute("a.exit", OperationContext())
    [record] = audit.records
    assert record.outcome is AuditOutcome.ABORTED
    assert record.error_code == f"ABORTED:{exc_type.__name__}"


async def test_thousand_concurrent_dispatches_give_right_results_and_one_record_each(
    registry: OperationRegistry, audit: InMemoryAuditSink
) -> None:
    class Double:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await asyncio.sleep(0)  # interleave with the other dispatches
            value = ctx.params["i"] * 2
            await asyncio.sleep(0)
            return OperationResult.ok({"value": value, "tenant": ctx.tenant_id})

    registry.register("math.double", Double())
    contexts = [OperationContext(tenant_id=f"t{i}", params={"i": i}) for i in range(1000)]
    results = await asyncio.gather(*(registry.execute("math.double", c) for c in contexts))
    assert [r.data for r in results] == [{"value": i * 2, "tenant": f"t{i}"} for i in range(1000)]
    assert all(r.success and r.operation == "math.double" for r in results)
    assert len(audit.records) == 1000
    assert {r.tenant_id for r in audit.records} == {f"t{i}" for i in range(1000)}
    assert {r.outcome for r in audit.records} == {AuditOutcome.OK}
    assert registry.status()["operations"]["math.double"]["calls"] == 1000


async def test_concurrent_dispatches_of_one_shared_context_each_see_their_operation(
    registry: OperationRegistry,
) -> None:
    class Name:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await asyncio.sleep(0)
            return OperationResult.ok(ctx.operation)

    for name in ("a.x", "a.y", "a.z"):
        registry.register(name, Name())
    shared = OperationContext()
    results = await asyncio.gather(*(registry.execute(n, shared) for n in ("a.x", "a.y", "a.z")))
    assert [r.data for r in results] == ["a.x", "a.y", "a.z"]
