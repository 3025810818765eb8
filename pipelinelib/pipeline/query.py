"""Reading the store: list builds, choices, what is where (status), diff, history, metrics,
drift."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from pipelinelib import names
from pipelinelib.errors import (
    InvalidInputError,
    NotFoundError,
)
from pipelinelib.model import (
    Choice,
    Manifest,
    ServiceBuild,
    validate_environment_name,
    validate_job_name,
    validate_service_name,
)
from pipelinelib.store import ManifestStore

if TYPE_CHECKING:
    from pipelinelib.environments import EnvironmentsConfig
    from pipelinelib.insight import Drift, HistoryPage, MetricsReport, ServiceChange
    from pipelinelib.jenkins.client import JenkinsBuild, JenkinsClient
    from pipelinelib.ledger import (
        DeploymentEntry,
        DeploymentPage,
        DeploymentRecord,
        EnvironmentDiff,
    )
    from pipelinelib.model import ApprovalRequest, Lock


def list_builds(store: ManifestStore, job: str, *, limit: int = 100) -> list[Manifest]:
    """Newest successful builds of a job (at most ``limit``, 1-1000), newest first.

    InvalidNameError for a bad job name; StoreUnavailableError when the store cannot answer;
    NotFoundError (with a did-you-mean) for a job the store has never recorded a build of.
    """
    builds = job_builds(store, job, limit=limit)
    if not builds:
        require_known_job(store, job)
    return builds


def require_known_job(store: ManifestStore, job: str) -> None:
    """NotFoundError unless the store holds some build of ``job`` (any result).

    The did-you-mean draws on the jobs the store names in its deployments (deploy jobs and the
    jobs they imported from).
    """
    if store.list_builds(job, result=None, limit=1):
        return
    known: set[str] = set()
    for manifest in store.environments().values():
        known.add(manifest.job)
        if manifest.source is not None:
            known.add(manifest.source.job)
    raise NotFoundError(
        f"no build of job {job!r} is recorded in the store{names.did_you_mean(job, known)}",
        job=job,
    )


def job_builds(
    store: ManifestStore, job: str, *, result: str | None = "SUCCESS", limit: int = 100
) -> list[Manifest]:
    """Newest builds of a job with ``result`` (None: every result; at most ``limit``, 1-1000),
    newest first; empty for a job the store does not know (``GET /api/v1/jobs/JOB/builds``).

    InvalidNameError for a bad job name; StoreUnavailableError when the store cannot answer.
    """
    return store.list_builds(validate_job_name(job), result=result, limit=limit)


def get_build(store: ManifestStore, job: str, number: int) -> Manifest:
    """One build's manifest. InvalidNameError for a bad job name; NotFoundError when unknown."""
    return store.get_build(validate_job_name(job), number)


def env_groovy(store: ManifestStore, job: str, number: int, service: str | None = None) -> str:
    """The ``env.groovy`` of a build: every service's variables, or only ``service``'s.

    NotFoundError when the build is unknown or has no such service; InvalidNameError for a bad
    job or service name (the service name is checked after the build is found).
    """
    from pipelinelib.formats import groovy

    manifest = get_build(store, job, number)
    if service is None:
        services = list(manifest.services.values())
    else:
        validate_service_name(service)
        if service not in manifest.services:
            raise NotFoundError(f"{job} #{manifest.number} has no service {service!r}")
        services = [manifest.services[service]]
    return groovy.render_env_groovy(services)


def choice_lines(store: ManifestStore, job: str, *, limit: int = 100) -> list[str]:
    """The lines of :func:`list_choices` (``NUMBER-SUBJECT``), as the service's hottest route
    (``GET .../choices``) serves them; a SQL store answers without building models."""
    return store.choice_lines(validate_job_name(job), limit=limit)


def job_generation(store: ManifestStore, job: str) -> int | None:
    """A number that changes whenever the job's builds change (a SQL store's), or None when
    the store keeps none: the key of the service's choices cache."""
    generation = getattr(store, "job_generation", None)
    return None if generation is None else int(generation(job))


def service_build(store: ManifestStore, service: str, build: int) -> ServiceBuild:
    """One published build of a service. NotFoundError when unknown."""
    return store.find_service_build(validate_service_name(service), build)


def service_builds_between(
    store: ManifestStore, service: str, after: int, upto: int, *, limit: int = 100
) -> list[ServiceBuild]:
    """The service's published builds with ``after`` < build <= ``upto``, newest first."""
    return store.service_builds_between(validate_service_name(service), after, upto, limit=limit)


def service_builds_between_many(
    store: ManifestStore, ranges: Mapping[str, tuple[int, int]], *, limit: int = 100
) -> dict[str, list[ServiceBuild]]:
    """:func:`service_builds_between` for many services (``{service: (after, upto)}``) in one
    store query."""
    return store.service_builds_between_many(dict(ranges), limit=limit)


def environments(store: ManifestStore) -> dict[str, Manifest]:
    """The newest successful deployment of every environment, in the store's order."""
    return store.environments()


def environment_entries(store: ManifestStore) -> dict[str, DeploymentEntry]:
    """:func:`environments` with what the ledger knows of each deployment (the board's cells)."""
    return dict(store.environment_entries())


def environment_names(store: ManifestStore, declared: Sequence[str] = ()) -> list[str]:
    """The environments with a deployment, in ``declared`` order, others alphabetically; a SQL
    store names them without reading manifests."""
    from pipelinelib.ledger import order_environments

    names = getattr(store, "environment_names", None)
    return order_environments(names() if names is not None else store.environments(), declared)


def deployments(
    store: ManifestStore,
    *,
    environment: str | None = None,
    service: str | None = None,
    since: datetime | None = None,
    before: int | None = None,
    limit: int = 50,
) -> DeploymentPage:
    """One page of deployments newest first, without their services, and the cursor of the
    next page (``before``: a previous page's ``next_before``)."""
    if environment is not None:
        validate_environment_name(environment)
    return store.deployments(
        environment=environment, service=service, since=since, before=before, limit=limit
    )


def environment_history(
    store: ManifestStore, environment: str, *, before: int | None = None, limit: int = 100
) -> tuple[list[Manifest], int | None]:
    """One page of an environment's deployments as manifests, newest first, and the cursor of
    the next page: a page of ids, then each manifest, so the cost is the page's, not the
    history's."""
    page = deployments(store, environment=environment, before=before, limit=limit)
    return [store.get_build(r.job, r.number) for r in page.entries], page.next_before


def active_locks(store: ManifestStore) -> dict[str, Lock]:
    """``{environment: lock}`` of the locks that have not expired (none when the store keeps
    no locks)."""
    list_locks = getattr(store, "locks", None)
    if list_locks is None:
        return {}
    return {lock.environment: lock for lock in list_locks() if not getattr(lock, "expired", False)}


def locks(store: ManifestStore) -> list[Lock]:
    """Every environment lock the store holds, expired ones too."""
    return store.locks()


def pending_approvals(store: ManifestStore, limit: int = 100) -> list[ApprovalRequest]:
    """Open approval requests (their deployment not recorded yet), newest first, at most
    ``limit`` (1..100); none when the store keeps no approvals."""
    list_pending = getattr(store, "pending_approvals", None)
    return list(list_pending(limit)) if list_pending is not None else []


def approval_request(
    store: ManifestStore, environment: str, job: str, number: int
) -> ApprovalRequest:
    """The approval request of a build for an environment, with its approvals."""
    return store.approval_request(validate_environment_name(environment), job, number)


def list_choices(store: ManifestStore, job: str, *, limit: int = 100) -> list[Choice]:
    """``NUMBER-SUBJECT`` choices of a job's newest successful builds (at most ``limit``),
    newest first, as the Active Choices parameter of a deploy job shows them.

    InvalidNameError for a bad job name; StoreUnavailableError when the store cannot answer;
    NotFoundError for an unknown job, as :func:`list_builds`.
    """
    choices = store.choices(validate_job_name(job), limit=limit)
    if not choices:
        require_known_job(store, job)
    return choices


def status(
    store: ManifestStore,
    environment: str | None = None,
    declared: Sequence[str] = (),
) -> dict[str, Manifest]:
    """What is where: the newest successful deployment per environment (or of one), in the
    ``declared`` promotion order (the environments file's), others alphabetically."""
    from pipelinelib.ledger import order_environments

    if environment is not None:
        validate_environment_name(environment)
    current = store.environments()
    if environment is not None:
        names.require_known("environment", environment, {*current, *declared})
        if environment not in current:
            known = ", ".join(order_environments(current, declared)) or "none yet"
            raise NotFoundError(f"nothing is deployed to {environment} (deployed: {known})")
        return {environment: current[environment]}
    return {name: current[name] for name in order_environments(current, declared)}


def diff(
    store: ManifestStore,
    from_environment: str,
    to_environment: str,
    declared: Sequence[str] = (),
) -> EnvironmentDiff:
    """What promoting FROM to TO would change, per service, with the commits it brings.

    ``declared``: the environments file's names; a name neither declared nor deployed is a
    NotFoundError with a did-you-mean."""
    from pipelinelib.ledger import diff_environments

    for name in (from_environment, to_environment):
        validate_environment_name(name)
    current = store.environments()
    for name in (from_environment, to_environment):
        names.require_known("environment", name, {*current, *declared})
    if from_environment not in current:
        raise NotFoundError(f"nothing is deployed to {from_environment}: nothing to promote")
    target = current.get(to_environment)
    return diff_environments(
        from_environment,
        current[from_environment],
        to_environment,
        target,
        store.service_builds_between_many,
    )


def list_jenkins_builds(
    jenkins: JenkinsClient, job: str, *, limit: int = 100
) -> list[JenkinsBuild]:
    """Newest successful builds of a job as Jenkins itself lists them (``--source jenkins``)."""
    return jenkins.successful_builds(validate_job_name(job), limit=limit)


# --- insight (issue 17): history, DORA metrics, drift -----------------------------------------

HISTORY_PAGE = 1000  # the store's page limit: one page walk per 1,000 deployments


def history(
    store: ManifestStore,
    *,
    environment: str | None = None,
    service: str | None = None,
    since: datetime | None = None,
    before: int | None = None,
    limit: int = 50,
) -> HistoryPage:
    """One page of deployments, newest first, each with what it came to (SUCCESS, FAILURE,
    ROLLED_BACK), who asked, approvals, overrides, reasons and how long the deploy job took.

    Built on the store's paginated :meth:`ManifestStore.deployments` (issue 18): the cost does
    not depend on how much history the store holds. A SQL store gives each row the outcome it
    keeps for the metrics (one more query), so a deployment rolled back by a rollback on a newer
    page shows ROLLED_BACK; the HTTP store asks the service's ``GET /api/v1/history``, which does
    the same; the in-memory store judges outcomes within the page. ``before`` is a previous
    page's ``next_before``. InvalidInputError for a bad filter or limit (1-1000).
    """
    from pipelinelib.insight import HistoryPage, history_rows

    if environment is not None:
        validate_environment_name(environment)
    remote = getattr(store, "history_page", None)  # the HTTP store asks the service's history
    if remote is not None:
        found: HistoryPage = remote(
            environment=environment, service=service, since=since, before=before, limit=limit
        )
        return found
    page = store.deployments(
        environment=environment, service=service, since=since, before=before, limit=limit
    )
    kept = getattr(store, "deployment_outcomes", None)
    judged = kept([r.id for r in page.entries]) if kept is not None and page.entries else None
    return HistoryPage(history_rows(page.entries, judged), page.next_before)


def metrics_document(
    store: ManifestStore,
    *,
    window: str = "30d",
    environment: str | None = None,
    declared: Sequence[str] = (),
) -> dict[str, Any]:
    """The metrics report as the JSON document ``GET /api/v1/metrics`` answers (docs/api.md).

    ``window``: ``7d``, ``30d``, ``12h`` (:func:`pipelinelib.insight.parse_window`; checked
    here first). A store that can ask a manifest service for it (``metrics_document``, the HTTP
    store) does so in one request: the service computes it from the facts its store keeps, over
    its own environments file, its window ending at the next whole minute (docs/insight.md).
    Any other store computes :func:`metrics` here."""
    from pipelinelib.insight import parse_window

    span = parse_window(window)
    if environment is not None:
        validate_environment_name(environment)
    remote = getattr(store, "metrics_document", None)
    if remote is not None:
        document: dict[str, Any] = remote(window=window, environment=environment)
        return document
    return metrics(store, environment=environment, window=span, declared=declared).to_dict()


def _change(
    changes: dict[tuple[str, int], ServiceChange],
    key: tuple[str, int],
    commit_time: datetime | None,
) -> ServiceChange:
    """One shared ServiceChange per service build (built once, not per deployment)."""
    from pipelinelib.insight import ServiceChange

    changes[key] = change = ServiceChange(key[0], key[1], commit_time)
    return change


def metrics(
    store: ManifestStore,
    *,
    environment: str | None = None,
    window: timedelta = timedelta(days=30),
    now: datetime | None = None,
    declared: Sequence[str] = (),
) -> MetricsReport:
    """The four DORA keys over ``[now - window, now)``: overall, per environment and per
    service (see :mod:`pipelinelib.insight` for the definitions and their source); environments
    in ``declared`` order (the environments file's), others alphabetically. Outcomes, open
    failures and first deployments are judged over the whole history before ``now``.

    A SQL store answers from the facts it keeps as deployments are recorded (three queries,
    store/facts.py). Any other store is read through the protocol: every deployment before
    ``now`` page by page, once more per service for the builds each ran, and the commit times
    of those builds in one batch query. InvalidInputError for a window that is not positive.
    """
    from pipelinelib.insight import event_of, facts_of, report_of

    if window <= timedelta(0):
        raise InvalidInputError("the window must be longer than zero")
    if environment is not None:
        validate_environment_name(environment)
    end = now or datetime.now(UTC)
    start = end - window
    kept = getattr(store, "ledger_facts", None)
    if kept is not None:
        facts = kept(start=start, end=end, environment=environment)
        return report_of(facts, start=start, end=end, environment=environment, declared=declared)
    records = _all_deployments(store, environment=environment)
    bare = [event_of(r) for r in records if r.recorded_at is None or r.recorded_at < end]
    ran: dict[int, list[tuple[str, int]]] = {}
    services = sorted(
        {n for entry in store.environment_entries().values() for n in entry.deployment.services}
    )
    for name in services:
        for r in _all_deployments(store, environment=environment, service=name):
            if r.service_build is not None:
                ran.setdefault(r.id, []).append((name, r.service_build))
    ranges: dict[str, tuple[int, int]] = {}
    for pairs in ran.values():
        for name, build in pairs:
            low, high = ranges.get(name, (build - 1, build))
            ranges[name] = (min(low, build - 1), max(high, build))
    commit_times: dict[tuple[str, int], datetime | None] = {}
    if ranges:
        found = store.service_builds_between_many(ranges, limit=HISTORY_PAGE)
        for name, builds in found.items():
            for b in builds:
                commit_times[(name, b.build)] = b.committed_at
    changes: dict[tuple[str, int], ServiceChange] = {}
    events = [
        attrs.evolve(
            e,
            services=tuple(
                changes.get(key) or _change(changes, key, commit_times.get(key))
                for key in sorted(ran.get(e.id, ()))
            ),
        )
        for e in bare
    ]
    facts = facts_of(events, start=start, end=end)
    return report_of(facts, start=start, end=end, environment=environment, declared=declared)


def _all_deployments(
    store: ManifestStore,
    *,
    environment: str | None = None,
    service: str | None = None,
    since: datetime | None = None,
) -> list[DeploymentRecord]:
    found: list[DeploymentRecord] = []
    before: int | None = None
    while True:
        page = store.deployments(
            environment=environment,
            service=service,
            since=since,
            before=before,
            limit=HISTORY_PAGE,
        )
        found.extend(page.entries)
        if page.next_before is None:
            return found
        before = page.next_before


def drift(
    store: ManifestStore,
    current: Mapping[str, DeploymentEntry],
    upstreams: Mapping[str, str | None],
) -> dict[tuple[str, str], Drift]:
    """``{(environment, service): Drift}`` for every cell that differs from the same service in
    the environment's upstream (``upstreams`` ``{environment: upstream or None}``, from the
    environments file). ``behind`` counts the builds published in between, in one store query.
    """
    from pipelinelib.insight import Drift

    found: dict[tuple[str, str], Drift] = {}
    ranges: dict[str, tuple[int, int]] = {}
    keys: dict[tuple[str, str], tuple[str, int, int]] = {}
    for name, entry in current.items():
        upstream = upstreams.get(name)
        if upstream is None or upstream not in current:
            continue
        ours, theirs = entry.deployment.services, current[upstream].deployment.services
        for service in sorted(set(ours) | set(theirs)):
            a, b = ours.get(service), theirs.get(service)
            if a is not None and b is not None and (a.build, a.digest) == (b.build, b.digest):
                continue
            found[(name, service)] = Drift(
                name, upstream, service, a.build if a else None, b.build if b else None
            )
            if a is not None and b is not None and a.build != b.build:
                low, high = sorted((a.build, b.build))
                key = f"{service}"
                keys[(name, service)] = (key, low, high)
                old = ranges.get(key)
                ranges[key] = (min(low, old[0]) if old else low, max(high, old[1]) if old else high)
    if ranges:
        between = store.service_builds_between_many(ranges, limit=HISTORY_PAGE)
        for cell, (key, low, high) in keys.items():
            builds = between.get(key, [])
            if len(builds) < HISTORY_PAGE:
                count = sum(1 for b in builds if low < b.build <= high)
                found[cell] = attrs.evolve(found[cell], behind=count)
    return found


def upstreams_of(config: EnvironmentsConfig, names: Iterable[str]) -> dict[str, str | None]:
    """Each environment's upstream as the environments file (``pipelinelib.toml``) declares it;
    None for the first environment, undeclared ones and when there is no file (no drift marks:
    nothing else names an order)."""
    return {n: (e.upstream if (e := config.get(n)) is not None else None) for n in names}
