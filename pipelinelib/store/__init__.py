"""The ManifestStore protocol: what every store (SQL, HTTP) offers the use cases.

Implementations: :mod:`pipelinelib.store.sql` (SQLite default, PostgreSQL to scale out) and
:class:`pipelinelib.client.HttpStore` (the same protocol over the manifest service's API).
Modules that implement it import their heavy dependencies themselves; importing this package
stays cheap so the CLI starts fast.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol, runtime_checkable

from pipelinelib.model import ApprovalRequest, Choice, Lock, Manifest, ServiceBuild


@runtime_checkable
class ManifestStore(Protocol):
    def publish(self, manifest: Manifest) -> bool:
        """Record a build's manifest. True when created, False when an identical one existed.

        Raises ConflictError when job #number exists with different content.
        """

    def check_publish(self, manifest: Manifest) -> bool:
        """Every check of :meth:`publish`, recording nothing: True when it would create."""

    def get_build(self, job: str, number: int) -> Manifest:
        """One build's manifest; NotFoundError when unknown."""

    def list_builds(
        self, job: str, *, result: str | None = "SUCCESS", limit: int = 100
    ) -> list[Manifest]:
        """Newest first; ``result=None`` lists every result."""

    def choices(self, job: str, *, limit: int = 100) -> list[Choice]:
        """``NUMBER-SUBJECT`` of the newest successful builds, newest first."""

    def set_display_name(self, job: str, number: int, name: str) -> None:
        """Record the display name Jenkins shows for a build the store knows.

        The published manifest stays immutable; listings and choices show the newest name.
        NotFoundError when the build is unknown.
        """

    def find_service_build(self, service: str, build: int) -> ServiceBuild:
        """A service's build as its build job published it (for ``--override S=N``)."""

    def environments(self) -> dict[str, Manifest]:
        """The newest successful deployment of each environment."""

    def history(self, environment: str, *, limit: int = 100) -> list[Manifest]:
        """Deployments of one environment, newest first."""

    def service_builds_between(
        self, service: str, after: int, upto: int, *, limit: int = 100
    ) -> list[ServiceBuild]:
        """A service's published builds with ``after < build <= upto``, newest first: the
        commits a promotion brings (``pipelinelib diff``)."""

    # --- promotion control (docs/promotion.md) ---------------------------------------------------

    def acquire_lock(
        self, environment: str, *, holder: str, reason: str, ttl: timedelta | float = ...
    ) -> Lock:
        """Take or extend the environment's lock; LockedError when another holder has it."""

    def release_lock(self, environment: str, *, holder: str, force: bool = False) -> Lock:
        """Release ``holder``'s lock (``force``: anyone's); NotFoundError when not locked."""

    def locks(self) -> list[Lock]:
        """Every lock, expired ones marked."""

    def request_approval(
        self,
        environment: str,
        job: str,
        number: int,
        *,
        requested_by: str,
        requested_via: str | None = None,
    ) -> ApprovalRequest:
        """Record that deploy build ``job #number`` waits for approvals (idempotent)."""

    def approve(
        self, environment: str, job: str, number: int, *, approver: str, comment: str | None = None
    ) -> ApprovalRequest:
        """Record an approval; PermissionDeniedError for the requester's own. Over HTTP the
        service takes the approver from the token's identity."""

    def approval_request(self, environment: str, job: str, number: int) -> ApprovalRequest:
        """The request with its approvals; NotFoundError when none was recorded."""

    def close(self) -> None: ...
