"""The metrics' reading of a SQL store: every deployment of a window and the service builds it
ran, in two queries of plain rows (no model per row), for :func:`pipelinelib.pipeline.query.metrics`.

The paginated :meth:`SqlStore.deployments` builds a validated record per row, which is what a
history page wants and what 10,000 deployments cannot afford (issue 17's bench,
docs/benchmarks.md). Both queries are range scans of ``builds.created_at`` filtered as the
deployments query filters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pipelinelib.insight import Event
from pipelinelib.store import sql_ledger

if TYPE_CHECKING:
    from pipelinelib.store.sql import SqlStore


def _deployment_fields(summary: str | None) -> tuple[str, dict[str, str] | None]:
    """``(kind, rollout)`` of a summary; the JSON is parsed only when it holds either."""
    if not summary or ('"kind"' not in summary and '"rollout":{' not in summary):
        return "deploy", None
    info: dict[str, Any] = json.loads(summary).get("deployment") or {}
    rollout = info.get("rollout")
    return str(info.get("kind", "deploy")), dict(rollout) if isinstance(rollout, dict) else None


def deployment_events(
    store: SqlStore, *, since: datetime, environment: str | None = None
) -> tuple[list[Event], list[tuple[int, str, int]]]:
    """The window's deployments as metric events (without services) and the ``(deployment id,
    service, build)`` rows they ran."""
    from pipelinelib.store.sql import build_services, builds

    where = [builds.c.environment.is_not(None), builds.c.created_at >= since]
    if environment is not None:
        where.append(builds.c.environment == environment)
    events_query = (
        sa.select(
            builds.c.id,
            builds.c.environment,
            builds.c.created_at,
            builds.c.result,
            builds.c.summary,
        )
        .where(*where)
        .order_by(builds.c.id)
    )
    services_query = (
        sa.select(
            build_services.c.build_id, build_services.c.service, build_services.c.service_build
        )
        .select_from(build_services.join(builds, builds.c.id == build_services.c.build_id))
        .where(build_services.c.is_deployment == sa.true(), *where)
    )
    with store._read() as conn:
        rows: Iterable[Any] = conn.execute(events_query).all()
        ran = [(r[0], r[1], r[2]) for r in conn.execute(services_query)]
    events = []
    for row in rows:
        kind, rollout = _deployment_fields(row.summary)
        events.append(
            Event(
                id=row.id,
                environment=row.environment,
                at=sql_ledger.utc(row.created_at) or since,
                result=row.result,
                kind=kind,
                rollout=rollout,
            )
        )
    return events, ran


def ledger_generation(store: SqlStore) -> tuple[int, int]:
    """``(max(builds.id), count(builds))`` in one query: builds are append-only (no statement
    updates or deletes a row), so any change to the ledger changes this pair. Every replica reads
    it from the shared database, so a cache keyed by it is never older than the ledger."""
    from pipelinelib.store.sql import builds

    query = sa.select(sa.func.coalesce(sa.func.max(builds.c.id), 0), sa.func.count())
    with store._read() as conn:
        newest, count = conn.execute(query.select_from(builds)).one()
    return int(newest), int(count)
