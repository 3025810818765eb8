"""Shared timing helpers: medians over repeated runs, ratios against an in-run baseline."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run_command(argv: Sequence[str], **kwargs: object) -> Callable[[], object]:
    def call() -> object:
        return subprocess.run(list(argv), check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]

    return call


def report(name: str, baseline_name: str, baseline: float, measured: float) -> str:
    return (
        f"{name}: {measured * 1000:.1f} ms median vs {baseline_name} {baseline * 1000:.1f} ms "
        f"-> ratio {measured / baseline:.2f}x"
    )


def cpu_times() -> list[int]:
    """The aggregate ``cpu`` line of ``/proc/stat`` (clock ticks: user, nice, system, idle,
    iowait, irq, softirq, steal, ...); empty where there is no ``/proc``."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            return [int(v) for v in handle.readline().split()[1:]]
    except OSError:
        return []


def steal_share(before: list[int], after: list[int]) -> float | None:
    """Fraction of the CPU time between two :func:`cpu_times` readings that the hypervisor gave
    to other guests (``steal``, the 8th field; proc(5)); None when it is not reported."""
    if len(before) < 8 or len(after) < 8:
        return None
    total = sum(after[:8]) - sum(before[:8])
    return (after[7] - before[7]) / total if total > 0 else None


def steal_note(before: list[int]) -> str:
    """``"3%"`` of CPU steal since ``before`` (a :func:`cpu_times` reading), or why not known."""
    share = steal_share(before, cpu_times())
    return "not reported (no /proc/stat)" if share is None else f"{share:.0%}"
