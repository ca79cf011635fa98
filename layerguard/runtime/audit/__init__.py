"""Audit trail: the record, the sink protocol and the dependency-free sinks.

The SQLAlchemy table sink lives in ``layerguard.runtime.audit.table`` and the OpenTelemetry
sink in ``layerguard.runtime.integrations.otel``; neither is imported here.
"""

from layerguard.runtime.audit.logging_sink import AUDIT_LOGGER, EXTRA_KEY, LoggingAuditSink
from layerguard.runtime.audit.memory import InMemoryAuditSink
from layerguard.runtime.audit.record import AuditOutcome, AuditRecord
from layerguard.runtime.audit.sink import AuditSink

__all__ = [
    "AUDIT_LOGGER",
    "EXTRA_KEY",
    "AuditOutcome",
    "AuditRecord",
    "AuditSink",
    "InMemoryAuditSink",
    "LoggingAuditSink",
]
