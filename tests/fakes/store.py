"""An in-memory ManifestStore: the protocol's semantics without a database, for use-case tests.

It mirrors :class:`pipelinelib.store.sql.SqlStore` (this repository, pipelinelib/store/sql.py):
the same validation, the same messages, immutable manifests compared by content, display names
kept beside the manifest, deployments checked by :func:`pipelinelib.ledger.check_deployment`.
It is one of the implementations the store contract test runs
(tests/integration/store/test_contract.py), so it cannot drift from the real stores. Pages of
deployments (``deployments``) use the insertion order + 1 as the id, as SqlStore's rows do, and a
record is the manifest without its services.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import attrs

from pipelinelib.errors import (
    ConflictError,
    InvalidInputError,
    LockedError,
    NotFoundError,
    PermissionDeniedError,
)
from pipelinelib.ledger import DeploymentEntry, DeploymentPage, DeploymentRecord
from pipelinelib.model import (
    MAX_TEXT,
    RESULTS,
    Approval,
    ApprovalRequest,
    Choice,
    Lock,
    Manifest,
    ServiceBuild,
    clean_text,
    validate_build_number,
    validate_environment_name,
    validate_job_name,
    validate_service_name,
)
from pipelinelib.promotion import lock_message, rfc3339

MAX_LIMIT = 1000  # SqlStore's MAX_LIMIT


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be an integer between 1 and {MAX_LIMIT}")


@attrs.define
class _Record:
    manifest: Manifest  # as published: immutable
    order: int  # insertion order (SqlStore's id)
    recorded_at: datetime
    name: str | None = None  # set-display-name, kept beside the manifest

    @property
    def shown(self) -> Manifest:
        if self.name is None or self.name == self.manifest.display_name:
            return self.manifest
        return attrs.evolve(self.manifest, display_name=self.name)


class MemoryStore:
    """Implements :class:`pipelinelib.store.ManifestStore`; ``calls`` records what was asked."""

    def __init__(self, manifests: list[Manifest] | None = None) -> None:
        self.records: dict[tuple[str, int], _Record] = {}
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.closed = False
        self.held_locks: list[Lock] = []  # locks a test plants as they are
        self._locks: dict[str, Lock] = {}
        self._requests: dict[tuple[str, str, int], ApprovalRequest] = {}
        self.opened: list[tuple[str | None, str | None, str]] = []  # set by CLI test fixtures
        for manifest in manifests or []:
            self.publish(manifest)
        self.calls.clear()

    @property
    def builds(self) -> dict[tuple[str, int], Manifest]:
        """Every build as listings show it."""
        return {key: record.shown for key, record in self.records.items()}

    def publish(self, manifest: Manifest) -> bool:
        self.calls.append(("publish", (manifest.job, manifest.number)))
        if manifest.is_deployment:
            from pipelinelib.ledger import check_deployment

            check_deployment(manifest, self.get_build, self.find_service_build)
        key = (manifest.job, manifest.number)
        existing = self.records.get(key)
        if existing is not None:
            if existing.manifest.to_dict() != manifest.to_dict():
                raise ConflictError(
                    f"{manifest.job} #{manifest.number} is already recorded with different "
                    "content; manifests are immutable"
                )
            return False
        self.records[key] = _Record(manifest, len(self.records), datetime.now(UTC))
        return True

    def get_build(self, job: str, number: int) -> Manifest:
        self.calls.append(("get_build", (job, number)))
        validate_job_name(job)
        validate_build_number(number)
        try:
            return self.records[(job, number)].shown
        except KeyError:
            raise NotFoundError(f"no build {job} #{number} in the store") from None

    def list_builds(
        self, job: str, *, result: str | None = "SUCCESS", limit: int = 100
    ) -> list[Manifest]:
        self.calls.append(("list_builds", (job, result, limit)))
        validate_job_name(job)
        _check_limit(limit)
        if result is not None and result not in RESULTS:
            raise InvalidInputError(f"result must be one of {', '.join(RESULTS)}, not {result!r}")
        found = [
            r.shown
            for (j, _), r in self.records.items()
            if j == job and (result is None or r.manifest.result == result)
        ]
        return sorted(found, key=lambda m: m.number, reverse=True)[:limit]

    def choices(self, job: str, *, limit: int = 100) -> list[Choice]:
        self.calls.append(("choices", (job, limit)))
        return [m.choice for m in self.list_builds(job, limit=limit)]

    def choice_lines(self, job: str, *, limit: int = 100) -> list[str]:
        return [str(c) for c in self.choices(job, limit=limit)]

    def set_display_name(self, job: str, number: int, name: str) -> None:
        self.calls.append(("set_display_name", (job, number, name)))
        validate_job_name(job)
        validate_build_number(number)
        if not isinstance(name, str):
            raise InvalidInputError("display name must be a string")
        if len(name) > MAX_TEXT:
            raise InvalidInputError(f"display name is longer than {MAX_TEXT} characters")
        try:
            record = self.records[(job, number)]
        except KeyError:
            raise NotFoundError(f"no build {job} #{number} in the store") from None
        record.name = clean_text(name)

    def find_service_build(self, service: str, build: int) -> ServiceBuild:
        validate_service_name(service)
        validate_build_number(build)
        candidates = sorted(
            (
                r
                for r in self.records.values()
                if r.manifest.result == "SUCCESS"
                and service in r.manifest.services
                and r.manifest.services[service].build == build
            ),
            key=lambda r: (r.manifest.environment is not None, r.order),
        )
        if not candidates:
            raise NotFoundError(f"no successful build {build} of service {service} in the store")
        return candidates[0].manifest.services[service]

    def service_builds_between(
        self, service: str, after: int, upto: int, *, limit: int = 100
    ) -> list[ServiceBuild]:
        validate_service_name(service)
        _check_limit(limit)
        found: dict[int, ServiceBuild] = {}
        for record in sorted(self.records.values(), key=lambda r: r.order):
            entry = record.manifest.services.get(service)
            if (
                entry is not None
                and record.manifest.environment is None
                and record.manifest.result == "SUCCESS"
                and after < entry.build <= upto
            ):
                found.setdefault(entry.build, entry)  # the first (earliest) publish wins
        return [found[b] for b in sorted(found, reverse=True)][:limit]

    def service_builds_between_many(
        self, ranges: Mapping[str, tuple[int, int]], *, limit: int = 100
    ) -> dict[str, list[ServiceBuild]]:
        self.calls.append(("service_builds_between_many", (dict(ranges), limit)))
        return {
            name: self.service_builds_between(name, after, upto, limit=limit)
            for name, (after, upto) in ranges.items()
        }

    def deployments(
        self,
        *,
        environment: str | None = None,
        service: str | None = None,
        since: datetime | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> DeploymentPage:
        self.calls.append(("deployments", (environment, service, since, before, limit)))
        if environment is not None:
            validate_environment_name(environment)
        if service is not None:
            validate_service_name(service)
        if before is not None:
            validate_build_number(before)
        _check_limit(limit)
        records = []
        for record in sorted(self.records.values(), key=lambda r: r.order, reverse=True):
            m, record_id = record.shown, record.order + 1
            if m.environment is None or environment not in (None, m.environment):
                continue
            if service is not None and service not in m.services:
                continue
            if (before is not None and record_id >= before) or (
                since is not None and record.recorded_at < since
            ):
                continue
            records.append(
                DeploymentRecord(
                    id=record_id,
                    job=m.job,
                    number=m.number,
                    environment=m.environment,
                    result=m.result,
                    display_name=m.display_name,
                    source=m.source,
                    url=m.url,
                    deployment=m.deployment,
                    service_count=len(m.services),
                    recorded_at=record.recorded_at,
                    service_build=m.services[service].build if service is not None else None,
                )
            )
            if len(records) > limit:
                return DeploymentPage(tuple(records[:limit]), records[limit - 1].id)
        return DeploymentPage(tuple(records), None)

    def environments(self) -> dict[str, Manifest]:
        return {env: e.deployment for env, e in self.environment_entries().items()}

    def environment_entries(self) -> dict[str, DeploymentEntry]:
        newest: dict[str, _Record] = {}
        for record in self.records.values():
            env = record.manifest.environment
            if (
                env
                and record.manifest.is_successful
                and (env not in newest or newest[env].order < record.order)
            ):
                newest[env] = record
        return {env: DeploymentEntry(r.shown, r.recorded_at) for env, r in sorted(newest.items())}

    def history(self, environment: str, *, limit: int = 100) -> list[Manifest]:
        return [e.deployment for e in self.history_entries(environment, limit=limit)]

    def history_entries(self, environment: str, *, limit: int = 100) -> list[DeploymentEntry]:
        validate_environment_name(environment)
        _check_limit(limit)
        found = sorted(
            (r for r in self.records.values() if r.manifest.environment == environment),
            key=lambda r: r.order,
            reverse=True,
        )
        return [DeploymentEntry(r.shown, r.recorded_at) for r in found[:limit]]

    def ping(self) -> None:
        """Always answers: memory does not go away."""

    def check_publish(self, manifest: Manifest) -> bool:
        self.calls.append(("check_publish", (manifest.job, manifest.number)))
        if manifest.is_deployment:
            from pipelinelib.ledger import check_deployment

            check_deployment(manifest, self.get_build, self.find_service_build)
        existing = self.records.get((manifest.job, manifest.number))
        if existing is not None and existing.manifest.to_dict() != manifest.to_dict():
            raise ConflictError(f"{manifest.job} #{manifest.number} exists with other content")
        return existing is None

    # Promotion control, as SqlStore's PromotionControl (pipelinelib/store/control.py) does it
    # without an environments file: one lock per environment with expiry, approval requests
    # whose requester may not approve. The environment rules are the SQL store's alone
    # (tests/integration/store/test_promotion.py).
    def acquire_lock(
        self, environment: str, *, holder: str, reason: str, ttl: timedelta | float = 7200
    ) -> Lock:
        self.calls.append(("acquire_lock", (environment, holder)))
        validate_environment_name(environment)
        now = datetime.now(UTC).replace(microsecond=0)
        seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl)
        if not 1 <= seconds <= 7 * 86400:
            raise InvalidInputError("a lock's ttl must be between 1 second and 7 days")
        current = self._locks.get(environment)
        if current is not None and current.holder != holder and not self._expired(current, now):
            raise LockedError(f"cannot lock: {lock_message(current)}")
        taken = Lock(
            environment, holder, reason, rfc3339(now), rfc3339(now + timedelta(seconds=seconds))
        )
        self._locks[environment] = taken
        return taken

    def release_lock(self, environment: str, *, holder: str, force: bool = False) -> Lock:
        self.calls.append(("release_lock", (environment, holder)))
        current = self._locks.get(environment)
        if current is None:
            raise NotFoundError(f"{environment} is not locked")
        expired = self._expired(current, datetime.now(UTC))
        if current.holder != holder and not force and not expired:
            raise LockedError(f"cannot unlock: {lock_message(current)}")
        del self._locks[environment]
        return attrs.evolve(current, expired=expired)

    def locks(self) -> list[Lock]:
        self.calls.append(("locks", ()))
        now = datetime.now(UTC)
        found = [*self.held_locks, *self._locks.values()]
        return [attrs.evolve(lk, expired=self._expired(lk, now)) for lk in found]

    @staticmethod
    def _expired(lock: Lock, now: datetime) -> bool:
        return datetime.fromisoformat(lock.expires_at) <= now

    def request_approval(
        self,
        environment: str,
        job: str,
        number: int,
        *,
        requested_by: str,
        requested_via: str | None = None,
    ) -> ApprovalRequest:
        self.calls.append(("request_approval", (environment, job, number)))
        key = (environment, job, number)
        existing = self._requests.get(key)
        if existing is not None:
            if existing.requested_by != requested_by:
                raise ConflictError(f"{job}#{number} was requested by {existing.requested_by}")
            return existing
        made = ApprovalRequest(
            environment,
            job,
            number,
            requested_by,
            requested_via,
            rfc3339(datetime.now(UTC)),
        )
        self._requests[key] = made
        return made

    def approve(
        self,
        environment: str,
        job: str,
        number: int,
        *,
        approver: str,
        comment: str | None = None,
    ) -> ApprovalRequest:
        self.calls.append(("approve", (environment, job, number, approver)))
        request = self.approval_request(environment, job, number)
        if approver in (request.requested_by, request.requested_via):
            raise PermissionDeniedError("approving your own request is not allowed")
        if any(a.by == approver for a in request.approvals):
            return request
        approval = Approval(approver, rfc3339(datetime.now(UTC)), comment)
        updated = attrs.evolve(request, approvals=(*request.approvals, approval))
        self._requests[(environment, job, number)] = updated
        return updated

    def approval_request(self, environment: str, job: str, number: int) -> ApprovalRequest:
        self.calls.append(("approval_request", (environment, job, number)))
        found = self._requests.get((environment, job, number))
        if found is None:
            raise NotFoundError(f"no approval request for {job}#{number} in {environment}")
        return found

    def pending_approvals(self, limit: int = 100) -> list[ApprovalRequest]:
        """As PromotionControl.pending_approvals: requests whose deployment is not recorded,
        newest first."""
        self.calls.append(("pending_approvals", (limit,)))
        open_ = [
            r
            for (environment, job, number), r in self._requests.items()
            if not (
                (job, number) in self.records
                and self.records[(job, number)].manifest.environment == environment
            )
        ]
        open_.reverse()  # insertion order is request order
        return open_[: max(1, min(limit, 100))]

    def close(self) -> None:
        self.closed = True
