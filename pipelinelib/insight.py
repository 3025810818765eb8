"""Insight from the ledger: what each deployment came to, and the four DORA metrics.

Pure functions over plain records (no store, no clock): the use cases in
:mod:`pipelinelib.pipeline.query` fetch the records and pass ``now``; the tests build ledgers by
hand with known answers.

The metric definitions are DORA's ("Accelerate", Forsgren, Humble and Kim, 2018, chapter 2, and
https://dora.dev/guides/dora-metrics-four-keys/ as of 2026):

* **deployment frequency**: how often changes are deployed successfully to an environment; we
  count successful deployments (rollbacks excluded: they ship no change) in the window, and give
  the rate per day;
* **lead time for changes** (dora.dev: "change lead time"): the time from a commit to that
  commit running in the environment; we take, for each service build deployed successfully for
  the first time in the window, its first deployment time minus the commit time recorded at
  publish (``commit_time``), and give the median (DORA reports medians);
* **change failure rate**: the share of deployments that caused a failure needing remediation;
  a deployment counts as failed when its result is not SUCCESS or when it was rolled back
  (by a later ``rollback`` deployment or by the ECS circuit breaker); rollbacks themselves are the
  remediation and are counted through the deployment they rolled back, never twice;
* **time to restore** (dora.dev: "failed deployment recovery time"): from the first failed
  deployment of an episode to the next deployment that succeeds and is not itself rolled back;
  median over the restored episodes. An episode never restored is reported as ``unrestored``
  with the time it has lasted so far, and does not enter the median.

Every metric is None (not 0) when there is nothing to measure: no deployments, no commit times,
no failures.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from pipelinelib.ledger import DeploymentRecord

OUTCOMES = ("SUCCESS", "FAILURE", "ROLLED_BACK")
# pipelinelib.aws.ecs ROLLOUT_STATES that mean the change did not hold.
_ROLLED_BACK_STATES = frozenset({"ROLLED_BACK"})
_FAILED_STATES = frozenset({"FAILED", "TIMED_OUT"})


@attrs.frozen
class ServiceChange:
    """One service's build in a deployment and when its commit was made (None: unknown)."""

    service: str
    build: int
    commit_time: datetime | None = None


@attrs.frozen
class Event:
    """One deployment as the metrics see it.

    ``result`` is the deploy build's result (Jenkins vocabulary); ``kind`` ``deploy`` or
    ``rollback``; ``rollout`` the ECS outcome per service if recorded; ``services`` the service
    builds it ran (empty when unknown: per-service metrics then skip it).
    """

    id: int
    environment: str
    at: datetime
    result: str = "SUCCESS"
    kind: str = "deploy"
    rollout: Mapping[str, str] | None = None
    services: tuple[ServiceChange, ...] = ()

    @property
    def is_rollback(self) -> bool:
        return self.kind == "rollback"


def outcomes(events: Iterable[Event]) -> dict[int, str]:
    """``{event id: SUCCESS | FAILURE | ROLLED_BACK}`` for every event.

    ROLLED_BACK: the ECS circuit breaker rolled a service back (record-deployment records the
    build as FAILURE then, see pipeline/promote.py), or the next deployment of the
    same environment is a ``rollback`` (it replaced this one). FAILURE: otherwise, the build's
    result is not SUCCESS or a service's rollout FAILED or TIMED_OUT. Needs each environment's events
    in full order around a rollback: a rollback on a newer page than the deployment it replaced
    is not seen.
    """
    by_environment: dict[str, list[Event]] = {}
    for event in events:
        by_environment.setdefault(event.environment, []).append(event)
    found: dict[int, str] = {}
    for items in by_environment.values():
        ordered = sorted(items, key=lambda e: (e.at, e.id))
        for event in ordered:
            found[event.id] = own_outcome(event.result, event.rollout)
        # A rollback replaces the newest deployment before it that was still running.
        for i, event in enumerate(ordered):
            if not event.is_rollback or found[event.id] != "SUCCESS":
                continue
            for earlier in reversed(ordered[:i]):
                if found[earlier.id] == "SUCCESS":
                    if not earlier.is_rollback:
                        found[earlier.id] = "ROLLED_BACK"
                    break
    return found


def own_outcome(result: str, rollout: Mapping[str, str] | None) -> str:
    """What a deployment came to when it was recorded, before any later rollback:
    ROLLED_BACK when the ECS circuit breaker put a service's old task set back (the build is
    recorded as FAILURE then), FAILURE when the build's result is not SUCCESS or a rollout
    FAILED or TIMED_OUT (pipelinelib.aws.ecs ROLLOUT_STATES), SUCCESS otherwise."""
    states = set((rollout or {}).values())
    if states & _ROLLED_BACK_STATES:
        return "ROLLED_BACK"
    if result != "SUCCESS" or states & _FAILED_STATES:
        return "FAILURE"
    return "SUCCESS"


@attrs.frozen
class Unrestored:
    environment: str
    since: datetime
    lasting: timedelta

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "since": _iso(self.since),
            "lasting_seconds": int(self.lasting.total_seconds()),
        }


@attrs.frozen
class Metrics:
    """The four keys over ``[start, end)`` for one scope (an environment, a service, or all).

    Durations are :class:`~datetime.timedelta`; rates are fractions 0..1; None: nothing to
    measure.
    """

    scope: str
    start: datetime
    end: datetime
    deployments: int  # every deployment in the window, rollbacks included
    successful: int  # successful deploys (not rollbacks): the frequency's count
    failed: int  # deploys that failed or were rolled back
    rollbacks: int
    lead_times: tuple[timedelta, ...]
    restore_times: tuple[timedelta, ...]
    unrestored: tuple[Unrestored, ...]
    per_day: tuple[tuple[str, int, int], ...]  # (YYYY-MM-DD, successful, failed), the plots

    @property
    def days(self) -> float:
        return max((self.end - self.start).total_seconds() / 86_400, 1e-9)

    @property
    def deployment_frequency(self) -> float | None:
        """Successful deployments per day; None without any deployment."""
        return None if self.deployments == 0 else self.successful / self.days

    @property
    def lead_time(self) -> timedelta | None:
        """Median commit-to-running time; None when no deployed build has a commit time."""
        return _median(self.lead_times)

    @property
    def change_failure_rate(self) -> float | None:
        changes = self.deployments - self.rollbacks
        return None if changes <= 0 else self.failed / changes

    @property
    def time_to_restore(self) -> timedelta | None:
        return _median(self.restore_times)

    def to_dict(self) -> dict[str, Any]:
        def seconds(value: timedelta | None) -> int | None:
            return None if value is None else int(value.total_seconds())

        freq = self.deployment_frequency
        rate = self.change_failure_rate
        return {
            "scope": self.scope,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "deployments": self.deployments,
            "successful": self.successful,
            "failed": self.failed,
            "rollbacks": self.rollbacks,
            "deployment_frequency_per_day": None if freq is None else round(freq, 4),
            "lead_time_seconds": seconds(self.lead_time),
            "lead_time_samples": len(self.lead_times),
            "change_failure_rate": None if rate is None else round(rate, 4),
            "time_to_restore_seconds": seconds(self.time_to_restore),
            "restored": len(self.restore_times),
            "unrestored": [u.to_dict() for u in self.unrestored],
            "per_day": [{"day": d, "successful": s, "failed": f} for d, s, f in self.per_day],
        }


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


# --- facts: what the metrics read ----------------------------------------------------------------


@attrs.frozen
class ChangeFact:
    """A service's build in one deployment, kept when the deployment changed that service's
    build in its environment (``changed``: the per-service metrics count it) or was the first
    deployment of that build there that did not fail (``first_running``: its lead time).
    ``kind`` and ``outcome`` are the deployment's."""

    id: int
    environment: str
    service: str
    build: int
    at: datetime
    kind: str
    outcome: str
    changed: bool
    first_running: bool
    commit_time: datetime | None = None


@attrs.frozen
class LedgerFacts:
    """Everything the four keys of a window ``[start, end)`` need, in three small parts.

    ``counts``: ``(environment, UTC day, kind, outcome, deployments)`` of the window's
    deployments. ``transitions``: ``(environment, at, failing, deployment id)`` for every deployment before
    ``end`` whose outcome flips its environment between running well (SUCCESS) and failing
    (anything else), the first failing one of each environment included; ordered by environment
    and time. ``changes``: the :class:`ChangeFact` rows before ``end`` in recording order.

    A SQL store reads them from tables it keeps as deployments are recorded
    (:mod:`pipelinelib.store.facts`); :func:`facts_of` derives them from events. Both judge
    outcomes over the whole history before ``end``.
    """

    counts: tuple[tuple[str, str, str, str, int], ...]
    transitions: tuple[tuple[str, datetime, bool, int], ...]
    changes: tuple[ChangeFact, ...]


def facts_of(
    events: Iterable[Event],
    *,
    start: datetime,
    end: datetime,
    judged: Mapping[int, str] | None = None,
) -> LedgerFacts:
    """The :class:`LedgerFacts` of ``events`` (the whole history, any order) for a window."""
    ordered = sorted(events, key=lambda e: (e.at, e.id))
    outcome = judged if judged is not None else outcomes(ordered)
    counts: dict[tuple[str, str, str, str], int] = {}
    transitions: list[tuple[str, datetime, bool, int]] = []
    failing: dict[str, bool] = {}
    current: dict[tuple[str, str], int] = {}
    running: set[tuple[str, str, int]] = set()
    changes: list[ChangeFact] = []
    for event in ordered:
        if event.at >= end:
            break
        result = outcome[event.id]
        if event.at >= start:
            key = (event.environment, event.at.date().isoformat(), event.kind, result)
            counts[key] = counts.get(key, 0) + 1
        bad = result != "SUCCESS"
        if bad != failing.get(event.environment, False):
            transitions.append((event.environment, event.at, bad, event.id))
            failing[event.environment] = bad
        for change in event.services:
            where = (event.environment, change.service)
            changed = current.get(where) != change.build
            current[where] = change.build
            first = result != "FAILURE" and (*where, change.build) not in running
            if first:
                running.add((*where, change.build))
            if changed or first:
                changes.append(
                    ChangeFact(
                        id=event.id,
                        environment=event.environment,
                        service=change.service,
                        build=change.build,
                        at=event.at,
                        kind=event.kind,
                        outcome=result,
                        changed=changed,
                        first_running=first,
                        commit_time=change.commit_time,
                    )
                )
    return LedgerFacts(
        counts=tuple((*k, n) for k, n in sorted(counts.items())),
        transitions=tuple(sorted(transitions, key=lambda t: (t[0], t[1], t[3]))),
        changes=tuple(changes),
    )


def _days(start: datetime, end: datetime) -> dict[str, list[int]]:
    days: dict[str, list[int]] = {}
    day = start.date()
    while day <= (end - timedelta(microseconds=1)).date():
        days[day.isoformat()] = [0, 0]
        day += timedelta(days=1)
    return days


def metrics_of(
    facts: LedgerFacts,
    *,
    start: datetime,
    end: datetime,
    scope: str = "all",
    environment: str | None = None,
    service: str | None = None,
) -> Metrics:
    """The four keys of one scope from ``facts``: every environment (both None), one
    ``environment``, or one ``service`` (the deployments that changed its build; its lead time
    counts each of its builds' first deployment that did not fail, changed or not)."""
    days = _days(start, end)
    deployments = successful = failed = rollbacks = 0
    lead: list[timedelta] = []
    restore: list[timedelta] = []
    unrestored: list[Unrestored] = []

    def count(day: str, kind: str, outcome: str, n: int) -> None:
        nonlocal deployments, successful, failed, rollbacks
        deployments += n
        if kind == "rollback":
            rollbacks += n
            return
        slot = days.setdefault(day, [0, 0])
        if outcome == "SUCCESS":
            successful += n
            slot[0] += n
        else:
            failed += n
            slot[1] += n

    def episodes(steps: Iterable[tuple[str, datetime, bool]]) -> None:
        since: dict[str, datetime | None] = {}
        for env, at, bad in steps:
            if bad:
                if since.get(env) is None:
                    since[env] = at
            else:
                began = since.get(env)
                if began is not None:
                    if at >= start:
                        restore.append(at - began)
                    since[env] = None
        for env, began in sorted(since.items()):
            if began is not None:
                unrestored.append(Unrestored(env, began, end - began))

    mine = [
        c
        for c in facts.changes
        if (service is None or c.service == service)
        and (environment is None or c.environment == environment)
    ]
    for c in mine:
        if c.first_running and c.commit_time is not None and start <= c.at < end:
            lead.append(max(c.at - c.commit_time, timedelta(0)))
    if service is None:
        for env, day, kind, outcome, n in facts.counts:
            if environment is None or env == environment:
                count(day, kind, outcome, n)
        episodes(t[:3] for t in facts.transitions if environment is None or t[0] == environment)
    else:
        changed = sorted((c for c in mine if c.changed), key=lambda c: (c.environment, c.at, c.id))
        for c in changed:
            if start <= c.at < end:
                count(c.at.date().isoformat(), c.kind, c.outcome, 1)
        episodes((c.environment, c.at, c.outcome != "SUCCESS") for c in changed)
    return Metrics(
        scope=scope,
        start=start,
        end=end,
        deployments=deployments,
        successful=successful,
        failed=failed,
        rollbacks=rollbacks,
        lead_times=tuple(lead),
        restore_times=tuple(restore),
        unrestored=tuple(unrestored),
        per_day=tuple((d, s, f) for d, (s, f) in sorted(days.items())),
    )


def compute(
    events: Iterable[Event],
    *,
    start: datetime,
    end: datetime,
    scope: str = "all",
    service: str | None = None,
    judged: Mapping[int, str] | None = None,
) -> Metrics:
    """The four keys of ``events`` (any order) in the window ``start <= at < end``.

    Events before ``start`` are context: what an environment ran when the window opened (a
    failure open at ``start``) and which builds it had already run (lead time counts a build's
    *first* deployment that did not fail). ``service``: only deployments that changed that
    service's build (per-service metrics). ``judged``: the :func:`outcomes` of (at least) these
    events when the caller already has them. The same computation as a store's facts
    (:func:`facts_of` then :func:`metrics_of`).
    """
    facts = facts_of(events, start=start, end=end, judged=judged)
    return metrics_of(facts, start=start, end=end, scope=scope, service=service)


def report_of(
    facts: LedgerFacts,
    *,
    start: datetime,
    end: datetime,
    environment: str | None = None,
    declared: Sequence[str] = (),
) -> MetricsReport:
    """Overall, per-environment (``declared`` order first, then alphabetical) and per-service
    metrics of one set of facts."""
    from pipelinelib.ledger import order_environments

    last: dict[str, bool] = {}
    for env, _, bad, _ in facts.transitions:
        last[env] = bad
    # the window's environments, and those still failing at its end
    names = {c[0] for c in facts.counts} | {env for env, bad in last.items() if bad}
    if environment is not None:
        names &= {environment}
    services = sorted({c.service for c in facts.changes if start <= c.at < end})
    overall = metrics_of(
        facts, start=start, end=end, scope=environment or "all", environment=environment
    )
    environments = {
        name: metrics_of(facts, start=start, end=end, scope=name, environment=name)
        for name in order_environments(names, declared)
    }
    per_service = {
        name: metrics_of(
            facts, start=start, end=end, scope=name, environment=environment, service=name
        )
        for name in services
    }
    return MetricsReport(overall, environments, per_service)


# --- drift: how far an environment is behind its upstream -------------------------------------


@attrs.frozen
class Drift:
    """``environment`` runs ``service`` build ``build``; its upstream runs ``upstream_build``.

    ``behind`` counts the builds published between them (None: the store cannot tell);
    ``direction`` ``behind``, ``ahead`` or ``different`` (same number, other image).
    """

    environment: str
    upstream: str
    service: str
    build: int | None
    upstream_build: int | None
    behind: int | None = None

    @property
    def direction(self) -> str:
        if self.build is None:
            return "missing"
        if self.upstream_build is None:
            return "extra"
        if self.build < self.upstream_build:
            return "behind"
        if self.build > self.upstream_build:
            return "ahead"
        return "different"

    @property
    def text(self) -> str:
        """``beta is 3 builds behind test`` (what the board's cell title says)."""
        env, up = self.environment, self.upstream
        if self.direction == "missing":
            return f"{env} does not run {self.service}; {up} runs build {self.upstream_build}"
        if self.direction == "extra":
            return f"{env} runs {self.service}, which {up} does not"
        if self.direction == "different":
            return f"{env} runs another image of build {self.build} than {up}"
        count = self.behind
        if count is None:
            assert self.build is not None and self.upstream_build is not None
            count = abs(self.upstream_build - self.build)
        noun = "build" if count == 1 else "builds"
        where = "behind" if self.direction == "behind" else "ahead of"
        return f"{env} is {count} {noun} {where} {up}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "upstream": self.upstream,
            "service": self.service,
            "build": self.build,
            "upstream_build": self.upstream_build,
            "behind": self.behind,
            "direction": self.direction,
            "text": self.text,
        }


# --- history -----------------------------------------------------------------------------------


@attrs.frozen
class HistoryRow:
    """A deployment as ``pipelinelib history`` and the board show it."""

    record: DeploymentRecord
    outcome: str  # SUCCESS, FAILURE or ROLLED_BACK

    @property
    def kind(self) -> str:
        return str(getattr(self.record.deployment, "kind", "deploy"))

    @property
    def requested_by(self) -> str | None:
        info = self.record.deployment
        if info is None:
            return None
        who = getattr(info, "requested_by", None) or info.deployed_by
        return None if who is None else str(who)

    @property
    def approvals(self) -> tuple[Any, ...]:
        return tuple(getattr(self.record.deployment, "approvals", ()) or ())

    @property
    def overrides(self) -> tuple[str, ...]:
        return self.record.deployment.overrides if self.record.deployment else ()

    @property
    def reasons(self) -> dict[str, str]:
        """Why it went out as it did: ``reason`` (a rollback's), ``skip_order``,
        ``override_freeze`` (issue 14's fields, when recorded)."""
        info = self.record.deployment
        found = {}
        for key in ("reason", "skip_order", "override_freeze"):
            value = getattr(info, key, None)
            if value:
                found[key] = str(value)
        return found

    @property
    def duration(self) -> timedelta | None:
        """How long the deploy took: from the deploy build's start (``deployment.started_at``,
        record-deployment ``--started-at``) to its recording; None when no start was recorded."""
        started = getattr(self.record.deployment, "started_at", None)
        if not started or self.record.recorded_at is None:
            return None
        return max(self.record.recorded_at - datetime.fromisoformat(str(started)), timedelta(0))

    def to_dict(self) -> dict[str, Any]:
        duration = self.duration
        return {
            **self.record.to_dict(),
            "outcome": self.outcome,
            "kind": self.kind,
            "requested_by": self.requested_by,
            "approvals": [a.to_dict() if hasattr(a, "to_dict") else a for a in self.approvals],
            "overrides": list(self.overrides),
            "reasons": self.reasons,
            "duration_seconds": None if duration is None else int(duration.total_seconds()),
        }


@attrs.frozen
class HistoryPage:
    rows: tuple[HistoryRow, ...]
    next_before: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"deployments": [r.to_dict() for r in self.rows], "next_before": self.next_before}


def event_of(record: DeploymentRecord) -> Event:
    """The metrics' view of a history record (without its services)."""
    return Event(
        id=record.id,
        environment=record.environment,
        at=record.recorded_at or datetime.min.replace(tzinfo=UTC),
        result=record.result,
        kind=str(getattr(record.deployment, "kind", "deploy")),
        rollout=record.deployment.rollout if record.deployment else None,
    )


def history_rows(
    records: Sequence[DeploymentRecord], judged: Mapping[int, str] | None = None
) -> tuple[HistoryRow, ...]:
    """Each record with its outcome: from ``judged`` (a SQL store's kept outcomes, judged over
    the whole history) where it has one, else judged within the page (see :func:`outcomes`: a
    rollback on a newer page is not seen then)."""
    found = outcomes(event_of(r) for r in records)
    if judged:
        found.update({k: v for k, v in judged.items() if k in found})
    return tuple(HistoryRow(r, found[r.id]) for r in records)


def history_lines(page: HistoryPage) -> list[str]:
    """The text table of ``pipelinelib history``."""
    if not page.rows:
        return ["no deployments match"]
    lines = []
    for row in page.rows:
        r = row.record
        when = r.recorded_at.strftime("%Y-%m-%d %H:%M") if r.recorded_at else "-"
        kind = " rollback" if row.kind == "rollback" else ""
        who = f" by {row.requested_by}" if row.requested_by else ""
        took = f" in {human_duration(row.duration)}" if row.duration is not None else ""
        lines.append(
            f"{when}  {r.environment:<10} {row.outcome:<11} {r.job} #{r.number}{kind}{who}{took}"
        )
        lines.append(f"{'':<17} {r.subject}")
        if row.approvals:
            names = ", ".join(str(getattr(a, "by", a)) for a in row.approvals)
            lines.append(f"{'':<17} approved by {names}")
        if row.overrides:
            lines.append(f"{'':<17} overrides: {', '.join(row.overrides)}")
        for key, text in row.reasons.items():
            lines.append(f"{'':<17} {key.replace('_', ' ')}: {text}")
    if page.next_before is not None:
        lines.append(f"(older deployments: --before {page.next_before})")
    return lines


@attrs.frozen
class MetricsReport:
    overall: Metrics
    environments: Mapping[str, Metrics]
    services: Mapping[str, Metrics]

    def to_dict(self) -> dict[str, Any]:
        return {
            "definitions": "https://dora.dev/guides/dora-metrics-four-keys/",
            "overall": self.overall.to_dict(),
            "environments": {k: v.to_dict() for k, v in self.environments.items()},
            "services": {k: v.to_dict() for k, v in self.services.items()},
        }


def human_duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86_400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds / 86_400:.1f}d"


def metrics_lines(report: Mapping[str, Any]) -> list[str]:
    """The text table of ``pipelinelib metrics`` from a report's JSON document
    (:meth:`MetricsReport.to_dict`, the shape ``GET /api/v1/metrics`` answers)."""

    def seconds(value: Any) -> timedelta | None:
        return None if value is None else timedelta(seconds=value)

    def row(m: Mapping[str, Any]) -> str:
        freq = m["deployment_frequency_per_day"]
        rate = m["change_failure_rate"]
        return (
            f"{m['scope']:<20} {m['deployments']:>6} {'-' if freq is None else f'{freq:.2f}':>9} "
            f"{human_duration(seconds(m['lead_time_seconds'])):>9} "
            f"{'-' if rate is None else f'{rate:.0%}':>6} "
            f"{human_duration(seconds(m['time_to_restore_seconds'])):>9} "
            f"{len(m['unrestored']):>10}"
        )

    o = report["overall"]
    head = f"{'scope':<20} {'deploys':>6} {'per day':>9} {'lead time':>9} {'CFR':>6} {'restore':>9} {'unrestored':>10}"
    lines = [f"window {o['start']} .. {o['end']}", head, row(o)]
    if report["environments"]:
        lines.append("per environment")
        lines.extend(row(m) for m in report["environments"].values())
    if report["services"]:
        lines.append("per service")
        lines.extend(row(m) for m in report["services"].values())
    return lines


def parse_since(raw: str | None) -> datetime | None:
    """``--since`` / ``?since=``: an ISO 8601 date or date-time; without a zone it is UTC.
    InvalidInputError otherwise."""
    from pipelinelib.errors import InvalidInputError

    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInputError(
            f"since must be an ISO 8601 date or date-time, not {raw[:40]!r}"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


MAX_WINDOW = timedelta(days=3660)


def parse_window(raw: str) -> timedelta:
    """``--window`` / ``?window=``: ``30d``, ``12h``, ``1h30m`` or seconds (at most 10 years).
    InvalidInputError otherwise."""
    from pipelinelib.errors import InvalidInputError
    from pipelinelib.formats.duration import parse_duration

    text = raw.strip().lower()
    if text.endswith("d") and text[:-1].isascii() and text[:-1].isdigit() and len(text) < 8:
        seconds = int(text[:-1]) * 86_400.0
    elif text.endswith("w") and text[:-1].isascii() and text[:-1].isdigit() and len(text) < 8:
        seconds = int(text[:-1]) * 7 * 86_400.0
    else:
        seconds = parse_duration(text)
    if not 0 < seconds <= MAX_WINDOW.total_seconds():
        raise InvalidInputError(f"window {raw[:40]!r} must be more than 0 and at most 3660d")
    return timedelta(seconds=seconds)
