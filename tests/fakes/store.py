"""An in-memory ManifestStore: the protocol's semantics without a database, for CLI tests."""

from __future__ import annotations

import attrs

from pipelinelib.errors import ConflictError, NotFoundError
from pipelinelib.model import ApprovalRequest, Choice, Lock, Manifest, ServiceBuild


class MemoryStore:
    """Implements :class:`pipelinelib.store.ManifestStore`; ``calls`` records what was asked."""

    def __init__(self, manifests: list[Manifest] | None = None) -> None:
        self.builds: dict[tuple[str, int], Manifest] = {}
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.closed = False
        self.held_locks: list[Lock] = []
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

    def check_publish(self, manifest: Manifest) -> bool:
        self.calls.append(("check_publish", (manifest.job, manifest.number)))
        existing = self.builds.get((manifest.job, manifest.number))
        if existing is not None and existing != manifest:
            raise ConflictError(f"{manifest.job} #{manifest.number} exists with other content")
        return existing is None

    # Promotion control: no locks and no approval requests unless a test adds them; the rules
    # themselves are the SQL store's (tests/integration/store/test_promotion.py).
    def locks(self) -> list[Lock]:
        self.calls.append(("locks", ()))
        return list(self.held_locks)

    def approval_request(self, environment: str, job: str, number: int) -> ApprovalRequest:
        self.calls.append(("approval_request", (environment, job, number)))
        raise NotFoundError(f"no approval request for {job}#{number} in {environment}")

    def close(self) -> None:
        self.closed = True
