"""Per-operation counters and the latency reservoir behind ``status()``."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layerguard.runtime import OperationContext, OperationRegistry, OperationResult
from layerguard.runtime.stats import OperationStats


def record(stats: OperationStats, nanoseconds: int) -> None:
    """What the registry's hot path does per dispatch."""
    calls = stats.calls
    stats.calls = calls + 1
    stats.samples[calls & stats.mask] = nanoseconds


@given(st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=300))
def test_percentiles_are_nearest_rank_over_retained_samples(samples: list[int]) -> None:
    stats = OperationStats(size=64)
    for value in samples:
        record(stats, value)
    retained = samples[-64:]  # the ring keeps the most recent `size` samples
    ordered = sorted(retained)
    latency = stats.snapshot()["latency_ms"]
    assert latency["samples"] == len(retained)
    for key, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        rank = max(1, math.ceil(len(ordered) * fraction))
        assert latency[key] == ordered[rank - 1] / 1e6
    assert latency["max"] == ordered[-1] / 1e6


def test_empty_stats_have_no_percentiles() -> None:
    assert OperationStats(8).snapshot()["latency_ms"] == {
        "samples": 0,
        "p50": None,
        "p95": None,
        "p99": None,
        "max": None,
    }


@pytest.mark.parametrize("size", [0, 3, 1000])
def test_reservoir_size_must_be_a_power_of_two(size: int) -> None:
    with pytest.raises(ValueError, match="must be a power of two"):
        OperationStats(size)
    with pytest.raises(ValueError, match="must be a power of two"):
        OperationRegistry(reservoir_size=size)


async def test_registry_keeps_only_the_last_samples() -> None:
    class Ok:
        async def execute(self, ctx: OperationContext) -> OperationResult:
            return OperationResult.ok()

    registry = OperationRegistry(audit_sinks=[], reservoir_size=4)
    registry.register("a.op", Ok())
    for _ in range(10):
        await registry.execute("a.op", OperationContext())
    counters = registry.status()["operations"]["a.op"]
    assert counters["calls"] == 10
    assert counters["latency_ms"]["samples"] == 4
