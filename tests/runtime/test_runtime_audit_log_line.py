"""The logging sink's message is one line whatever a handler or a caller puts in a record:
texts from input are escaped like invalid operation names (``safe_text``)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from layerguard.runtime import (
    AuditOutcome,
    AuditRecord,
    LoggingAuditSink,
    OperationContext,
    OperationRegistry,
    OperationResult,
)


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    """What a plain text handler on the audit logger writes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("test.audit.lines")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield stream
    logger.removeHandler(handler)


def _record(operation: str, error_code: str | None) -> AuditRecord:
    return AuditRecord(
        operation=operation,
        tenant_id="t\nINFO operation forged ok in 0.001 ms",
        outcome=AuditOutcome.FAILED,
        error_code=error_code,
        duration_ms=1.5,
        governance="active",
        unguarded=False,
        degraded=False,
        timestamp=0.0,
        correlation_id="c\r\nINFO forged",
        governance_reason="r\nINFO forged",
    )


@pytest.mark.parametrize(
    ("operation", "error_code", "line"),
    [
        ("a.op", "NOT_FOUND", "INFO operation a.op failed in 1.500 ms (NOT_FOUND)\n"),
        (
            "a.op",
            "HANDLER_EXCEPTION:AssertionError",
            "INFO operation a.op failed in 1.500 ms (HANDLER_EXCEPTION:AssertionError)\n",
        ),
        ("a.op", None, "INFO operation a.op failed in 1.500 ms\n"),
        (
            "a.op",
            "X\nINFO operation b.op ok in 0.001 ms",
            "INFO operation a.op failed in 1.500 ms ('X\\nINFO operation b.op ok in 0.001 ms')\n",
        ),
        (
            "a.op",
            "\x1b[2Jé\u2028",
            "INFO operation a.op failed in 1.500 ms ('\\x1b[2J\\xe9\\u2028')\n",
        ),
        ("a.op\nINFO x", "E", "INFO operation 'a.op\\nINFO x' failed in 1.500 ms (E)\n"),
        (
            "a.op",
            "E" * 201,
            f"INFO operation a.op failed in 1.500 ms ('{'E' * 76}...)\n",
        ),
    ],
)
def test_the_message_is_one_line_with_input_escaped(
    log_text: io.StringIO, operation: str, error_code: str | None, line: str
) -> None:
    sink = LoggingAuditSink("test.audit.lines")
    sink.emit(_record(operation, error_code), OperationContext())
    assert log_text.getvalue() == line


class ForgesALine:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.fail("nope", "NOPE\nINFO operation admin.grant ok in 0.100 ms")


async def test_a_handlers_error_code_cannot_forge_a_line(log_text: io.StringIO) -> None:
    registry = OperationRegistry(audit_sinks=[LoggingAuditSink("test.audit.lines")])
    registry.register("a.forge", ForgesALine())
    result = await registry.execute("a.forge", OperationContext(tenant_id="t\nINFO x"))
    assert result.error_code == "NOPE\nINFO operation admin.grant ok in 0.100 ms"
    [line] = log_text.getvalue().splitlines()
    assert line.startswith("INFO operation a.forge failed in ")
    assert line.endswith(" ms ('NOPE\\nINFO operation admin.grant ok in 0.100 ms')")
