import os
import statistics
import time
from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext


def scaled(repeat: int) -> int:
    """A repeat count times BENCH_SCALE (default 1; e.g. 0.3 on a busy machine), at least 5."""
    return max(5, round(repeat * float(os.environ.get("BENCH_SCALE", "1"))))


def _ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _queries(fn: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        fn()
    return len(queries)


def _figures(timings: list[float]) -> dict:
    timings = sorted(timings)
    return {"median_ms": statistics.median(timings), "p95_ms": timings[max(int(len(timings) * 0.95) - 1, 0)]}


def measure(fn: Callable[[], object], *, repeat: int = 50, warmup: int = 3) -> dict:
    """Median and p95 wall time in ms and the query count of one call."""
    for _ in range(warmup):
        fn()
    timings = [_ms(fn) for _ in range(scaled(repeat))]
    return {**_figures(timings), "queries": _queries(fn)}


def measure_against(baseline: Callable[[], object], fn: Callable[[], object], *, repeat: int = 50,
                    warmup: int = 3, before: Callable[[], object] | None = None) -> tuple[dict, dict]:
    """The case and its baseline measured interleaved (A B A B ...), so both see the same machine load.

    `before`, if given, runs untimed before each call of the case (e.g. the change whose first visitor
    the case is). Returns (baseline figures, case figures); the case's "ratio" is the median of the
    per-pair ratios.
    """
    before = before or (lambda: None)
    for _ in range(warmup):
        baseline()
        before()
        fn()
    base_ms, case_ms = [], []
    for _ in range(scaled(repeat)):
        base_ms.append(_ms(baseline))
        before()
        case_ms.append(_ms(fn))
    ratios = [case / base for base, case in zip(base_ms, case_ms)]
    before()
    return ({**_figures(base_ms), "queries": _queries(baseline)},
            {**_figures(case_ms), "queries": _queries(fn), "ratio": statistics.median(ratios)})


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} (1 / 5 min), {os.cpu_count()} cores"


def report(label: str, figures: dict) -> None:
    ratio = f"   ratio {figures['ratio']:5.2f}x" if "ratio" in figures else ""
    print(
        f"   {label:<48} median {figures['median_ms']:7.2f} ms   p95 {figures['p95_ms']:7.2f} ms"
        f"   {figures['queries']:3d} queries{ratio}"
    )


def report_pair(label: str, baseline_label: str, pair: tuple[dict, dict]) -> None:
    """A case and its interleaved baseline, the ratio on the case's line."""
    base, case = pair
    report(label, case)
    print(f"   {'':<48} (interleaved {baseline_label}: median {base['median_ms']:.2f} ms)")


def rss_mib() -> tuple[float, float]:
    """Current and peak resident set size of this process in MiB (Linux /proc; C allocations included)."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def reset_peak_rss() -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def settle_database() -> str:
    """After a bulk insert: on PostgreSQL, VACUUM ANALYZE, as autovacuum does within about a minute of it (its
    naptime); without it the planner plans 50,000 new rows as a few dozen. A label for the report."""
    if connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return "statistics: VACUUM ANALYZE after the bulk insert (as autovacuum does)"
