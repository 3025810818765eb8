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

So reading a window costs a GROUP BY over its deployments, the outcome transitions (a window
function over one index) and the change rows, never one row per (deployment, service).
Deployments of one environment are recorded one at a time (PostgreSQL: an advisory lock per
environment taken before the time is read; SQLite: one writer), so recording order is time
order. :func:`replay` fills the tables for deployments recorded before the migration.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pipelinelib.insight import ChangeFact, LedgerFacts, own_outcome

deployment_facts = sa.table(
    "deployment_facts",
    sa.column("build_id", sa.Integer),
    sa.column("environment", sa.String),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("day", sa.String),
    sa.column("kind", sa.String),
    sa.column("outcome", sa.String),
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


def _utc(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


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
    if kind == "rollback" and outcome == "SUCCESS":
        replaced = conn.execute(
            sa.select(deployment_facts.c.build_id, deployment_facts.c.kind)
            .where(
                deployment_facts.c.environment == environment,
                deployment_facts.c.outcome == "SUCCESS",
            )
            .order_by(deployment_facts.c.at.desc(), deployment_facts.c.build_id.desc())
            .limit(1)
        ).one_or_none()
        if replaced is not None and replaced.kind != "rollback":
            conn.execute(
                deployment_facts.update()
                .where(deployment_facts.c.build_id == replaced.build_id)
                .values(outcome="ROLLED_BACK")
            )
    conn.execute(
        deployment_facts.insert(),
        {
            "build_id": build_id,
            "environment": environment,
            "at": at,
            "day": at.astimezone(UTC).date().isoformat(),
            "kind": kind,
            "outcome": outcome,
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


def read(
    conn: Connection, *, start: datetime, end: datetime, environment: str | None = None
) -> LedgerFacts:
    """The :class:`~pipelinelib.insight.LedgerFacts` of ``[start, end)``: three queries."""
    f = deployment_facts
    where = [f.c.at < end]
    if environment is not None:
        where.append(f.c.environment == environment)
    counts = conn.execute(
        sa.select(f.c.environment, f.c.day, f.c.kind, f.c.outcome, sa.func.count())
        .where(f.c.at >= start, *where)
        .group_by(f.c.environment, f.c.day, f.c.kind, f.c.outcome)
        .order_by(f.c.environment, f.c.day, f.c.kind, f.c.outcome)
    ).all()
    failing = sa.case((f.c.outcome == "SUCCESS", 0), else_=1)
    steps = (
        sa.select(
            f.c.environment,
            f.c.at,
            f.c.build_id,
            failing.label("failing"),
            sa.func.lag(failing)
            .over(partition_by=f.c.environment, order_by=(f.c.at, f.c.build_id))
            .label("before"),
        )
        .where(*where)
        .subquery()
    )
    transitions = conn.execute(
        sa.select(steps.c.environment, steps.c.at, steps.c.failing)
        .where(steps.c.failing != sa.func.coalesce(steps.c.before, 0))
        .order_by(steps.c.environment, steps.c.at, steps.c.build_id)
    ).all()
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
        transitions=tuple((r[0], _utc(r[1]) or start, bool(r[2])) for r in transitions),
        changes=tuple(
            ChangeFact(
                id=r[0],
                environment=r[1],
                service=r[2],
                build=r[3],
                at=_utc(r[4]) or start,
                kind=r[5],
                outcome=r[6],
                changed=bool(r[7]),
                first_running=bool(r[8]),
                commit_time=_utc(r[9]),
            )
            for r in changes
        ),
    )


# --- replay: the deployments recorded before the tables existed ---------------------------------

_BATCH = 500
_FIRST_PAGE = sa.text(
    "SELECT id, environment, created_at, result, summary FROM builds "
    "WHERE environment IS NOT NULL ORDER BY created_at, id LIMIT :batch"
)
_NEXT_PAGE = sa.text(
    "SELECT id, environment, created_at, result, summary FROM builds "
    "WHERE environment IS NOT NULL AND (created_at > :at OR (created_at = :at AND id > :id)) "
    "ORDER BY created_at, id LIMIT :batch"
)


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
    """Fill ``deployment_facts`` and ``service_changes`` for every recorded deployment, in
    recording order (``created_at``, ``id``), with the rules of :func:`record` kept in memory."""
    commit_times = _commit_times(conn)
    succeeded: dict[str, list[tuple[int, str]]] = {}  # per environment, oldest first
    outcome_of: dict[int, str] = {}
    current: dict[tuple[str, str], int] = {}
    running: set[tuple[str, str, int]] = set()
    after: tuple[Any, int] | None = None
    while True:
        page = _FIRST_PAGE if after is None else _NEXT_PAGE
        params: dict[str, Any] = {"batch": _BATCH}
        if after is not None:
            params.update(at=after[0], id=after[1])
        rows = conn.execute(page, params).all()
        if not rows:
            break
        after = (rows[-1][2], rows[-1][0])
        ran: dict[int, list[tuple[str, int]]] = {}
        ids = [r[0] for r in rows]
        for build_id, service, build in conn.execute(
            sa.text(
                "SELECT build_id, service, service_build FROM build_services "
                "WHERE build_id IN :ids ORDER BY build_id, service"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": ids},
        ):
            ran.setdefault(build_id, []).append((service, build))
        fact_rows: list[dict[str, Any]] = []
        change_rows: list[dict[str, Any]] = []
        for build_id, environment, created_at, result, summary in rows:
            at = _utc(created_at)
            assert at is not None
            kind, rollout = _deployment_fields(summary)
            outcome = own_outcome(result, rollout)
            stack = succeeded.setdefault(environment, [])
            if kind == "rollback" and outcome == "SUCCESS" and stack:
                newest, newest_kind = stack[-1]
                if newest_kind != "rollback":
                    stack.pop()
                    outcome_of[newest] = "ROLLED_BACK"
            if outcome == "SUCCESS":
                stack.append((build_id, kind))
            outcome_of[build_id] = outcome
            fact_rows.append(
                {
                    "build_id": build_id,
                    "environment": environment,
                    "at": at,
                    "day": at.date().isoformat(),
                    "kind": kind,
                    "outcome": outcome,
                }
            )
            for name, build in ran.get(build_id, ()):
                where = (environment, name)
                changed = current.get(where) != build
                current[where] = build
                first = outcome != "FAILURE" and (environment, name, build) not in running
                if first:
                    running.add((environment, name, build))
                if changed or first:
                    change_rows.append(
                        {
                            "build_id": build_id,
                            "service": name,
                            "environment": environment,
                            "at": at,
                            "service_build": build,
                            "changed": changed,
                            "first_running": first,
                            "commit_time": commit_times.get((name, build)),
                        }
                    )
        conn.execute(deployment_facts.insert(), fact_rows)
        if change_rows:
            conn.execute(service_changes.insert(), change_rows)
    rolled_back = [i for i, o in outcome_of.items() if o == "ROLLED_BACK"]
    for chunk in range(0, len(rolled_back), _BATCH):
        conn.execute(
            deployment_facts.update()
            .where(deployment_facts.c.build_id.in_(rolled_back[chunk : chunk + _BATCH]))
            .values(outcome="ROLLED_BACK")
        )
