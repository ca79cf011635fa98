"""OpenTelemetry sink: one span per dispatch, at next to no cost when tracing is off.

If ``opentelemetry`` is not installed, or no real tracer provider is configured, ``enabled()``
returns False (re-checked at most once per ``recheck_interval``), so the registry builds no
record for this sink. Spans are created after the dispatch with its real start and end times;
they are children of the span current at that moment (e.g. the HTTP request's span).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

try:
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    OTEL_AVAILABLE = True
except ImportError:  # the otel extra is not installed: the sink stays disabled
    OTEL_AVAILABLE = False

if TYPE_CHECKING:
    from layerguard.runtime.audit.record import AuditRecord
    from layerguard.runtime.context import OperationContext

TRACER_NAME = "layerguard.runtime"


class OTelSpanSink:
    """Emits a span named ``operation <name>`` with the audit fields as attributes."""

    __slots__ = ("_next_check", "_provider", "_recheck_interval", "_tracer")

    def __init__(self, tracer_provider: Any = None, *, recheck_interval: float = 1.0) -> None:
        self._provider = tracer_provider
        self._recheck_interval = recheck_interval
        self._tracer: Any = None
        self._next_check = float("-inf")

    def enabled(self) -> bool:
        """True once a real tracer provider exists (providers are set once per process)."""
        if self._tracer is not None:
            return True
        if not OTEL_AVAILABLE:
            return False
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + self._recheck_interval
        provider = self._provider if self._provider is not None else trace.get_tracer_provider()
        if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
            return False
        self._tracer = provider.get_tracer(TRACER_NAME)
        return True

    def emit(self, record: AuditRecord, ctx: OperationContext) -> None:
        """Record the dispatch as a finished span."""
        start = int(record.timestamp * 1e9)
        attributes: dict[str, Any] = {
            "layerguard.operation": record.operation,
            "layerguard.outcome": record.outcome.value,
            "layerguard.governance": record.governance,
            "layerguard.unguarded": record.unguarded,
            "layerguard.degraded": record.degraded,
            "layerguard.duration_ms": record.duration_ms,
        }
        if record.tenant_id is not None:
            attributes["layerguard.tenant_id"] = record.tenant_id
        if record.error_code is not None:
            attributes["layerguard.error_code"] = record.error_code
        if record.correlation_id is not None:
            attributes["layerguard.correlation_id"] = record.correlation_id
        span = self._tracer.start_span(
            f"operation {record.operation}", start_time=start, attributes=attributes
        )
        if record.error_code is not None:
            span.set_status(Status(StatusCode.ERROR, record.error_code))
        span.end(end_time=start + int(record.duration_ms * 1e6))
