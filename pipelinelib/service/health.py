"""Readiness: can the store answer *and* take a write?

``GET /healthz`` used to ping the database only, so a replica whose every write failed with
"database or disk is full" stayed in the load balancer. Now it also reports, as 503:

* SQLite: the database's filesystem has less than ``PIPELINELIB_MIN_FREE_MB`` (default 64 MiB)
  free, or the database file or its directory is not writable by the service;
* PostgreSQL: the session is read-only (``transaction_read_only``: a hot standby, or a database
  set read-only, e.g. by a storage quota);
* any engine: a write failed because the store was unavailable less than
  :data:`FAILURE_WINDOW` seconds ago and no write has succeeded since. After the window the
  probes above decide again, so a replica is never kept out for good by one old failure.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from pipelinelib.errors import PipelinelibError, StoreUnavailableError

FAILURE_WINDOW = 60.0


class WriteHealth:
    def __init__(self, min_free_bytes: int) -> None:
        self.min_free_bytes = min_free_bytes
        self._lock = threading.Lock()
        self._failure: tuple[float, str] | None = None

    def write_failed(self, message: str) -> None:
        with self._lock:
            self._failure = (time.monotonic(), message)

    def write_succeeded(self) -> None:
        with self._lock:
            self._failure = None

    def check(self, store: Any) -> str | None:
        """None when ready; otherwise why not (one sentence for the 503 body and the logs)."""
        try:
            ping = getattr(store, "ping", None)
            if ping is not None:
                ping()
            engine = getattr(store, "engine", None)
            if engine is not None:
                problem = self._probe(engine)
                if problem:
                    return problem
        except PipelinelibError as exc:
            return exc.message
        with self._lock:
            failure = self._failure
        if failure is not None and time.monotonic() - failure[0] < FAILURE_WINDOW:
            return f"writes are failing: {failure[1]}"
        return None

    def _probe(self, engine: Any) -> str | None:
        if engine.dialect.name == "sqlite":
            return self._probe_sqlite(engine.url.database)
        if engine.dialect.name == "postgresql":
            import sqlalchemy as sa
            from sqlalchemy.exc import SQLAlchemyError

            try:
                with engine.connect() as conn:
                    read_only = conn.execute(sa.text("SHOW transaction_read_only")).scalar_one()
            except SQLAlchemyError as exc:
                raise StoreUnavailableError(f"the store could not answer: {exc}") from exc
            if read_only == "on":
                return "the PostgreSQL session is read-only: writes would fail"
        return None

    def _probe_sqlite(self, database: str | None) -> str | None:
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        path = Path(database)
        for target in (path, path.parent):
            if target.exists() and not os.access(target, os.W_OK):
                return f"{target} is not writable by the service: writes would fail"
        try:
            st = os.statvfs(path.parent)
        except OSError as exc:
            return f"cannot check the free space of {path.parent}: {exc.strerror}"
        free = st.f_bavail * st.f_frsize
        if free < self.min_free_bytes:
            return (
                f"only {free // (1024 * 1024)} MiB free on the filesystem of {path} "
                f"(the minimum is {self.min_free_bytes // (1024 * 1024)} MiB): writes would fail"
            )
        return None
