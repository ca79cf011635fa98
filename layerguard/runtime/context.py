"""The immutable context handed to every handler."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

_EMPTY_PARAMS: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class OperationContext:
    """Who asks for what, with which session.

    The API layer sets ``session``, ``tenant_id``, ``params`` and optionally
    ``correlation_id``. The registry fills ``operation`` and ``timestamp`` (epoch seconds,
    taken when the dispatch starts) the first time the context is dispatched; a context that
    is dispatched again is copied, so a handler always sees its own operation name.
    """

    session: Any = None
    tenant_id: str | None = None
    params: Mapping[str, Any] = field(default_factory=lambda: _EMPTY_PARAMS)
    correlation_id: str | None = None
    operation: str | None = None
    timestamp: float | None = None

    @property
    def started_at(self) -> datetime | None:
        """``timestamp`` as an aware UTC datetime (computed on demand: it is off the hot path)."""
        if self.timestamp is None:
            return None
        return datetime.fromtimestamp(self.timestamp, UTC)


# The registry fills the two registry-owned fields through the slot descriptors: it is the
# cheapest way to write a frozen slotted dataclass, and the registry is the only writer.
_set_operation = OperationContext.__dict__["operation"].__set__
_set_timestamp = OperationContext.__dict__["timestamp"].__set__
