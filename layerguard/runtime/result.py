"""The outcome of one dispatch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class OperationResult:
    """What a handler returns and what the API layer inspects.

    ``operation`` and ``duration_ms`` are filled in by the registry. The class is not frozen so
    the registry can fill them without copying on every dispatch: treat results as read-only.
    """

    success: bool
    data: Any = None
    error: str | None = None
    error_code: str | None = None
    operation: str | None = None
    duration_ms: float | None = None

    @classmethod
    def ok(cls, data: Any = None) -> OperationResult:
        """A successful result carrying ``data``."""
        return cls(True, data)

    @classmethod
    def fail(cls, error: str, error_code: str) -> OperationResult:
        """A failed result: ``error`` is public text, ``error_code`` is what code matches on."""
        return cls(False, None, error, error_code)
