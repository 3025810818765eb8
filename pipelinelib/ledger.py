"""The environments ledger: what is where, and what a promotion would change.

Pure functions over manifests; the store supplies them and, when it knows them, the service builds
between two builds (the commits a promotion brings).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from pipelinelib.errors import DeploymentRefusedError, NotFoundError
from pipelinelib.model import DeploymentInfo, Manifest, ServiceBuild, SourceRef, subject_of

BuildsBetween = Callable[[str, int, int], list[ServiceBuild]]
# {service: (after, upto)} -> {service: builds with after < build <= upto, newest first}
BuildsBetweenMany = Callable[[Mapping[str, tuple[int, int]]], Mapping[str, list[ServiceBuild]]]
GetBuild = Callable[[str, int], Manifest]
FindServiceBuild = Callable[[str, int], ServiceBuild]


def check_deployment(
    deployment: Manifest, get_build: GetBuild, find_service_build: FindServiceBuild
) -> None:
    """Refuse a deployment that is not exactly what its source produced.

    Promotion copies a manifest unchanged: every service must equal the source build's entry,
    except the services declared as overrides at import, which must each equal a service build
    that was published. A deployment without a source (deploy-test importing the newest build of
    each service job) must consist of published service builds only. The source must exist and
    have succeeded. The store calls this before it records a deployment, so nothing is recorded
    when it raises.
    """
    where = f"{deployment.job} #{deployment.number} ({deployment.environment})"
    overrides = set(deployment.deployment.overrides) if deployment.deployment else set()
    must_be_published = set(overrides)
    if deployment.source is not None:
        ref = deployment.source
        try:
            source = get_build(ref.job, ref.number)
        except NotFoundError:
            raise DeploymentRefusedError(
                f"refusing {where}: its source {ref.job} #{ref.number} is not recorded"
            ) from None
        if not source.is_successful:
            raise DeploymentRefusedError(
                f"refusing {where}: its source {ref.job} #{ref.number} is {source.result}; "
                "only successful builds can be promoted"
            )
        for name in sorted(set(source.services) | set(deployment.services)):
            if name in overrides:
                continue
            ours, theirs = deployment.services.get(name), source.services.get(name)
            if ours is None:
                raise DeploymentRefusedError(
                    f"refusing {where}: service {name} of {ref.job} #{ref.number} is missing"
                )
            if theirs is None:
                raise DeploymentRefusedError(
                    f"refusing {where}: service {name} is not in {ref.job} #{ref.number} "
                    "and was not declared as an override"
                )
            if ours != theirs:
                raise DeploymentRefusedError(
                    f"refusing {where}: service {name} differs from {ref.job} #{ref.number} "
                    f"(build {ours.build} vs {theirs.build}) and was not declared as an override"
                )
    else:
        must_be_published |= set(deployment.services)
    for name in sorted(must_be_published):
        entry = deployment.services.get(name)
        if entry is None:
            raise DeploymentRefusedError(f"refusing {where}: override {name} has no service entry")
        try:
            published = find_service_build(name, entry.build)
        except NotFoundError:
            raise DeploymentRefusedError(
                f"refusing {where}: {name} build {entry.build} was never published"
            ) from None
        if published != entry:
            raise DeploymentRefusedError(
                f"refusing {where}: {name} build {entry.build} differs from what its build "
                "job published (image, digest or commit)"
            )


def order_environments(names: Iterable[str], declared: Sequence[str] = ()) -> list[str]:
    """``declared`` (the environments file's promotion order) first; others alphabetically."""
    rank = {name: i for i, name in enumerate(declared)}
    return sorted(set(names), key=lambda n: (rank.get(n, len(rank)), n))


@attrs.frozen
class ServiceChange:
    service: str
    from_build: ServiceBuild | None
    to_build: ServiceBuild | None
    commits: tuple[ServiceBuild, ...] = ()

    @property
    def change(self) -> str:
        """``same``, ``upgrade``, ``downgrade``, ``rebuild``, ``added`` or ``removed``.

        Seen from the target: promoting FROM to TO *adds* a service TO lacks and *removes* one only
        TO has (the promoted manifest replaces TO's whole set).
        """
        a, b = self.from_build, self.to_build
        if a is None:
            return "removed"
        if b is None:
            return "added"
        if (a.build, a.image, a.digest) == (b.build, b.image, b.digest):
            return "same"
        if a.build > b.build:
            return "upgrade"
        if a.build < b.build:
            return "downgrade"
        return "rebuild"

    @property
    def is_changed(self) -> bool:
        return self.change != "same"

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "from": self.from_build.to_dict() if self.from_build else None,
            "to": self.to_build.to_dict() if self.to_build else None,
            "change": self.change,
            "changed": self.is_changed,
            "commits": [
                {"build": c.build, "commit": c.commit, "subject": c.subject} for c in self.commits
            ],
        }


@attrs.frozen
class EnvironmentDiff:
    from_environment: str
    to_environment: str
    from_deployment: Manifest | None
    to_deployment: Manifest | None
    services: tuple[ServiceChange, ...]

    @property
    def changed(self) -> list[ServiceChange]:
        return [s for s in self.services if s.is_changed]

    @property
    def is_noop(self) -> bool:
        return not self.changed

    def to_dict(self) -> dict[str, Any]:
        def ref(m: Manifest | None) -> dict[str, Any] | None:
            return {"job": m.job, "number": m.number, "subject": m.subject} if m else None

        return {
            "from": self.from_environment,
            "to": self.to_environment,
            "from_deployment": ref(self.from_deployment),
            "to_deployment": ref(self.to_deployment),
            "changes": len(self.changed),
            "services": [s.to_dict() for s in self.services],
        }


def diff_environments(
    from_environment: str,
    from_deployment: Manifest | None,
    to_environment: str,
    to_deployment: Manifest | None,
    builds_between: BuildsBetweenMany | None = None,
) -> EnvironmentDiff:
    """Per service: the build in each environment and what promoting FROM to TO brings.

    ``builds_between({service: (low, high)})`` returns, per service, its builds with ``low <
    build <= high``, newest first, when the store knows them: the commit subjects of the
    upgrades. It is called once for all upgraded services (one store query, not one per
    service: a diff of 1,000 services costs what a diff of 10 does).
    """
    a = dict(from_deployment.services) if from_deployment else {}
    b = dict(to_deployment.services) if to_deployment else {}
    changes = [ServiceChange(name, a.get(name), b.get(name)) for name in sorted(set(a) | set(b))]
    ranges = {
        c.service: (c.to_build.build, c.from_build.build)
        for c in changes
        if c.change == "upgrade" and c.from_build is not None and c.to_build is not None
    }
    if builds_between is not None and ranges:
        found = builds_between(ranges)
        changes = [
            attrs.evolve(c, commits=tuple(found.get(c.service, ()))) if c.service in ranges else c
            for c in changes
        ]
    return EnvironmentDiff(
        from_environment, to_environment, from_deployment, to_deployment, tuple(changes)
    )


def builds_between_each(one: BuildsBetween) -> BuildsBetweenMany:
    """A :data:`BuildsBetweenMany` from a per-service lookup (for stores without a batch)."""

    def many(ranges: Mapping[str, tuple[int, int]]) -> dict[str, list[ServiceBuild]]:
        return {name: one(name, low, high) for name, (low, high) in ranges.items()}

    return many


@attrs.frozen
class DeploymentEntry:
    """A deployment with the time the store recorded it (not part of the immutable manifest)."""

    deployment: Manifest
    recorded_at: datetime | None = None

    @property
    def outcome(self) -> str:
        """What people must see first: ``SUCCESS``, or why not (see :func:`deployment_outcome`)."""
        return deployment_outcome(self.deployment)


def deployment_outcome(deployment: Manifest) -> str:
    """``SUCCESS`` only for a successful deploy build whose ECS rollout (when recorded) completed.

    Otherwise the build's result (``FAILURE``, ``ABORTED``...), or the worst rollout state:
    ``ROLLED_BACK`` before ``FAILED`` before ``TIMED_OUT`` before ``IN_PROGRESS``.
    """
    if not deployment.is_successful:
        return deployment.result
    rollout = deployment.deployment.rollout if deployment.deployment is not None else None
    states = set((rollout or {}).values()) - {"COMPLETED", "UNCHANGED"}  # aws.ecs.ROLLOUT_OK
    for worst in ("ROLLED_BACK", "FAILED", "TIMED_OUT", "IN_PROGRESS"):
        if worst in states:
            return worst
    return "SUCCESS"


@attrs.frozen
class DeploymentRecord:
    """One deployment as a page of history shows it: everything but the services themselves.

    ``id`` is the store's sequence number (the cursor of the next page); ``service_count`` how
    many services the manifest holds; ``service_build`` the build of the service a listing was
    filtered by (None otherwise). The whole manifest is ``get_build(job, number)``.
    """

    id: int
    job: str
    number: int
    environment: str
    result: str
    display_name: str | None
    source: SourceRef | None
    url: str | None
    deployment: DeploymentInfo | None
    service_count: int
    recorded_at: datetime | None = None
    service_build: int | None = None

    @property
    def subject(self) -> str:
        return subject_of(self.display_name, self.number)

    @property
    def is_successful(self) -> bool:
        return self.result == "SUCCESS"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job": self.job,
            "number": self.number,
            "environment": self.environment,
            "result": self.result,
            "display_name": self.display_name,
            "subject": self.subject,
            "source": self.source.to_dict() if self.source else None,
            "url": self.url,
            "deployment": self.deployment.to_dict() if self.deployment else None,
            "service_count": self.service_count,
            "recorded_at": self.recorded_at.isoformat() if self.recorded_at else None,
            "service_build": self.service_build,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeploymentRecord:
        """From the service's JSON (``GET /api/v1/deployments``); trusted shape, checked types."""
        source = data.get("source")
        deployment = data.get("deployment")
        recorded = data.get("recorded_at")
        return cls(
            id=int(data["id"]),
            job=str(data["job"]),
            number=int(data["number"]),
            environment=str(data["environment"]),
            result=str(data["result"]),
            display_name=data.get("display_name"),
            source=SourceRef(source["job"], source["number"]) if source else None,
            url=data.get("url"),
            deployment=DeploymentInfo.from_dict(deployment) if deployment else None,
            service_count=int(data["service_count"]),
            recorded_at=datetime.fromisoformat(recorded) if recorded else None,
            service_build=data.get("service_build"),
        )


@attrs.frozen
class DeploymentPage:
    """Deployments newest first; ``next_before`` is the cursor of the next (older) page, None
    on the last page: pass it as ``before=`` to continue."""

    entries: tuple[DeploymentRecord, ...]
    next_before: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployments": [e.to_dict() for e in self.entries],
            "next_before": self.next_before,
        }


@attrs.frozen
class EnvironmentColumn:
    name: str
    deployment: Manifest
    recorded_at: datetime | None = None


@attrs.frozen
class Board:
    environments: tuple[EnvironmentColumn, ...]
    services: tuple[str, ...]


def build_board(current: Mapping[str, DeploymentEntry], declared: Sequence[str] = ()) -> Board:
    columns = tuple(
        EnvironmentColumn(name, current[name].deployment, current[name].recorded_at)
        for name in order_environments(current, declared)
    )
    services = sorted({s for column in columns for s in column.deployment.services})
    return Board(columns, tuple(services))


# --- text renderings shared by the CLI and the demo -----------------------------------------


def status_lines(current: Mapping[str, Manifest]) -> list[str]:
    if not current:
        return ["nothing has been deployed yet"]
    lines = []
    for env, deployed in current.items():
        origin = f" from {deployed.source.job} #{deployed.source.number}" if deployed.source else ""
        lines.append(f"{env}: {deployed.job} #{deployed.number} {deployed.subject}{origin}")
        if not deployed.services:
            lines.append("  (nothing running: destroyed)")
        for name, entry in deployed.services.items():
            lines.append(f"  {name:<20} {entry.build:>6}  {entry.subject}")
    return lines


def diff_lines(diff: EnvironmentDiff) -> list[str]:
    def build(entry: ServiceBuild | None) -> str:
        return str(entry.build) if entry else "-"

    a, b = diff.from_environment, diff.to_environment
    lines = [f"{'service':<20} {a:>10} {b:>10}  change"]
    for change in diff.services:
        lines.append(
            f"{change.service:<20} {build(change.from_build):>10} {build(change.to_build):>10}"
            f"  {change.change}"
        )
        lines.extend(f"{'':<20} {c.build:>10} {'':>10}    {c.subject}" for c in change.commits)
    if diff.is_noop:
        lines.append(f"promoting {a} to {b} changes nothing")
    return lines
