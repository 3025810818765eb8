"""The ledger generation of a SQL store: what the service keys its metrics reports by
(pipelinelib/service/insight_cache.py). The metrics themselves read the facts kept as
deployments are recorded (:mod:`pipelinelib.store.facts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from pipelinelib.store.sql import SqlStore


def ledger_generation(store: SqlStore) -> tuple[int, int]:
    """``(max(builds.id), count(builds))`` in one query: builds are append-only (no statement
    updates or deletes a row), so any change to the ledger changes this pair. Every replica reads
    it from the shared database, so a cache keyed by it is never older than the ledger."""
    from pipelinelib.store.sql import builds

    query = sa.select(sa.func.coalesce(sa.func.max(builds.c.id), 0), sa.func.count())
    with store._read() as conn:
        newest, count = conn.execute(query.select_from(builds)).one()
    return int(newest), int(count)
