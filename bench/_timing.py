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
