"""The choices body, cached per process and keyed by the job's generation in the store.

Every publish of a new build and every display-name change bumps the job's generation in
``job_generations`` in the same transaction as the write (migration ``0004_ledger_indexes``).
A request reads that one row (a primary-key lookup) and serves the cached body when the
generation is the one it was built at; otherwise it runs the choices query and caches the new
body. Any replica therefore sees a write on any other replica at its next request: the
generation lives in the shared database, not in the process.

A body built just after a concurrent write committed may be cached under the generation read
before it: it already shows the newer, committed build, and the next request reads the bumped
generation and rebuilds, so nothing older than the database is ever served.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

MAX_ENTRIES = 4096  # (job, limit) pairs; ~100 lines each, a few MiB at most


class ChoicesCache:
    """Thread-safe LRU of ``(job, limit) -> (generation, body, etag)``."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[tuple[str, int], tuple[int, str, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self.hits = 0
        self.misses = 0

    def get(
        self,
        job: str,
        limit: int,
        generation: int,
        build: Callable[[], list[str]],
    ) -> tuple[str, str]:
        """``(body, etag)`` for the job at ``generation``; ``build()`` makes the lines on a miss."""
        key = (job, limit)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == generation:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1], entry[2]
            self.misses += 1
        body, etag = render(build())
        with self._lock:
            current = self._entries.get(key)
            if current is None or current[0] <= generation:
                self._entries[key] = (generation, body, etag)
                self._entries.move_to_end(key)
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
        return body, etag


def render(lines: list[str]) -> tuple[str, str]:
    """The ``text/plain`` body (one choice per line) and its strong ETag."""
    body = "\n".join(lines) + "\n" if lines else ""
    return body, hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]
