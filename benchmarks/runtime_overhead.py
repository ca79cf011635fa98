"""Per-dispatch cost of the operation registry over a direct handler call.

Run: ``.venv/bin/python benchmarks/runtime_overhead.py [--dispatches N] [--repeats R]``

Three loops run the same trivial handler, each building a fresh context per dispatch (as an
API route does), so the difference between them is what the registry adds:

1. direct ``await handler.execute(ctx)``;
2. ``await registry.execute(name, ctx)`` with the default sinks and audit logging below INFO
   (no record is built: this is the production hot path the 2 µs target applies to);
3. the same with the audit logger at INFO writing to a ``NullHandler`` (record built, dict
   made, ``LogRecord`` created and handled).

Costs are measured as this thread's CPU time (``time.thread_time_ns``): on a small shared
machine, wall-clock time mostly measures what the other processes do. Wall-clock numbers are
printed too. The loops are interleaved and repeated, and each loop's best repeat is kept.
This is a benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import platform
import time
from collections.abc import Awaitable, Callable

from layerguard.runtime import OperationContext, OperationRegistry, OperationResult
from layerguard.runtime.audit import AUDIT_LOGGER

TARGET_NS = 2_000


class EchoHandler:
    """The cheapest realistic handler: read a parameter, return it."""

    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok(ctx.params)


async def _time_loop(
    step: Callable[[dict[str, int]], Awaitable[object]], n: int
) -> tuple[float, float]:
    """(CPU ns, wall ns) per call of ``step``."""
    params = {"n": 1}
    gc.collect()
    gc.disable()
    try:
        cpu, wall = time.thread_time_ns(), time.perf_counter_ns()
        for _ in range(n):
            await step(params)
        return (time.thread_time_ns() - cpu) / n, (time.perf_counter_ns() - wall) / n
    finally:
        gc.enable()


async def main(n: int, repeats: int) -> None:
    handler = EchoHandler()
    registry = OperationRegistry()  # default sinks: one LoggingAuditSink
    registry.register("bench.echo", handler)
    registry.freeze()
    audit_logger = logging.getLogger(AUDIT_LOGGER)
    audit_logger.propagate = False
    audit_logger.addHandler(logging.NullHandler())

    async def direct(params: dict[str, int]) -> object:
        return await handler.execute(OperationContext(None, "t1", params))

    async def dispatched(params: dict[str, int]) -> object:
        return await registry.execute("bench.echo", OperationContext(None, "t1", params))

    loops = {"direct": direct, "below_info": dispatched, "at_info": dispatched}
    levels = {"direct": logging.WARNING, "below_info": logging.WARNING, "at_info": logging.INFO}
    best = dict.fromkeys(loops, (float("inf"), float("inf")))
    for name, step in loops.items():  # warm-up: caches, specialisation
        audit_logger.setLevel(levels[name])
        await _time_loop(step, min(n, 10_000))
    # Interleave the loops and keep each one's best repeat, so a burst of load from another
    # process penalises one repeat rather than one loop.
    for _ in range(repeats):
        for name, step in loops.items():
            audit_logger.setLevel(levels[name])
            cpu, wall = await _time_loop(step, n)
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
    audit_logger.setLevel(logging.WARNING)
    direct_ns, below_info_ns, at_info_ns = (best[k][0] for k in loops)

    print(f"python {platform.python_version()} on {platform.machine()}, {n} dispatches x {repeats}")
    header = "loop (CPU time per dispatch)"
    print(f"{header:<44}{'ns':>8}{'ratio':>8}{'overhead ns':>13}{'wall ns':>9}")
    rows = [
        ("direct await handler.execute(ctx)", "direct"),
        ("registry.execute, audit logging < INFO", "below_info"),
        ("registry.execute, audit INFO -> NullHandler", "at_info"),
    ]
    for label, key in rows:
        cpu, wall = best[key]
        print(f"{label:<44}{cpu:>8.0f}{cpu / direct_ns:>8.2f}{cpu - direct_ns:>13.0f}{wall:>9.0f}")
    overhead = below_info_ns - direct_ns
    verdict = "within" if overhead <= TARGET_NS else "OVER"
    print(f"overhead below INFO: {overhead:.0f} ns ({verdict} the {TARGET_NS} ns target)")
    print(f"overhead at INFO to a NullHandler: {at_info_ns - direct_ns:.0f} ns")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dispatches", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.dispatches, args.repeats))
