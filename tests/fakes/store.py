"""An in-memory ManifestStore: the protocol's semantics without a database, for CLI tests."""

from __future__ import annotations

import attrs

from pipelinelib.errors import ConflictError, NotFoundError
from pipelinelib.ledger import DeploymentEntry
from pipelinelib.model import Choice, Manifest, ServiceBuild


class MemoryStore:
    """Implements :class:`pipelinelib.store.ManifestStore`; ``calls`` records what was asked."""

    def __init__(self, manifests: list[Manifest] | None = None) -> None:
        self.builds: dict[tuple[str, int], Manifest] = {}
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

    def choice_lines(self, job: str, *, limit: int = 100) -> list[str]:
        return [str(c) for c in self.choices(job, limit=limit)]

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

    def environment_entries(self) -> dict[str, DeploymentEntry]:
        return {env: DeploymentEntry(m) for env, m in self.environments().items()}

    def history_entries(self, environment: str, *, limit: int = 100) -> list[DeploymentEntry]:
        return [DeploymentEntry(m) for m in self.history(environment, limit=limit)]

    def service_builds_between(
        self, service: str, after: int, upto: int, *, limit: int = 100
    ) -> list[ServiceBuild]:
        found = {
            entry.build: entry
            for manifest in self.builds.values()
            if manifest.environment is None and manifest.is_successful
            for entry in [manifest.services.get(service)]
            if entry is not None and after < entry.build <= upto
        }
        return [found[b] for b in sorted(found, reverse=True)][:limit]

    def ping(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True
