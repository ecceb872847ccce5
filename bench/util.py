import statistics
import time
from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext


def measure(fn: Callable[[], object], *, repeat: int = 50, warmup: int = 3) -> dict:
    """Median and p95 wall time in ms and the query count of one call."""
    for _ in range(warmup):
        fn()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        fn()
    timings.sort()
    return {
        "median_ms": statistics.median(timings),
        "p95_ms": timings[int(len(timings) * 0.95) - 1],
        "queries": len(queries),
    }


def report(label: str, figures: dict) -> None:
    print(
        f"   {label:<48} median {figures['median_ms']:7.2f} ms   p95 {figures['p95_ms']:7.2f} ms"
        f"   {figures['queries']:3d} queries"
    )
