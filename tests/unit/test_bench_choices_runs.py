"""bench.choices_runs: the CPU steal share printed with the figures (proc(5), /proc/stat)."""

from __future__ import annotations

import pytest

from bench._timing import steal_share
from bench.choices_runs import ratio_summary

# user nice system idle iowait irq softirq steal guest guest_nice, in clock ticks
BEFORE = [100, 0, 50, 800, 0, 0, 10, 40, 0, 0]


def test_steal_is_the_share_of_all_eight_counters() -> None:
    after = [160, 0, 70, 860, 0, 0, 10, 100, 0, 0]  # +60 user +20 system +60 idle +60 steal
    assert steal_share(BEFORE, after) == pytest.approx(60 / 200)


def test_guest_time_is_not_counted_twice() -> None:
    # guest time is already inside user (proc(5)); only the first eight fields are summed
    after = [200, 0, 50, 800, 0, 0, 10, 90, 100, 0]  # +100 user (all of it guest) +50 steal
    assert steal_share(BEFORE, after) == pytest.approx(50 / 150)


@pytest.mark.parametrize("after", [[], BEFORE[:7], BEFORE])
def test_none_without_steal_or_elapsed_time(after: list[int]) -> None:
    assert steal_share(BEFORE if after else [], after) is None


def test_ratio_summary_leaves_out_runs_whose_baseline_got_no_answer() -> None:
    # 2026-11-29: a /healthz run at 0 req/s (every request past wrk's timeout) crashed the report
    summary = ratio_summary([(50.0, 100.0), (0.0, 0.0), (90.0, 100.0)])
    assert summary == (
        "median of choices / /healthz 0.70x (per run 0.50-0.90); "
        "1 run(s) with /healthz at 0 req/s left out"
    )
    assert ratio_summary([(3.0, 0.0)]).startswith("no run with /healthz answered")
