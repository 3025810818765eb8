"""Promotion control in the SQL store: environment locks, approval requests and approvals.

A mixin of :class:`pipelinelib.store.sql.SqlStore` (kept apart so the ledger's hot file stays
small). Atomicity comes from the database, never from check-then-write:

* a lock is one row per environment (primary key); taking it is one
  ``INSERT ... ON CONFLICT (environment) DO UPDATE ... WHERE expires_at <= now OR holder = me``
  whose ``RETURNING`` says whether we won. Two replicas on PostgreSQL, or 32 threads on SQLite,
  get exactly one winner; an expired lock (a crashed holder's) is taken over by the same
  statement.
* an approval is a row keyed by (request, approver): approving twice is a no-op.
* recording a deployment reads the lock (``FOR UPDATE`` on PostgreSQL) and the approvals in the
  transaction that inserts it, then :func:`pipelinelib.promotion.check_promotion` decides.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pipelinelib.environments import EnvironmentsConfig
from pipelinelib.errors import (
    ConflictError,
    InvalidInputError,
    LockedError,
    NotFoundError,
    PermissionDeniedError,
)
from pipelinelib.model import (
    Approval,
    ApprovalRequest,
    Lock,
    Manifest,
    validate_build_number,
    validate_environment_name,
    validate_holder,
    validate_identity,
    validate_job_name,
    validate_reason,
)
from pipelinelib.promotion import (
    DEFAULT_LOCK_TTL,
    MAX_LOCK_TTL,
    check_environment,
    check_promotion,
    lock_message,
    rfc3339,
)

control_metadata = sa.MetaData()
locks = sa.Table(
    "locks",
    control_metadata,
    sa.Column("environment", sa.String(63), primary_key=True),
    sa.Column("holder", sa.String(300), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)
approval_requests = sa.Table(
    "approval_requests",
    control_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("environment", sa.String(63), nullable=False),
    sa.Column("job", sa.String(255), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("requested_by", sa.String(255), nullable=False),
    sa.Column("requested_via", sa.String(255)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
approvals = sa.Table(
    "approvals",
    control_metadata,
    sa.Column("request_id", sa.Integer, primary_key=True),
    sa.Column("approver", sa.String(255), primary_key=True),
    sa.Column("comment", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


PENDING_LIMIT = 100  # open approval requests listed at most (the board shows them all)


def _approval(row: Any) -> Approval:
    return Approval(by=row.approver, at=rfc3339(_utc(row.created_at)), comment=row.comment)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_ttl(value: timedelta | float | int) -> timedelta:
    """A lock's time to live: a timedelta or seconds, between 1 second and 7 days."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not 1 <= seconds <= MAX_LOCK_TTL.total_seconds():  # NaN fails too
        raise InvalidInputError("a lock's ttl must be between 1 second and 7 days")
    return timedelta(seconds=seconds)


class PromotionControl:
    """Locks and approvals over SQLAlchemy Core (mixed into SqlStore)."""

    engine: Engine
    dialect: str
    environments_config: EnvironmentsConfig
    clock: Callable[[], datetime]
    _insert: Any

    def _write(self) -> AbstractContextManager[Connection]:  # pragma: no cover - SqlStore's
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:  # pragma: no cover - SqlStore's
        raise NotImplementedError

    def _now(self) -> datetime:
        return _utc(self.clock()).replace(microsecond=0)

    def _translating(self, what: str) -> AbstractContextManager[None]:
        from pipelinelib.store.sql import _translate

        return _translate(what)

    # --- locks ---------------------------------------------------------------------------------

    def _lock_of(self, row: Any, now: datetime) -> Lock:
        expires = _utc(row.expires_at)
        return Lock(
            environment=row.environment,
            holder=row.holder,
            reason=row.reason,
            acquired_at=rfc3339(_utc(row.acquired_at)),
            expires_at=rfc3339(expires),
            expired=expires <= now,
        )

    def acquire_lock(
        self,
        environment: str,
        *,
        holder: str,
        reason: str,
        ttl: timedelta | float = DEFAULT_LOCK_TTL,
    ) -> Lock:
        """Take (or extend, for the same holder) the environment's lock; LockedError when
        someone else holds it and it has not expired."""
        validate_environment_name(environment)
        check_environment(self.environments_config, environment)
        holder = validate_holder(holder)
        reason = validate_reason(reason)
        now = self._now()
        expires = now + parse_ttl(ttl)
        statement = self._insert(locks).values(
            environment=environment,
            holder=holder,
            reason=reason,
            acquired_at=now,
            expires_at=expires,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["environment"],
            set_={
                "holder": statement.excluded.holder,
                "reason": statement.excluded.reason,
                "acquired_at": statement.excluded.acquired_at,
                "expires_at": statement.excluded.expires_at,
            },
            where=sa.or_(locks.c.expires_at <= now, locks.c.holder == holder),
        ).returning(locks.c.holder)
        with self._translating("take the lock"), self._write() as conn:
            won = conn.execute(statement).scalar_one_or_none()
            if won is None:
                current = conn.execute(
                    sa.select(locks).where(locks.c.environment == environment)
                ).one()
                raise LockedError(
                    f"cannot lock: {lock_message(self._lock_of(current, now))}",
                    holder=current.holder,
                )
        return Lock(environment, holder, reason, rfc3339(now), rfc3339(expires))

    def release_lock(self, environment: str, *, holder: str, force: bool = False) -> Lock:
        """Release the lock ``holder`` holds (expired or not); ``force`` breaks anyone's.

        NotFoundError when the environment is not locked; LockedError when someone else
        holds it (unexpired) and ``force`` is not given. An expired lock anyone may clear.
        """
        validate_environment_name(environment)
        holder = validate_holder(holder)
        now = self._now()
        with self._translating("release the lock"), self._write() as conn:
            row = conn.execute(
                sa.select(locks).where(locks.c.environment == environment)
            ).one_or_none()
            if row is None:
                raise NotFoundError(f"{environment} is not locked", environment=environment)
            lock = self._lock_of(row, now)
            if row.holder != holder and not force and not lock.expired:
                raise LockedError(
                    f"cannot unlock: {lock_message(lock)}; only the holder can unlock "
                    "(or --force, recorded nowhere but the service log)",
                    holder=row.holder,
                )
            conn.execute(
                sa.delete(locks).where(
                    locks.c.environment == environment, locks.c.holder == row.holder
                )
            )
        return lock

    def locks(self) -> list[Lock]:
        """Every lock row, expired ones marked (an expired lock is free to take)."""
        now = self._now()
        with self._translating("list the locks"), self._read() as conn:
            rows = conn.execute(sa.select(locks).order_by(locks.c.environment)).all()
        return [self._lock_of(row, now) for row in rows]

    # --- approvals -----------------------------------------------------------------------------

    def _request_row(self, conn: Connection, environment: str, job: str, number: int) -> Any:
        return conn.execute(
            sa.select(approval_requests).where(
                approval_requests.c.environment == environment,
                approval_requests.c.job == job,
                approval_requests.c.number == number,
            )
        ).one_or_none()

    def _request_of(self, conn: Connection, row: Any) -> ApprovalRequest:
        rows = conn.execute(
            sa.select(approvals)
            .where(approvals.c.request_id == row.id)
            .order_by(approvals.c.created_at, approvals.c.approver)
        ).all()
        return self._request_from(row, [_approval(r) for r in rows])

    def _request_from(self, row: Any, given: list[Approval]) -> ApprovalRequest:
        env = self.environments_config.get(row.environment)
        return ApprovalRequest(
            environment=row.environment,
            job=row.job,
            number=row.number,
            requested_by=row.requested_by,
            requested_via=row.requested_via,
            requested_at=rfc3339(_utc(row.created_at)),
            required=env.approvals if env is not None and env.protected else 0,
            approvals=given,
        )

    def request_approval(
        self,
        environment: str,
        job: str,
        number: int,
        *,
        requested_by: str,
        requested_via: str | None = None,
    ) -> ApprovalRequest:
        """Record that deploy build ``job #number`` asks to deploy to a protected environment.

        Idempotent for the same requester; ConflictError when another requester is recorded.
        """
        validate_environment_name(environment)
        validate_job_name(job)
        number = validate_build_number(number)
        requested_by = validate_identity(requested_by, "requester")
        env = (
            self.environments_config.require(environment)
            if self.environments_config.declared
            else None
        )
        if env is not None and not (env.protected and env.approvals):
            raise InvalidInputError(f"{environment} is not protected: it needs no approvals")
        values = {
            "environment": environment,
            "job": job,
            "number": number,
            "requested_by": requested_by,
            "requested_via": requested_via,
            "created_at": self._now(),
        }
        statement = (
            self._insert(approval_requests)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["environment", "job", "number"])
        )
        with self._translating("record the approval request"), self._write() as conn:
            conn.execute(statement)
            row = self._request_row(conn, environment, job, number)
            if row.requested_by != requested_by:
                raise ConflictError(
                    f"{job}#{number} in {environment} was requested by {row.requested_by}, "
                    f"not {requested_by}"
                )
            return self._request_of(conn, row)

    def approve(
        self,
        environment: str,
        job: str,
        number: int,
        *,
        approver: str,
        comment: str | None = None,
    ) -> ApprovalRequest:
        """Record ``approver``'s approval; PermissionDeniedError for the requester's own."""
        validate_environment_name(environment)
        check_environment(self.environments_config, environment)
        validate_job_name(job)
        number = validate_build_number(number)
        approver = validate_identity(approver, "approver")
        if comment is not None:
            comment = validate_reason(comment, "comment")
        with self._translating("record the approval"), self._write() as conn:
            row = self._request_row(conn, environment, job, number)
            if row is None:
                raise NotFoundError(
                    f"no approval request for {job}#{number} in {environment}: the deploy job "
                    "requests it (`pipelinelib request-approval`) before it waits for approvals"
                )
            if approver in (row.requested_by, row.requested_via):
                raise PermissionDeniedError(
                    f"{approver} requested {job}#{number}; approving your own request is not "
                    "allowed, ask someone else"
                )
            statement = self._insert(approvals).values(
                request_id=row.id, approver=approver, comment=comment, created_at=self._now()
            )
            conn.execute(
                statement.on_conflict_do_nothing(index_elements=["request_id", "approver"])
            )
            return self._request_of(conn, row)

    def approval_request(self, environment: str, job: str, number: int) -> ApprovalRequest:
        """The request with its approvals; NotFoundError when none was recorded."""
        validate_environment_name(environment)
        validate_job_name(job)
        number = validate_build_number(number)
        with self._translating("read the approvals"), self._write() as conn:
            row = self._request_row(conn, environment, job, number)
            if row is None:
                raise NotFoundError(f"no approval request for {job}#{number} in {environment}")
            return self._request_of(conn, row)

    def pending_approvals(self, limit: int = PENDING_LIMIT) -> list[ApprovalRequest]:
        """Open approval requests, newest first (at most ``limit``): requests whose deployment
        (the deploy build ``job #number`` to ``environment``) is not recorded yet. Two queries:
        the requests, then their approvals."""
        from pipelinelib.store.sql import builds

        recorded = sa.exists().where(
            builds.c.job == approval_requests.c.job,
            builds.c.number == approval_requests.c.number,
            builds.c.environment == approval_requests.c.environment,
        )
        query = (
            sa.select(approval_requests)
            .where(~recorded)
            .order_by(approval_requests.c.created_at.desc(), approval_requests.c.id.desc())
            .limit(max(1, min(limit, PENDING_LIMIT)))
        )
        with self._translating("list the approval requests"), self._read() as conn:
            rows = conn.execute(query).all()
            given = conn.execute(
                sa.select(approvals)
                .where(approvals.c.request_id.in_([r.id for r in rows]))
                .order_by(approvals.c.created_at, approvals.c.approver)
            ).all()
        by_request: dict[int, list[Approval]] = {}
        for r in given:
            by_request.setdefault(r.request_id, []).append(_approval(r))
        return [self._request_from(row, by_request.get(row.id, [])) for row in rows]

    # --- recording a deployment ------------------------------------------------------------------

    def _check_promotion_on(self, conn: Connection, manifest: Manifest) -> None:
        """Called by SqlStore.publish inside the write transaction of a new deployment."""
        if not manifest.is_deployment:
            return
        assert manifest.environment is not None
        now = self._now()
        query = sa.select(locks).where(locks.c.environment == manifest.environment)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).one_or_none()
        lock = self._lock_of(row, now) if row is not None else None
        request_row = self._request_row(conn, manifest.environment, manifest.job, manifest.number)
        request = self._request_of(conn, request_row) if request_row is not None else None
        get_build: Callable[[str, int], Manifest] = self.get_build  # type: ignore[attr-defined]
        check_promotion(
            manifest,
            self.environments_config,
            get_build=get_build,
            lock=lock,
            request=request,
            now=now,
        )
