"""The audit sink protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from layerguard.runtime.audit.record import AuditRecord
    from layerguard.runtime.context import OperationContext


@runtime_checkable
class AuditSink(Protocol):
    """Receives one record per dispatch.

    ``enabled()`` is asked before the record is built: when no sink wants records (e.g.
    logging below INFO) the registry builds none, which keeps dispatch cheap. ``emit()`` runs
    synchronously on the dispatch path, so it must not block; a sink that needs I/O queues the
    record (see the table sink). Exceptions from either method are caught and logged by the
    registry (throttled): they never fail the dispatch nor stop the other sinks.
    """

    def enabled(self) -> bool:
        """Whether this sink wants a record right now (cheap)."""
        ...

    def emit(self, record: AuditRecord, ctx: OperationContext) -> None:
        """Take the record; ``ctx`` gives access to the session for transactional sinks."""
        ...
