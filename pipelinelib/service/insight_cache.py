"""The service's cache of DORA metric reports (issue 17: metrics within 3x the board's latency).

A report reads every deployment of its window (about 2 s at 10,000 deployments, docs/benchmarks.md);
the board and the /insight page refresh every minute. The service therefore answers a metrics
request for the window ending at the **next whole minute** (UTC), and keeps the reports it computed
keyed by ``(ledger generation, environment, window, that minute, environment order)``:

* the ledger generation is the store's ``ledger_generation()`` (``(newest build id, build count)``
  read from the database on every request; builds are append-only), so a report is never older
  than the ledger the replica reads: a deployment recorded through any replica changes the key;
* a store without ``ledger_generation()`` (the HTTP store) is not cached.

Cold answers cost the full read; warm ones one small query. At most :data:`ENTRIES` reports are
kept (oldest dropped first); one lock per process, so concurrent cold requests for the same key
compute once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from datetime import UTC, datetime, timedelta

from pipelinelib.insight import MetricsReport
from pipelinelib.store import ManifestStore

ENTRIES = 32


def window_end(now: datetime | None = None) -> datetime:
    """The next whole minute after ``now`` (UTC): every deployment recorded so far is inside."""
    now = now or datetime.now(UTC)
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


class ReportCache:
    def __init__(self, entries: int = ENTRIES) -> None:
        self._entries = entries
        self._reports: OrderedDict[Hashable, MetricsReport] = OrderedDict()
        self._lock = threading.Lock()

    def report(
        self,
        store: ManifestStore,
        *,
        environment: str | None,
        window: timedelta,
        declared: Sequence[str],
        compute: Callable[[datetime], MetricsReport],
        now: datetime | None = None,
    ) -> MetricsReport:
        """``compute(end)`` for the window ending at :func:`window_end`, cached as above."""
        end = window_end(now)
        generation = getattr(store, "ledger_generation", None)
        if generation is None:
            return compute(end)
        key = (generation(), environment, window, end, tuple(declared))
        with self._lock:
            found = self._reports.get(key)
            if found is None:
                found = compute(end)
                self._reports[key] = found
                while len(self._reports) > self._entries:
                    self._reports.popitem(last=False)
            return found
