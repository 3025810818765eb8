"""The ManifestStore protocol: what every store (SQL, HTTP) offers the use cases.

Implementations: :mod:`pipelinelib.store.sql` (SQLite default, PostgreSQL to scale out) and
:class:`pipelinelib.store.http.HttpStore` (the same protocol over the manifest service's API).
:func:`open_store` is the one way the CLI, the service and the demo get a store. Modules that
implement it import their heavy dependencies themselves; importing this package stays cheap so
the CLI starts fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pipelinelib.config import DEFAULT_DB
from pipelinelib.errors import NotFoundError, StoreUnavailableError
from pipelinelib.model import ApprovalRequest, Choice, Lock, Manifest, ServiceBuild

if TYPE_CHECKING:
    from pipelinelib.environments import EnvironmentsConfig
    from pipelinelib.ledger import DeploymentEntry, DeploymentPage


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

    def choice_lines(self, job: str, *, limit: int = 100) -> list[str]:
        """``[str(c) for c in choices(job)]``; a store may answer it without building models
        (the service's hottest route, ``GET .../choices``)."""

    def set_display_name(self, job: str, number: int, name: str) -> None:
        """Record the display name Jenkins shows for a build the store knows.

        The published manifest stays immutable; listings and choices show the newest name.
        NotFoundError when the build is unknown.
        """

    def find_service_build(self, service: str, build: int) -> ServiceBuild:
        """A service's build as its build job published it (for ``--override S=N``)."""

    def environments(self) -> dict[str, Manifest]:
        """The newest successful deployment of each environment."""

    def environment_entries(self) -> dict[str, DeploymentEntry]:
        """:meth:`environments` with the time each deployment was recorded (the board)."""

    def history(self, environment: str, *, limit: int = 100) -> list[Manifest]:
        """Deployments of one environment, newest first."""

    def history_entries(self, environment: str, *, limit: int = 100) -> list[DeploymentEntry]:
        """:meth:`history` with the time each deployment was recorded (the board)."""

    def service_builds_between(
        self, service: str, after: int, upto: int, *, limit: int = 100
    ) -> list[ServiceBuild]:
        """A service's published builds with ``after < build <= upto``, newest first: the
        commits a promotion brings (``pipelinelib diff``)."""

    def service_builds_between_many(
        self, ranges: Mapping[str, tuple[int, int]], *, limit: int = 100
    ) -> dict[str, list[ServiceBuild]]:
        """:meth:`service_builds_between` for many services at once, ``{service: (after,
        upto)}`` -> ``{service: builds}``: one query whatever the number of services."""

    def deployments(
        self,
        *,
        environment: str | None = None,
        service: str | None = None,
        since: datetime | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> DeploymentPage:
        """A page of deployments (every result), newest first, without their services.

        Filters: one environment; deployments holding ``service`` (each record then carries that
        service's build); recorded at or after ``since`` (timezone-aware). ``before`` is the
        cursor a previous page returned as ``next_before``; ``limit`` 1..1000. The cost of a
        page does not depend on how much history the store holds.
        """

    def ping(self) -> None:
        """Return when the store answers; StoreUnavailableError (or RemoteServiceError) if not."""

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

    def pending_approvals(self, limit: int = 100) -> list[ApprovalRequest]:
        """Open approval requests (their deployment not recorded yet), newest first, at most
        ``limit`` (1..100)."""

    def close(self) -> None: ...


def sqlite_file(db: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL (None for other databases and in-memory SQLite)."""
    prefix = "sqlite:///"
    if not db.startswith(prefix):
        return None
    path = db[len(prefix) :].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def require_local_store(db: str, what: str = "a local store (--db; or pass --server)") -> None:
    """MissingExtraError unless the extras a local store at ``db`` needs are installed."""
    from pipelinelib import _extras

    _extras.require("store", what)
    if db.startswith(("postgresql", "postgres:")):
        _extras.require("postgres", "a PostgreSQL store")


def open_store(
    *,
    server: str | None = None,
    token: str | None = None,
    db: str | None = None,
    reading: bool = False,
    environments: EnvironmentsConfig | None = None,
    read_only: bool = False,
) -> ManifestStore:
    """The store the CLI, the service and the demo use; the caller closes it.

    ``server`` (a manifest service base URL) wins: an :class:`~pipelinelib.store.http.HttpStore`
    with ``token`` for writes. Otherwise the SQL store at ``db``, a SQLAlchemy URL
    (``sqlite:///PATH`` or ``postgresql://USER@HOST/DB``; default ``PIPELINELIB_DB``'s default,
    ``sqlite:///.pipelinelib/pipelinelib.db``), migrated to the newest schema.

    ``read_only`` (status, diff, list-builds, import-artifacts): a SQLite store that does not
    exist is a NotFoundError naming where it was looked for; a read never creates a store.
    MissingExtraError (naming the pip command) when a local store's extra is not installed;
    StoreUnavailableError when the store's libraries are broken. ``reading``: the caller only
    reads environments and diffs, so a current local SQLite file is read through :mod:`sqlite3`
    without SQLAlchemy or any extra (:mod:`pipelinelib.store.sqlite_reader`).
    ``environments`` (the declared environments) turn on the promotion rules of a SQL store;
    a service enforces its own.
    """
    local = sqlite_file(db or DEFAULT_DB) if not server else None
    if read_only and local is not None and not local.exists():
        require_local_store(db or DEFAULT_DB)  # a missing extra is the first thing to fix
        raise NotFoundError(
            f"no store at {local} (resolved from {os.getcwd()}): nothing has been recorded "
            "here. Run this where publish-artifact/record-deployment ran (after `make demo`: "
            "cd demo-workdir), or pass --db URL or --server URL"
        )
    try:
        if server:
            from pipelinelib.store.http import HttpStore

            return HttpStore(server, token=token)
        url = db or DEFAULT_DB
        if reading:
            from pipelinelib.store.sqlite_reader import current_reader

            reader = current_reader(url)
            if reader is not None:
                return reader
        require_local_store(url)
        from pipelinelib.store.sql import SqlStore

        return SqlStore.from_url(url, environments=environments)
    except ImportError as exc:  # pragma: no cover - only when the package is installed partially
        raise StoreUnavailableError(
            f"the store is not available in this installation: {exc}"
        ) from exc
