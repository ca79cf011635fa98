"""A sink that keeps records in memory, for tests and diagnostics."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from layerguard.runtime.audit.record import AuditOutcome, AuditRecord
    from layerguard.runtime.context import OperationContext


class InMemoryAuditSink:
    """Appends every record to ``records`` (bounded by ``maxlen`` if given)."""

    __slots__ = ("_lock", "_maxlen", "records")

    def __init__(self, maxlen: int | None = None) -> None:
        self.records: list[AuditRecord] = []
        self._maxlen = maxlen
        self._lock = threading.Lock()

    def enabled(self) -> bool:
        """Always wants records."""
        return True

    def emit(self, record: AuditRecord, ctx: OperationContext) -> None:
        """Keep the record."""
        with self._lock:
            self.records.append(record)
            if self._maxlen is not None and len(self.records) > self._maxlen:
                del self.records[0]

    def for_operation(self, operation: str) -> list[AuditRecord]:
        """Records of one operation, in dispatch-completion order."""
        return [r for r in self.records if r.operation == operation]

    def with_outcome(self, outcome: AuditOutcome) -> list[AuditRecord]:
        """Records with the given outcome."""
        return [r for r in self.records if r.outcome is outcome]

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self.records.clear()
