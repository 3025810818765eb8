"""The insight facts a SQL store keeps as deployments are recorded (issue 17, migration
``0005_insight``), and their reading for :func:`pipelinelib.insight.report_of`.

The rules are :func:`pipelinelib.insight.facts_of`'s, applied one deployment at a time inside
the transaction that records it:

* ``deployment_facts``: the deployment's own outcome (:func:`pipelinelib.insight.own_outcome`);
  a successful ``rollback`` turns the newest earlier successful deployment of its environment
  (unless that is itself a rollback) into ROLLED_BACK, as :func:`pipelinelib.insight.outcomes`
  judges a whole history.
* ``service_changes``: a row when the deployment changes a service's build in its environment
  (against the newest earlier changed row of that service there) or is the first deployment of
  that build there that did not fail.

So reading a window costs a GROUP BY over its deployments (one covering index), the rows whose
``flips`` is set (the outcome transitions, one index) and the change rows, never one row per
(deployment, service).
Deployments of one environment are recorded one at a time (PostgreSQL: an advisory lock per
environment taken before the time is read; SQLite: one writer), so recording order is time
order. :func:`replay` fills the tables for deployments recorded before the migration.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pipelinelib.insight import (
    ChangeFact,
    Event,
    LedgerFacts,
    ServiceChange,
    facts_of,
    outcomes,
    own_outcome,
)
from pipelinelib.store.sql_ledger import utc

deployment_facts = sa.table(
    "deployment_facts",
    sa.column("build_id", sa.Integer),
    sa.column("environment", sa.String),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("day", sa.String),
    sa.column("kind", sa.String),
    sa.column("outcome", sa.String),
    sa.column("flips", sa.Boolean),
)
service_changes = sa.table(
    "service_changes",
    sa.column("build_id", sa.Integer),
    sa.column("service", sa.String),
    sa.column("environment", sa.String),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("service_build", sa.Integer),
    sa.column("changed", sa.Boolean),
    sa.column("first_running", sa.Boolean),
    sa.column("commit_time", sa.DateTime(timezone=True)),
)

_LOCK_PREFIX = b"pipelinelib.environment:"


def environment_lock_key(environment: str) -> int:
    """The PostgreSQL advisory lock key of an environment's deployments (a signed 32-bit CRC)."""
    value = zlib.crc32(_LOCK_PREFIX + environment.encode("utf-8"))
    return value - (1 << 32) if value >= 1 << 31 else value


def record(
    conn: Connection,
    *,
    build_id: int,
    environment: str,
    at: datetime,
    result: str,
    kind: str,
    rollout: Mapping[str, str] | None,
    services: Iterable[tuple[str, int, datetime | None]],
) -> None:
    """Keep the facts of one deployment just inserted (same transaction, same connection).

    ``services``: ``(name, build, commit time or None)`` of what it deployed.
    """
    outcome = own_outcome(result, rollout)
    f = deployment_facts
    newest_first = (f.c.at.desc(), f.c.build_id.desc())
    if kind == "rollback" and outcome == "SUCCESS":
        replaced = conn.execute(
            sa.select(f.c.build_id, f.c.kind, f.c.at)
            .where(f.c.environment == environment, f.c.outcome == "SUCCESS")
            .order_by(*newest_first)
            .limit(1)
        ).one_or_none()
        if replaced is not None and replaced.kind != "rollback":
            # It turns from running well to failing: its own flip and its successor's toggle.
            after = conn.execute(
                sa.select(f.c.build_id)
                .where(
                    f.c.environment == environment,
                    sa.or_(
                        f.c.at > replaced.at,
                        sa.and_(f.c.at == replaced.at, f.c.build_id > replaced.build_id),
                    ),
                )
                .order_by(f.c.at, f.c.build_id)
                .limit(1)
            ).scalar_one_or_none()
            conn.execute(
                f.update()
                .where(f.c.build_id == replaced.build_id)
                .values(outcome="ROLLED_BACK", flips=~f.c.flips)
            )
            if after is not None:
                conn.execute(f.update().where(f.c.build_id == after).values(flips=~f.c.flips))
    previous = conn.execute(
        sa.select(f.c.outcome)
        .where(f.c.environment == environment)
        .order_by(*newest_first)
        .limit(1)
    ).scalar_one_or_none()
    was_failing = previous is not None and previous != "SUCCESS"
    conn.execute(
        f.insert(),
        {
            "build_id": build_id,
            "environment": environment,
            "at": at,
            "day": at.astimezone(UTC).date().isoformat(),
            "kind": kind,
            "outcome": outcome,
            "flips": (outcome != "SUCCESS") != was_failing,
        },
    )
    entries = list(services)
    if not entries:
        return
    names = sorted({name for name, _, _ in entries})
    newest = (
        sa.select(
            service_changes.c.service,
            service_changes.c.service_build,
            sa.func.row_number()
            .over(
                partition_by=service_changes.c.service,
                order_by=(service_changes.c.at.desc(), service_changes.c.build_id.desc()),
            )
            .label("rank"),
        )
        .where(
            service_changes.c.environment == environment,
            service_changes.c.service.in_(names),
            service_changes.c.changed == sa.true(),
        )
        .subquery()
    )
    current = dict(
        conn.execute(
            sa.select(newest.c.service, newest.c.service_build).where(newest.c.rank == 1)
        ).all()
    )
    running: set[tuple[str, int]] = set()
    if outcome != "FAILURE":
        running = {
            (row[0], row[1])
            for row in conn.execute(
                sa.select(service_changes.c.service, service_changes.c.service_build).where(
                    service_changes.c.environment == environment,
                    service_changes.c.service.in_(names),
                    service_changes.c.service_build.in_(sorted({b for _, b, _ in entries})),
                    service_changes.c.first_running == sa.true(),
                )
            )
        }
    rows = []
    for name, build, commit_time in entries:
        changed = current.get(name) != build
        first = outcome != "FAILURE" and (name, build) not in running
        if changed or first:
            rows.append(
                {
                    "build_id": build_id,
                    "service": name,
                    "environment": environment,
                    "at": at,
                    "service_build": build,
                    "changed": changed,
                    "first_running": first,
                    "commit_time": commit_time,
                }
            )
    if rows:
        conn.execute(service_changes.insert(), rows)


# --- reading ---------------------------------------------------------------------------------


def counts_statement(start: datetime, end: datetime, environment: str | None) -> sa.Select[Any]:
    """``(environment, day, kind, outcome, deployments)`` of ``[start, end)``, in no order. The
    day range lets the GROUP BY follow ``ix_deployment_facts_day`` (day first): no sort, no row
    lookups (tests/integration/store/test_insight_store.py checks the plan)."""
    f = deployment_facts
    first_day = start.astimezone(UTC).date().isoformat()
    last_day = (end - timedelta(microseconds=1)).astimezone(UTC).date().isoformat()
    where = [f.c.day >= first_day, f.c.day <= last_day, f.c.at >= start, f.c.at < end]
    if environment is not None:
        where.append(f.c.environment == environment)
    return (
        sa.select(f.c.environment, f.c.day, f.c.kind, f.c.outcome, sa.func.count())
        .where(*where)
        .group_by(f.c.day, f.c.environment, f.c.kind, f.c.outcome)
    )


def transitions_statement(end: datetime, environment: str | None) -> sa.Select[Any]:
    """``(environment, at, failing, build id)`` of the deployments before ``end`` that flip
    their environment between running well and failing (``ix_deployment_facts_flips``)."""
    f = deployment_facts
    where = [f.c.flips == sa.true(), f.c.at < end]
    if environment is not None:
        where.append(f.c.environment == environment)
    return (
        sa.select(f.c.environment, f.c.at, f.c.outcome != "SUCCESS", f.c.build_id)
        .where(*where)
        .order_by(f.c.environment, f.c.at, f.c.build_id)
    )


def read(
    conn: Connection, *, start: datetime, end: datetime, environment: str | None = None
) -> LedgerFacts:
    """The :class:`~pipelinelib.insight.LedgerFacts` of ``[start, end)``: three queries."""
    f = deployment_facts
    counts = sorted(tuple(row) for row in conn.execute(counts_statement(start, end, environment)))
    transitions = conn.execute(transitions_statement(end, environment)).all()
    s = service_changes
    change_where = [s.c.at < end]
    if environment is not None:
        change_where.append(s.c.environment == environment)
    changes = conn.execute(
        sa.select(
            s.c.build_id,
            s.c.environment,
            s.c.service,
            s.c.service_build,
            s.c.at,
            f.c.kind,
            f.c.outcome,
            s.c.changed,
            s.c.first_running,
            s.c.commit_time,
        )
        .select_from(s.join(f, f.c.build_id == s.c.build_id))
        .where(*change_where)
        .order_by(s.c.at, s.c.build_id, s.c.service)
    ).all()
    return LedgerFacts(
        counts=tuple((r[0], r[1], r[2], r[3], int(r[4])) for r in counts),
        transitions=tuple((r[0], utc(r[1]) or start, bool(r[2]), int(r[3])) for r in transitions),
        changes=tuple(
            ChangeFact(
                id=r[0],
                environment=r[1],
                service=r[2],
                build=r[3],
                at=utc(r[4]) or start,
                kind=r[5],
                outcome=r[6],
                changed=bool(r[7]),
                first_running=bool(r[8]),
                commit_time=utc(r[9]),
            )
            for r in changes
        ),
    )


def outcomes_of(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """``{deployment id: SUCCESS | FAILURE | ROLLED_BACK}`` as kept (a rollback recorded later
    included) for those of ``ids`` that are deployments; one query."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    f = deployment_facts
    rows = conn.execute(sa.select(f.c.build_id, f.c.outcome).where(f.c.build_id.in_(wanted)))
    return {int(build_id): str(outcome) for build_id, outcome in rows}


# --- replay: the deployments recorded before the tables existed ---------------------------------

_BATCH = 500
_PAGE = sa.text(
    "SELECT id, environment, created_at, result, summary FROM builds "
    "WHERE environment IS NOT NULL AND id > :after ORDER BY id LIMIT :batch"
)
_RAN = sa.text(
    "SELECT build_id, service, service_build FROM build_services WHERE build_id IN :ids"
).bindparams(sa.bindparam("ids", expanding=True))


def _deployment_fields(summary: str | None) -> tuple[str, dict[str, str] | None]:
    """``(kind, rollout)`` of a ``builds.summary`` (the manifest without its services)."""
    if not summary:
        return "deploy", None
    info: dict[str, Any] = json.loads(summary).get("deployment") or {}
    rollout = info.get("rollout")
    return str(info.get("kind", "deploy")), dict(rollout) if isinstance(rollout, dict) else None


def _commit_times(conn: Connection) -> dict[tuple[str, int], datetime]:
    """``{(service, build): commit time}`` from the build jobs' manifests (what publish read
    from git), the source the metrics read before these tables existed."""
    found: dict[tuple[str, int], datetime] = {}
    rows = conn.execute(
        sa.text(
            "SELECT b.manifest FROM builds b WHERE b.environment IS NULL "
            "AND b.manifest LIKE '%commit_time%'"
        )
    )
    for (text,) in rows:
        for name, entry in (json.loads(text).get("services") or {}).items():
            raw = entry.get("commit_time") if isinstance(entry, dict) else None
            if raw and isinstance(entry.get("build"), int):
                found[(name, entry["build"])] = datetime.fromisoformat(raw)
    return found


def replay(conn: Connection) -> None:
    """Fill ``deployment_facts`` and ``service_changes`` for every recorded deployment: the
    whole history read as events and judged by :func:`pipelinelib.insight.outcomes` and
    :func:`pipelinelib.insight.facts_of`, the rules :func:`record` applies one at a time."""
    commit_times = _commit_times(conn)
    shared: dict[tuple[str, int], ServiceChange] = {}  # one object per service build
    events: list[Event] = []
    after = 0
    while rows := conn.execute(_PAGE, {"after": after, "batch": _BATCH}).all():
        after = rows[-1][0]
        ran: dict[int, list[tuple[str, int]]] = {}
        for build_id, service, build in conn.execute(_RAN, {"ids": [r[0] for r in rows]}):
            ran.setdefault(build_id, []).append((service, build))
        for build_id, environment, created_at, result, summary in rows:
            kind, rollout = _deployment_fields(summary)
            services = []
            for key in sorted(ran.get(build_id, ())):
                if key not in shared:
                    shared[key] = ServiceChange(*key, commit_times.get(key))
                services.append(shared[key])
            at = utc(created_at)
            assert at is not None
            events.append(
                Event(
                    id=build_id,
                    environment=environment,
                    at=at,
                    result=result,
                    kind=kind,
                    rollout=rollout,
                    services=tuple(services),
                )
            )
    if not events:
        return
    judged = outcomes(events)
    end = max(e.at for e in events) + timedelta(seconds=1)
    facts = facts_of(events, start=end, end=end, judged=judged)
    flipping = {t[3] for t in facts.transitions}
    fact_rows = [
        {
            "build_id": e.id,
            "environment": e.environment,
            "at": e.at,
            "day": e.at.astimezone(UTC).date().isoformat(),
            "kind": e.kind,
            "outcome": judged[e.id],
            "flips": e.id in flipping,
        }
        for e in events
    ]
    change_rows = [
        {
            "build_id": c.id,
            "service": c.service,
            "environment": c.environment,
            "at": c.at,
            "service_build": c.build,
            "changed": c.changed,
            "first_running": c.first_running,
            "commit_time": c.commit_time,
        }
        for c in facts.changes
    ]
    for chunk in range(0, len(fact_rows), _BATCH):
        conn.execute(deployment_facts.insert(), fact_rows[chunk : chunk + _BATCH])
    for chunk in range(0, len(change_rows), _BATCH):
        conn.execute(service_changes.insert(), change_rows[chunk : chunk + _BATCH])
