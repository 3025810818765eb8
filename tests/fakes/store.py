"""An in-memory ManifestStore: the protocol's semantics without a database, for CLI tests.

It mirrors :class:`pipelinelib.store.ManifestStore` (pipelinelib/store/__init__.py) and the SQL
store's behaviour: ids are the order of publishing, a deployment record is the manifest without
its services, pages are newest first with the last id as the cursor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import attrs

from pipelinelib.errors import ConflictError, InvalidInputError, NotFoundError
from pipelinelib.ledger import DeploymentPage, DeploymentRecord
from pipelinelib.model import Choice, Manifest, ServiceBuild


class MemoryStore:
    """Implements :class:`pipelinelib.store.ManifestStore`; ``calls`` records what was asked."""

    def __init__(self, manifests: list[Manifest] | None = None) -> None:
        self.builds: dict[tuple[str, int], Manifest] = {}
        self.ids: dict[tuple[str, int], int] = {}
        self.recorded: dict[tuple[str, int], datetime] = {}
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.closed = False
        self.opened: list[tuple[str | None, str | None, str]] = []  # set by CLI test fixtures
        for manifest in manifests or []:
            self.publish(manifest)
        self.calls.clear()

    def publish(self, manifest: Manifest) -> bool:
        self.calls.append(("publish", (manifest.job, manifest.number)))
        key = (manifest.job, manifest.number)
        existing = self.builds.get(key)
        if existing is not None:
            if existing != manifest:
                raise ConflictError(f"{manifest.job} #{manifest.number} exists with other content")
            return False
        self.builds[key] = manifest
        self.ids[key] = len(self.ids) + 1
        self.recorded[key] = datetime.now(UTC)
        return True

    def get_build(self, job: str, number: int) -> Manifest:
        self.calls.append(("get_build", (job, number)))
        try:
            return self.builds[(job, number)]
        except KeyError:
            raise NotFoundError(f"{job} #{number} is not known") from None

    def list_builds(
        self, job: str, *, result: str | None = "SUCCESS", limit: int = 100
    ) -> list[Manifest]:
        self.calls.append(("list_builds", (job, result, limit)))
        found = [
            m
            for (j, _), m in self.builds.items()
            if j == job and (result is None or m.result == result)
        ]
        return sorted(found, key=lambda m: m.number, reverse=True)[:limit]

    def choices(self, job: str, *, limit: int = 100) -> list[Choice]:
        self.calls.append(("choices", (job, limit)))
        return [m.choice for m in self.list_builds(job, limit=limit)]

    def set_display_name(self, job: str, number: int, name: str) -> None:
        self.calls.append(("set_display_name", (job, number, name)))
        try:
            manifest = self.builds[(job, number)]
        except KeyError:
            raise NotFoundError(f"{job} #{number} is not known") from None
        self.builds[(job, number)] = attrs.evolve(manifest, display_name=name)

    def find_service_build(self, service: str, build: int) -> ServiceBuild:
        for manifest in self.builds.values():
            entry = manifest.services.get(service)
            if entry is not None and entry.build == build and manifest.environment is None:
                return entry
        raise NotFoundError(f"{service} build {build} is not known")

    def environments(self) -> dict[str, Manifest]:
        newest: dict[str, Manifest] = {}
        for manifest in self.builds.values():
            env = manifest.environment
            if (
                env
                and manifest.is_successful
                and (env not in newest or newest[env].number < manifest.number)
            ):
                newest[env] = manifest
        return newest

    def history(self, environment: str, *, limit: int = 100) -> list[Manifest]:
        found = [m for m in self.builds.values() if m.environment == environment]
        return sorted(found, key=lambda m: m.number, reverse=True)[:limit]

    def service_builds_between(
        self, service: str, after: int, upto: int, *, limit: int = 100
    ) -> list[ServiceBuild]:
        found: dict[int, ServiceBuild] = {}
        for key in sorted(self.ids, key=self.ids.__getitem__):
            manifest = self.builds[key]
            entry = manifest.services.get(service)
            if (
                entry is not None
                and manifest.environment is None
                and manifest.is_successful
                and after < entry.build <= upto
            ):
                found.setdefault(entry.build, entry)
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
        if not 1 <= limit <= 1000:
            raise InvalidInputError("limit must be an integer between 1 and 1000")
        records = []
        for key in sorted(self.ids, key=self.ids.__getitem__, reverse=True):
            m, build_id = self.builds[key], self.ids[key]
            if m.environment is None or (environment is not None and m.environment != environment):
                continue
            if service is not None and service not in m.services:
                continue
            if before is not None and build_id >= before:
                continue
            if since is not None and self.recorded[key] < since:
                continue
            records.append(
                DeploymentRecord(
                    id=build_id,
                    job=m.job,
                    number=m.number,
                    environment=m.environment,
                    result=m.result,
                    display_name=m.display_name,
                    source=m.source,
                    url=m.url,
                    deployment=m.deployment,
                    service_count=len(m.services),
                    recorded_at=self.recorded[key],
                    service_build=m.services[service].build if service is not None else None,
                )
            )
            if len(records) > limit:
                break
        if len(records) > limit:
            return DeploymentPage(tuple(records[:limit]), records[limit - 1].id)
        return DeploymentPage(tuple(records), None)

    def close(self) -> None:
        self.closed = True
