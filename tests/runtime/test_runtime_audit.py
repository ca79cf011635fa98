"""Audit trail: logging sink, sink isolation, lazy records, correlation ids, OpenTelemetry."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from layerguard.runtime import (
    AuditOutcome,
    AuditRecord,
    InMemoryAuditSink,
    LoggingAuditSink,
    OperationContext,
    OperationRegistry,
    OperationResult,
    bind_correlation_id,
)
from layerguard.runtime.integrations.otel import OTelSpanSink


class Ok:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok(ctx.params.get("value"))


class Fails:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.fail("nope", "NOT_FOUND")


class AlwaysRaises:
    """A sink that raises on every record."""

    def __init__(self) -> None:
        self.calls = 0

    def enabled(self) -> bool:
        return True

    def emit(self, record: AuditRecord, ctx: OperationContext) -> None:
        self.calls += 1
        raise RuntimeError("audit backend down")


class EnabledRaises:
    def enabled(self) -> bool:
        raise RuntimeError("cannot even tell")

    def emit(self, record: AuditRecord, ctx: OperationContext) -> None:  # pragma: no cover
        raise AssertionError("never reached")


class CountingSink(InMemoryAuditSink):
    """Counts how often the registry asks, to prove records are built only when wanted."""

    def __init__(self, wanted: bool) -> None:
        super().__init__()
        self.wanted = wanted
        self.asked = 0

    def enabled(self) -> bool:
        self.asked += 1
        return self.wanted


async def test_logging_sink_puts_the_record_under_one_extra_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = OperationRegistry()  # default sinks: logging
    registry.register("policies.query", Ok())
    with caplog.at_level(logging.INFO, logger="layerguard.audit"):
        await registry.execute(
            "policies.query",
            OperationContext(tenant_id="t1", params={"value": 1}, correlation_id="req-7"),
        )
    [logged] = [r for r in caplog.records if r.name == "layerguard.audit"]
    assert logged.levelno == logging.INFO
    assert logged.getMessage().startswith("operation policies.query ok in ")
    audit = logged.layerguard_audit  # type: ignore[attr-defined]
    assert json.loads(json.dumps(audit)) == audit
    assert {k: audit[k] for k in ("operation", "tenant_id", "outcome", "error_code")} == {
        "operation": "policies.query",
        "tenant_id": "t1",
        "outcome": "ok",
        "error_code": None,
    }
    assert audit["governance"] == "active"
    assert audit["unguarded"] is False
    assert audit["correlation_id"] == "req-7"
    # One key only: the record's fields did not become LogRecord attributes.
    for field in ("operation", "tenant_id", "outcome", "governance", "duration_ms"):
        assert not hasattr(logged, field)


async def test_logging_sink_with_custom_logger_level_and_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = LoggingAuditSink("app.audit", level=logging.WARNING, extra_key="audit")
    registry = OperationRegistry(audit_sinks=[sink])
    registry.register("a.fail", Fails())
    with caplog.at_level(logging.WARNING, logger="app.audit"):
        await registry.execute("a.fail", OperationContext())
    [logged] = caplog.records
    assert logged.getMessage().endswith(" (NOT_FOUND)")
    assert logged.audit["error_code"] == "NOT_FOUND"  # type: ignore[attr-defined]


async def test_no_record_is_built_when_no_sink_wants_one() -> None:
    quiet = CountingSink(wanted=False)
    registry = OperationRegistry(audit_sinks=[quiet])
    registry.register("a.op", Ok())
    for _ in range(5):
        await registry.execute("a.op", OperationContext())
    assert quiet.asked == 5
    assert quiet.records == []


async def test_only_sinks_that_want_a_record_get_it() -> None:
    quiet, loud = CountingSink(wanted=False), CountingSink(wanted=True)
    registry = OperationRegistry(audit_sinks=[quiet, loud])
    registry.register("a.op", Ok())
    await registry.execute("a.op", OperationContext())
    assert (len(quiet.records), len(loud.records)) == (0, 1)
    assert (quiet.asked, loud.asked) == (1, 1)


@pytest.mark.parametrize("position", ["first", "last"])
async def test_a_sink_that_always_raises_changes_no_result_and_silences_no_sink(
    position: str, caplog: pytest.LogCaptureFixture
) -> None:
    broken, memory = AlwaysRaises(), InMemoryAuditSink()
    sinks = [broken, memory] if position == "first" else [memory, broken]
    registry = OperationRegistry(audit_sinks=sinks)
    registry.register("a.op", Ok())
    registry.register("a.fail", Fails())
    with caplog.at_level(logging.ERROR, logger="layerguard.runtime"):
        results = [
            await registry.execute(name, OperationContext(params={"value": i}))
            for i in range(10)
            for name in ("a.op", "a.fail")
        ]
    assert [(r.success, r.data, r.error_code) for r in results] == [
        item for i in range(10) for item in ((True, i, None), (False, None, "NOT_FOUND"))
    ]
    assert broken.calls == 20
    assert len(memory.records) == 20
    assert registry.status()["audit"]["sink_failures"] == 20
    failures = [r for r in caplog.records if "audit sink AlwaysRaises failed" in r.message]
    assert len(failures) == 1  # throttled: once per interval, not once per record


async def test_a_sink_whose_enabled_raises_is_isolated_too() -> None:
    memory = InMemoryAuditSink()
    registry = OperationRegistry(audit_sinks=[EnabledRaises(), memory])
    registry.register("a.op", Ok())
    result = await registry.execute("a.op", OperationContext(params={"value": 3}))
    assert result.data == 3
    assert len(memory.records) == 1


async def test_raising_sink_does_not_break_cancellation_or_unknown_operations() -> None:
    memory = InMemoryAuditSink()
    registry = OperationRegistry(audit_sinks=[AlwaysRaises(), memory])
    unknown = await registry.execute("nope", OperationContext())
    assert unknown.error_code == "UNKNOWN_OPERATION"

    class Waits:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            await asyncio.Event().wait()
            return OperationResult.ok()

    registry.register("a.wait", Waits())
    task = asyncio.create_task(registry.execute("a.wait", OperationContext()))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [r.outcome for r in memory.records] == [AuditOutcome.FAILED, AuditOutcome.CANCELLED]


async def test_correlation_id_comes_from_context_or_the_bound_one() -> None:
    memory = InMemoryAuditSink()
    registry = OperationRegistry(audit_sinks=[memory])
    registry.register("a.op", Ok())
    await registry.execute("a.op", OperationContext())
    with bind_correlation_id("bound-1"):
        await registry.execute("a.op", OperationContext())
        await registry.execute("a.op", OperationContext(correlation_id="explicit-2"))
    assert [r.correlation_id for r in memory.records] == [None, "bound-1", "explicit-2"]


async def test_audit_record_fields(layerguard_registry: OperationRegistry) -> None:
    sink = layerguard_registry.audit_sinks[0]
    assert isinstance(sink, InMemoryAuditSink)
    layerguard_registry.register("a.fail", Fails())
    ctx = OperationContext(tenant_id="t3")
    await layerguard_registry.execute("a.fail", ctx)
    [record] = sink.records
    assert record.as_dict() == {
        "operation": "a.fail",
        "tenant_id": "t3",
        "outcome": "failed",
        "error_code": "NOT_FOUND",
        "duration_ms": record.duration_ms,
        "governance": "active",
        "unguarded": False,
        "degraded": False,
        "timestamp": ctx.timestamp,
        "correlation_id": None,
        "governance_reason": None,
    }
    assert record.recorded_at == ctx.started_at
    assert sink.for_operation("a.fail") == [record]
    assert sink.with_outcome(AuditOutcome.FAILED) == [record]
    sink.clear()
    assert sink.records == []


def test_in_memory_sink_can_be_bounded() -> None:
    sink = InMemoryAuditSink(maxlen=2)
    for name in ("a", "b", "c"):
        record = AuditRecord(name, None, AuditOutcome.OK, None, 0.0, "active", False, False, 0.0)
        sink.emit(record, OperationContext())
    assert [r.operation for r in sink.records] == ["b", "c"]


async def test_otel_sink_emits_one_span_per_dispatch() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    registry = OperationRegistry(audit_sinks=[OTelSpanSink(provider)])
    registry.register("a.op", Ok())
    registry.register("a.fail", Fails())
    ok = await registry.execute("a.op", OperationContext(tenant_id="t1"))
    await registry.execute("a.fail", OperationContext(correlation_id="c-1"))
    first, second = exporter.get_finished_spans()
    assert first.name == "operation a.op"
    assert first.attributes is not None
    assert first.attributes["layerguard.tenant_id"] == "t1"
    assert first.attributes["layerguard.outcome"] == "ok"
    assert first.status.status_code is StatusCode.UNSET
    assert first.end_time is not None
    assert first.start_time is not None
    assert first.end_time - first.start_time == int((ok.duration_ms or 0) * 1e6)
    assert second.attributes is not None
    assert second.attributes["layerguard.error_code"] == "NOT_FOUND"
    assert second.attributes["layerguard.correlation_id"] == "c-1"
    assert second.status.status_code is StatusCode.ERROR


def test_otel_sink_is_disabled_without_a_configured_provider() -> None:
    # No global tracer provider is set in this test process: the API's proxy answers.
    sink = OTelSpanSink()
    assert sink.enabled() is False
    assert sink.enabled() is False  # re-checked at most once per interval, still off
