"""Timing helpers shared by the benchmark scripts (run as ``python benchmarks/bench_*.py``)."""

from __future__ import annotations

import time


def best_of(fn, repeats: int, clock=time.perf_counter):
    """Best time (s, by ``clock``) of ``repeats`` calls of ``fn`` and the last call's result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = clock()
        out = fn()
        best = min(best, clock() - t0)
    return best, out


def best_interleaved(fns, repeats: int, clock=time.perf_counter) -> list[float]:
    """Best time (s) of each function, timing them in turn (the machine's load hits all alike)."""
    times = [float("inf")] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t0 = clock()
            fn()
            times[k] = min(times[k], clock() - t0)
    return times
