"""Hostile or mistaken arguments: names from input, wrong types, floods of unknown names.

Regression tests of the defects found by the fault-injection pass: ``register()`` accepted
``\\n`` and ``\\x00``; ``execute("evil\\nINFO layerguard.audit ...")`` forged an audit log line;
100,000 distinct unknown names left 100,000 throttle entries and 100,000 ERROR lines;
``timeout="5"`` raised a bare ``TypeError`` and ``execute(["op"], ctx)`` ``unhashable type``;
a sink raising ``SystemExit`` kept the later sinks from the record.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest

from layerguard.runtime import (
    InMemoryAuditSink,
    LoggingAuditSink,
    OperationContext,
    OperationRegistry,
    OperationResult,
    RegistrationError,
)
from layerguard.runtime.audit import AUDIT_LOGGER


class Ok:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok()


@pytest.mark.parametrize(
    "name",
    [
        "policies.query\n",
        "evil\nINFO layerguard.audit operation admin.delete ok",
        "a\x00b",
        "policies..query",
        ".policies",
        "policies.",
        "1policies",
        "pol icies",
        "polìcies",
        "a" * 201,
    ],
)
def test_invalid_names_are_refused_at_registration(name: str) -> None:
    with pytest.raises(RegistrationError, match="dot-separated segments") as caught:
        OperationRegistry().register(name, Ok())
    assert "\n" not in str(caught.value)
    assert "\x00" not in str(caught.value)


@pytest.mark.parametrize("name", ["policies.query", "billing.v2.refund-all", "_private.op", "x"])
def test_valid_names(name: str) -> None:
    registry = OperationRegistry()
    registry.register(name, Ok())
    assert registry.operations() == [name]


@pytest.mark.parametrize(
    ("timeout", "message"),
    [
        ("5", "must be a number of seconds (int or float) or None, got str '5'"),
        (True, "must be a number of seconds (int or float) or None, got bool True"),
        (float("nan"), "must be a positive number of seconds, got nan"),
        (float("inf"), "must be a positive number of seconds, got inf"),
    ],
)
def test_timeout_of_the_wrong_type_is_a_registration_error(timeout: Any, message: str) -> None:
    with pytest.raises(RegistrationError) as caught:
        OperationRegistry().register("a.op", Ok(), timeout=timeout)
    assert str(caught.value) == f"timeout of 'a.op' {message}"


async def test_execute_with_a_non_string_name_is_a_type_error_naming_the_argument() -> None:
    registry = OperationRegistry(audit_sinks=[])
    with pytest.raises(TypeError, match=r"the operation argument of execute\(\) must be a str"):
        await registry.execute(["op"], OperationContext())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"must be a str such as 'policies.query', got int"):
        await registry.execute(42, OperationContext())  # type: ignore[arg-type]


async def test_execute_with_a_wrong_context_is_a_type_error_naming_the_argument() -> None:
    registry = OperationRegistry(audit_sinks=[])
    registry.register("a.op", Ok())
    with pytest.raises(TypeError) as caught:
        await registry.execute("a.op", {"tenant_id": "t1"})  # type: ignore[arg-type]
    assert str(caught.value) == (
        "the ctx argument of execute(a.op, ctx) must be an OperationContext, got dict"
    )


async def test_an_unknown_name_from_input_cannot_forge_a_log_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    audit_logger = logging.getLogger(AUDIT_LOGGER)
    runtime_logger = logging.getLogger("layerguard.runtime")
    for log in (audit_logger, runtime_logger):
        log.addHandler(handler)
    audit_logger.setLevel(logging.INFO)
    memory = InMemoryAuditSink()
    registry = OperationRegistry(audit_sinks=[LoggingAuditSink(), memory])
    forged = "evil\nINFO layerguard.audit operation admin.delete ok in 0.1 ms"
    try:
        result = await registry.execute(forged, OperationContext())
    finally:
        for log in (audit_logger, runtime_logger):
            log.removeHandler(handler)
        audit_logger.setLevel(logging.NOTSET)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # the ERROR about the unknown name, and its audit line
    assert not any(line.startswith("INFO layerguard.audit operation admin") for line in lines)
    escaped = r"'evil\nINFO layerguard.audit operation admin.delete ok in 0.1 ms'"
    assert lines[1] == f"INFO layerguard.audit operation {escaped} failed in 0.000 ms" + (
        " (UNKNOWN_OPERATION)"
    )
    assert result.operation == escaped
    assert memory.records[0].operation == escaped


async def test_a_flood_of_unknown_names_costs_one_log_line_and_no_memory_per_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = OperationRegistry(audit_sinks=[])
    with caplog.at_level(logging.ERROR, logger="layerguard.runtime"):
        for i in range(100_000):
            result = await registry.execute(f"unknown.op{i}", OperationContext())
            assert result.error_code == "UNKNOWN_OPERATION"
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage() == (
        "no handler registered for operation 'unknown.op0' (registered: 0 operations)"
    )
    assert registry.status()["unknown_operation_calls"] == 100_000
    assert len(registry._throttled._next_at) == 1


@pytest.mark.parametrize("interruption", [SystemExit, KeyboardInterrupt])
async def test_a_sink_raising_an_interruption_does_not_keep_the_record_from_the_others(
    interruption: type[BaseException],
) -> None:
    class Exits:
        def enabled(self) -> bool:
            return True

        def emit(self, record: Any, ctx: Any) -> None:
            raise interruption

    before, after = InMemoryAuditSink(), InMemoryAuditSink()
    registry = OperationRegistry(audit_sinks=[before, Exits(), after])
    registry.register("a.op", Ok())
    with pytest.raises(interruption):  # never swallowed...
        await registry.execute("a.op", OperationContext())
    assert len(before.records) == len(after.records) == 1  # ...but every sink got the record
    assert registry.status()["audit"]["sink_failures"] == 1


async def test_a_sink_whose_enabled_raises_an_interruption_does_not_stop_the_others() -> None:
    class Broken:
        def enabled(self) -> bool:
            raise SystemExit

        def emit(self, record: Any, ctx: Any) -> None:
            raise AssertionError("never asked")

    after = InMemoryAuditSink()
    registry = OperationRegistry(audit_sinks=[Broken(), after])
    registry.register("a.op", Ok())
    with pytest.raises(SystemExit):
        await registry.execute("a.op", OperationContext())
    assert len(after.records) == 1
    assert registry.status()["audit"]["sink_failures"] == 1  # asked once, counted once
