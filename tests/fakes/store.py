"""An in-memory ManifestStore: the protocol's semantics without a database, for use-case tests.

It mirrors :class:`pipelinelib.store.sql.SqlStore` (this repository, pipelinelib/store/sql.py):
the same validation, the same messages, immutable manifests compared by content, display names
kept beside the manifest, deployments checked by :func:`pipelinelib.ledger.check_deployment`.
It is one of the implementations the store contract test runs
(tests/integration/store/test_contract.py), so it cannot drift from the real stores.
"""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

from pipelinelib.errors import ConflictError, InvalidInputError, NotFoundError
from pipelinelib.ledger import DeploymentEntry
from pipelinelib.model import (
    MAX_TEXT,
    RESULTS,
    Choice,
    Manifest,
    ServiceBuild,
    clean_text,
    validate_build_number,
    validate_environment_name,
    validate_job_name,
    validate_service_name,
)

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

    def close(self) -> None:
        self.closed = True
