"""Per-operation counters and a latency reservoir, updated on every dispatch.

The hot path only increments integers and writes one slot of a preallocated ring buffer;
sorting for percentiles happens in ``snapshot()``, i.e. when ``status()`` is called.
"""

from __future__ import annotations

from typing import Any


class OperationStats:
    """Counters of one operation, plus the last ``size`` latencies (nanoseconds)."""

    __slots__ = (
        "calls",
        "cancelled",
        "failures",
        "last_error_at",
        "last_error_code",
        "mask",
        "samples",
        "timeouts",
    )

    def __init__(self, size: int = 1024) -> None:
        if size <= 0 or size & (size - 1):
            raise ValueError(f"reservoir size must be a power of two, got {size}")
        self.calls = 0
        self.failures = 0
        self.timeouts = 0
        self.cancelled = 0
        self.last_error_code: str | None = None
        self.last_error_at: float | None = None
        self.samples: list[int] = [0] * size
        self.mask = size - 1

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready counters and latency percentiles (ms) over the retained samples."""
        retained = min(self.calls, self.mask + 1)
        ordered = sorted(self.samples[:retained])
        return {
            "calls": self.calls,
            "failures": self.failures,
            "timeouts": self.timeouts,
            "cancelled": self.cancelled,
            "last_error_code": self.last_error_code,
            "last_error_at": self.last_error_at,
            "latency_ms": {
                "samples": retained,
                "p50": _percentile(ordered, 0.50),
                "p95": _percentile(ordered, 0.95),
                "p99": _percentile(ordered, 0.99),
                "max": ordered[-1] / 1e6 if ordered else None,
            },
        }


def _percentile(ordered: list[int], fraction: float) -> float | None:
    """Nearest-rank percentile of sorted nanosecond samples, in milliseconds."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil without importing math
    return ordered[int(rank) - 1] / 1e6
