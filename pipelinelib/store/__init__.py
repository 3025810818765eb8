"""The ManifestStore protocol: what every store (SQL, HTTP) offers the use cases.

Implementations: :mod:`pipelinelib.store.sql` (SQLite default, PostgreSQL to scale out) and
:class:`pipelinelib.client.HttpStore` (the same protocol over the manifest service's API).
Modules that implement it import their heavy dependencies themselves; importing this package
stays cheap so the CLI starts fast.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pipelinelib.model import Choice, Manifest


@runtime_checkable
class ManifestStore(Protocol):
    def publish(self, manifest: Manifest) -> bool:
        """Record a build's manifest. True when created, False when an identical one existed.

        Raises ConflictError when job #number exists with different content.
        """

    def get_build(self, job: str, number: int) -> Manifest:
        """One build's manifest; NotFoundError when unknown."""

    def list_builds(
        self, job: str, *, result: str | None = "SUCCESS", limit: int = 100
    ) -> list[Manifest]:
        """Newest first; ``result=None`` lists every result."""

    def choices(self, job: str, *, limit: int = 100) -> list[Choice]:
        """``NUMBER-SUBJECT`` of the newest successful builds, newest first."""

    def close(self) -> None: ...
