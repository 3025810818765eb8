"""The SQL store: SQLite by default, PostgreSQL (psycopg 3) to run several service replicas.

SQLAlchemy Core only. The schema lives in Alembic migrations shipped in this package and is
brought to the newest revision whenever a store is opened (under a lock, so replicas starting
together migrate once).

Publishing is safe under concurrency without check-then-insert: one transaction inserts with
``ON CONFLICT DO NOTHING`` on the unique (job, number) key and, when nothing was inserted,
re-reads the winner's content hash. Identical content is a no-op; anything else is a conflict.
SQLite write transactions start with ``BEGIN IMMEDIATE`` so two writers never deadlock on a lock
upgrade; the busy timeout makes them queue instead of failing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)

from pipelinelib.environments import EnvironmentsConfig
from pipelinelib.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StoreUnavailableError,
)
from pipelinelib.ledger import DeploymentEntry, DeploymentPage
from pipelinelib.model import (
    MAX_TEXT,
    RESULTS,
    Choice,
    Manifest,
    ServiceBuild,
    clean_text,
    subject_of,
    validate_build_number,
    validate_environment_name,
    validate_job_name,
    validate_service_name,
)
from pipelinelib.store import sql_ledger
from pipelinelib.store.control import PromotionControl
from pipelinelib.store.revision import SCHEMA_HEAD

if TYPE_CHECKING:
    from pipelinelib.insight import LedgerFacts

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
MAX_LIMIT = 1000
_MIGRATION_LOCK_KEY = 0x706C6C6962  # "pllib": the PostgreSQL advisory lock of migrations

metadata = sa.MetaData()
builds = sa.Table(
    "builds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(255), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("result", sa.String(16), nullable=False),
    sa.Column("environment", sa.String(63)),
    sa.Column("source_job", sa.String(255)),
    sa.Column("source_number", sa.Integer),
    sa.Column("subject", sa.String(120), nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("manifest", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("summary", sa.Text),  # the manifest without services (0004_ledger_indexes)
    sa.Column("service_count", sa.Integer),
)
build_services = sa.Table(
    "build_services",
    metadata,
    sa.Column("build_id", sa.Integer, sa.ForeignKey("builds.id"), primary_key=True),
    sa.Column("service", sa.String(63), primary_key=True),
    sa.Column("service_build", sa.Integer, nullable=False),
    sa.Column("image", sa.String(512)),
    sa.Column("digest", sa.String(300)),
    sa.Column("commit", sa.String(64)),
    sa.Column("is_deployment", sa.Boolean, nullable=False, server_default=sa.false()),
)
display_names = sa.Table(
    "display_names",
    metadata,
    sa.Column("build_id", sa.Integer, sa.ForeignKey("builds.id"), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("subject", sa.String(120), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

job_generations = sa.Table(
    "job_generations",
    metadata,
    sa.Column("job", sa.String(255), primary_key=True),
    sa.Column("generation", sa.BigInteger, nullable=False),
)

_with_names = builds.outerjoin(display_names, display_names.c.build_id == builds.c.id)


def canonical_json(manifest: Manifest) -> str:
    """One text per content: sorted keys, ASCII only (NUL stays an escape, safe in PostgreSQL)."""
    return json.dumps(manifest.to_dict(), sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def normalize_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy would pick psycopg2, not installed)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    return url


def _check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be an integer between 1 and {MAX_LIMIT}")
    return limit


@contextmanager
def _translate(what: str) -> Iterator[None]:
    """The one place where SQLAlchemy and driver errors become pipelinelib errors."""
    try:
        yield
    except DBAPIError as exc:
        original = exc.orig if exc.orig is not None else exc
        raise StoreUnavailableError(
            f"the store could not {what}: {type(original).__name__}: {str(original).strip()}"
        ) from exc
    except SQLAlchemyError as exc:
        raise StoreUnavailableError(f"the store could not {what}: {exc}") from exc


def _sqlite_engine(url: URL) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        try:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailableError(
                f"cannot create the directory of the SQLite database {database}: {exc.strerror}"
            ) from exc
    engine = sa.create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        pool_size=8,
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # WAL is a property of the file, set once under the migration lock (SqlStore.migrate):
        # two processes switching a fresh file at the same moment could fail "database is locked".
        # FULL: an acknowledged publish survives power loss, not only a crashed process.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("pipelinelib_single_read"):
            return  # one SELECT is atomic by itself; no BEGIN/ROLLBACK round trips
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("pipelinelib_write") else "BEGIN")

    return engine


class SqlStore(PromotionControl):
    """:class:`~pipelinelib.store.ManifestStore` over SQLAlchemy Core.

    ``environments`` (the declared environments) turns on the promotion rules when recording
    deployments (see :mod:`pipelinelib.store.control`); ``clock`` is for tests of expiry.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        migrate: bool = True,
        environments: EnvironmentsConfig | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.environments_config = environments or EnvironmentsConfig()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.dialect = engine.dialect.name
        self._insert = sqlite_dialect.insert if self.dialect == "sqlite" else pg_dialect.insert
        # Built once: constructing statements per publish costs more than executing them.
        self._insert_build = (
            self._insert(builds)
            .on_conflict_do_nothing(index_elements=["job", "number"])
            .returning(builds.c.id)
        )
        bump = self._insert(job_generations).values(
            job=sa.bindparam("job", type_=sa.String), generation=1
        )
        self._bump_generation = bump.on_conflict_do_update(
            index_elements=["job"], set_={"generation": job_generations.c.generation + 1}
        )
        self._closed = threading.Event()
        if migrate:
            self.ensure_schema()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        migrate: bool = True,
        environments: EnvironmentsConfig | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> SqlStore:
        """Open (and migrate) the database at a SQLAlchemy URL: ``sqlite:///...`` or PostgreSQL."""
        try:
            parsed = make_url(normalize_url(url))
        except ArgumentError as exc:
            raise InvalidInputError(f"invalid database URL: {exc}") from exc
        backend = parsed.get_backend_name()
        try:
            if backend == "sqlite":
                engine = _sqlite_engine(parsed)
            elif backend == "postgresql":
                engine = sa.create_engine(
                    parsed, pool_pre_ping=True, pool_size=8, max_overflow=16, pool_recycle=1800
                )
            else:
                raise InvalidInputError(
                    f"unsupported database {backend!r}: use sqlite:///PATH or postgresql://..."
                )
        except (NoSuchModuleError, ArgumentError) as exc:
            raise InvalidInputError(f"invalid database URL: {exc}") from exc
        try:
            return cls(engine, migrate=migrate, environments=environments, clock=clock)
        except BaseException:
            engine.dispose()
            raise

    # --- schema ------------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Migrate only when the store is behind: an up-to-date store costs one plain query
        (no Alembic import). On a SQLite file the check runs under the migration lock too, so
        processes opening a fresh file together never race to create or convert it."""
        with _translate("migrate its schema"), self._file_lock():
            if self._stored_revision() == SCHEMA_HEAD:
                return
        self.migrate()

    def _stored_revision(self) -> str | None:
        """``alembic_version`` read plainly; None when the table does not exist yet."""
        with self._read() as conn:
            try:
                value = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            except (OperationalError, ProgrammingError):
                return None  # no such table: a new database
        return str(value) if value is not None else None

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        """For a SQLite file: an exclusive ``flock`` on ``<database>.lock`` (processes on one
        host; a SQLite store is never shared across hosts). PostgreSQL uses an advisory lock
        inside the migration transaction instead."""
        database = self.engine.url.database if self.dialect == "sqlite" else None
        if not database or database == ":memory:" or database.startswith("file:"):
            yield
            return
        import fcntl
        import os

        fd = os.open(f"{database}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _set_wal(self) -> None:
        """Switch a SQLite file to WAL (persistent), retrying while another connection reads."""
        import time

        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                with self._read() as conn:  # outside any transaction, as SQLite requires
                    conn.exec_driver_sql("PRAGMA journal_mode = WAL").scalar()
                return
            except OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` in place, holding a lock against other replicas:
        on PostgreSQL an advisory lock, on a SQLite file ``<database>.lock`` (under which the
        file is also switched to WAL) and ``BEGIN IMMEDIATE``."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with _translate("migrate its schema"), self._file_lock():
            if self.dialect == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
                self._set_wal()
            with self._write() as conn:
                if self.dialect == "postgresql":
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK_KEY)))
                config.attributes["connection"] = conn
                command.upgrade(config, revision)

    def revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with _translate("read its schema revision"), self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with (
            self.engine.connect().execution_options(pipelinelib_write=True) as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """For one SELECT: on SQLite it runs without an explicit transaction."""
        with self.engine.connect().execution_options(pipelinelib_single_read=True) as conn:
            yield conn

    # --- the protocol ------------------------------------------------------------------------

    def publish(self, manifest: Manifest) -> bool:
        self._check_deployment(manifest)
        with _translate("record the build"), self._write() as conn:
            if manifest.is_deployment:
                if self._replayed(conn, manifest):
                    return False  # an identical replay is answered before any rule
                self._check_promotion_on(conn, manifest)
            return self._publish_on(conn, manifest)

    def check_publish(self, manifest: Manifest) -> bool:
        """Every check :meth:`publish` makes, recording nothing: True when it would create,
        False when an identical record exists; the same errors publish would raise. Deploy jobs
        run it before they apply (``record-deployment --check``)."""
        self._check_deployment(manifest)
        with _translate("check the build"), self.engine.connect() as conn, conn.begin() as txn:
            try:
                if manifest.is_deployment:
                    if self._replayed(conn, manifest):
                        return False
                    self._check_promotion_on(conn, manifest)
                return (
                    conn.execute(
                        _EXISTING_HASH, {"job": manifest.job, "number": manifest.number}
                    ).scalar_one_or_none()
                    is None
                )
            finally:
                txn.rollback()

    def _replayed(self, conn: Connection, manifest: Manifest) -> bool:
        existing = conn.execute(
            _EXISTING_HASH, {"job": manifest.job, "number": manifest.number}
        ).scalar_one_or_none()
        if existing is None:
            return False
        digest = hashlib.sha256(canonical_json(manifest).encode("ascii")).hexdigest()
        if existing == digest:
            return True
        raise ConflictError(
            f"{manifest.job} #{manifest.number} is already recorded with different "
            "content; manifests are immutable",
            job=manifest.job,
            number=manifest.number,
        )

    def _check_deployment(self, manifest: Manifest) -> None:
        """A deployment must be exactly its source (see ledger.check_deployment). Builds are
        immutable and never deleted, so checking before the write transaction is race-free."""
        if manifest.is_deployment:
            from pipelinelib.ledger import check_deployment

            check_deployment(manifest, self.get_build, self.find_service_build)

    def publish_many(self, manifests: Iterable[Manifest]) -> int:
        """Publish in one transaction (back-filling history); the count of builds created.

        Same rules as :meth:`publish`: one conflict rolls the whole batch back. The promotion
        rules (locks, freeze windows, approvals) are of the moment a deployment happens and are
        not applied to history being back-filled.
        """
        manifests = list(manifests)
        for manifest in manifests:
            self._check_deployment(manifest)
        with _translate("record the builds"), self._write() as conn:
            return sum(self._publish_on(conn, m) for m in manifests)

    def _publish_on(self, conn: Connection, manifest: Manifest) -> bool:
        if manifest.environment is not None and self.dialect == "postgresql":
            # One deployment of an environment at a time, its time read under the lock: the
            # insight facts (store/facts.py) assume recording order is time order.
            from pipelinelib.store.facts import environment_lock_key

            key = environment_lock_key(manifest.environment)
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
        data = manifest.to_dict()
        text = json.dumps(data, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
        summary, service_count = sql_ledger.summary_of(data)
        created_at = datetime.now(UTC)
        digest = hashlib.sha256(text.encode("ascii")).hexdigest()
        values = {
            "job": manifest.job,
            "number": manifest.number,
            "result": manifest.result,
            "environment": manifest.environment,
            "source_job": manifest.source.job if manifest.source else None,
            "source_number": manifest.source.number if manifest.source else None,
            "subject": manifest.subject,
            "url": manifest.url,
            "manifest": text,
            "sha256": digest,
            "created_at": created_at,
            "summary": summary,
            "service_count": service_count,
        }
        build_id = conn.execute(self._insert_build, values).scalar_one_or_none()
        if build_id is None:
            # Someone else's row (committed: the insert waited for it). Same content or not?
            existing = conn.execute(
                _EXISTING_HASH, {"job": manifest.job, "number": manifest.number}
            ).scalar_one()
            if existing == digest:
                return False
            raise ConflictError(
                f"{manifest.job} #{manifest.number} is already recorded with different "
                "content; manifests are immutable",
                job=manifest.job,
                number=manifest.number,
            )
        conn.execute(self._bump_generation, {"job": manifest.job})
        if manifest.services:
            conn.execute(
                build_services.insert(),
                [
                    {
                        "build_id": build_id,
                        "service": s.name,
                        "service_build": s.build,
                        "image": s.image,
                        "digest": s.digest,
                        "commit": s.commit,
                        "is_deployment": manifest.is_deployment,
                    }
                    for s in manifest.services.values()
                ],
            )
        if manifest.environment is not None:
            from pipelinelib.store import facts

            info = manifest.deployment
            facts.record(
                conn,
                build_id=build_id,
                environment=manifest.environment,
                at=created_at,
                result=manifest.result,
                kind=info.kind if info is not None else "deploy",
                rollout=info.rollout if info is not None else None,
                services=[(s.name, s.build, s.committed_at) for s in manifest.services.values()],
            )
        return True

    def get_build(self, job: str, number: int) -> Manifest:
        validate_job_name(job)
        validate_build_number(number)
        query = (
            sa.select(builds.c.manifest, display_names.c.name)
            .select_from(_with_names)
            .where(builds.c.job == job, builds.c.number == number)
        )
        with _translate("read the build"), self._read() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            raise NotFoundError(f"no build {job} #{number} in the store", job=job, number=number)
        return _manifest(row.manifest, row.name)

    def list_builds(
        self, job: str, *, result: str | None = "SUCCESS", limit: int = 100
    ) -> list[Manifest]:
        validate_job_name(job)
        _check_limit(limit)
        query = (
            sa.select(builds.c.manifest, display_names.c.name)
            .select_from(_with_names)
            .where(builds.c.job == job)
            .order_by(builds.c.number.desc())
            .limit(limit)
        )
        if result is not None:
            query = query.where(builds.c.result == _check_result(result))
        with _translate("list builds"), self._read() as conn:
            rows = conn.execute(query).all()
        return [_manifest(row.manifest, row.name) for row in rows]

    def choices(self, job: str, *, limit: int = 100) -> list[Choice]:
        validate_job_name(job)
        _check_limit(limit)
        with _translate("list choices"), self._read() as conn:
            rows = conn.execute(_CHOICES, {"job": job, "limit": limit}).all()
        return [Choice(number, subject) for number, subject in rows]

    def choice_lines(self, job: str, *, limit: int = 100) -> list[str]:
        """``choices`` as the lines the service sends: the hot path, without model objects.

        Subjects are computed at publish time and stored, so this is one index range scan.
        """
        validate_job_name(job)
        _check_limit(limit)
        with _translate("list choices"), self._read() as conn:
            rows = conn.execute(_CHOICES, {"job": job, "limit": limit}).all()
        return [f"{number}-{subject}" for number, subject in rows]

    def job_generation(self, job: str) -> int:
        """How many writes changed the job's choices (0 when none): one primary-key read,
        bumped in the transaction of each new build and display-name change."""
        with _translate("read the job generation"), self._read() as conn:
            value = conn.execute(_GENERATION, {"job": job}).scalar()
        return int(value) if value is not None else 0

    def set_display_name(self, job: str, number: int, name: str) -> None:
        validate_job_name(job)
        validate_build_number(number)
        if not isinstance(name, str):
            raise InvalidInputError("display name must be a string")
        if len(name) > MAX_TEXT:
            raise InvalidInputError(f"display name is longer than {MAX_TEXT} characters")
        name = clean_text(name)
        with _translate("set the display name"), self._write() as conn:
            build_id = conn.execute(
                sa.select(builds.c.id).where(builds.c.job == job, builds.c.number == number)
            ).scalar_one_or_none()
            if build_id is None:
                raise NotFoundError(
                    f"no build {job} #{number} in the store", job=job, number=number
                )
            upsert = self._insert(display_names).values(
                build_id=build_id,
                name=json.dumps(name, ensure_ascii=True),
                subject=subject_of(name, number),
                updated_at=datetime.now(UTC),
            )
            conn.execute(self._bump_generation, {"job": job})
            conn.execute(
                upsert.on_conflict_do_update(
                    index_elements=["build_id"],
                    set_={
                        "name": upsert.excluded.name,
                        "subject": upsert.excluded.subject,
                        "updated_at": upsert.excluded.updated_at,
                    },
                )
            )

    def find_service_build(self, service: str, build: int) -> ServiceBuild:
        """The earliest successful record of the service's build: the build job's own publish."""
        validate_service_name(service)
        validate_build_number(build)
        query = (
            sa.select(builds.c.manifest)
            .select_from(build_services.join(builds, builds.c.id == build_services.c.build_id))
            .where(
                build_services.c.service == service,
                build_services.c.service_build == build,
                builds.c.result == "SUCCESS",
            )
            .order_by(builds.c.environment.is_not(None), builds.c.id)
            .limit(1)
        )
        # The build job's own rows first: an index seek that skips the deployments copying it.
        own = query.where(build_services.c.is_deployment == sa.false())
        with _translate("find the service build"), self._read() as conn:
            text = conn.execute(own).scalar_one_or_none()
            if text is None:
                text = conn.execute(query).scalar_one_or_none()
        if text is None:
            raise NotFoundError(
                f"no successful build {build} of service {service} in the store",
                service=service,
                build=build,
            )
        return _manifest(text, None).services[service]

    def environments(self) -> dict[str, Manifest]:
        return {env: e.deployment for env, e in self.environment_entries().items()}

    def environment_entries(self) -> dict[str, DeploymentEntry]:
        """The newest successful deployment per environment, with when it was recorded.

        Two index walks whose cost does not grow with history (sql_ledger.NEWEST_PER_ENVIRONMENT)
        instead of a GROUP BY over every deployment.
        """
        with _translate("read the environments"), self._read() as conn:
            ids = [i for (i,) in conn.execute(sa.text(sql_ledger.NEWEST_PER_ENVIRONMENT)) if i]
            query = (
                sa.select(
                    builds.c.environment,
                    builds.c.manifest,
                    builds.c.created_at,
                    display_names.c.name,
                )
                .select_from(_with_names)
                .where(builds.c.id.in_(ids))
                .order_by(builds.c.environment)
            )
            rows = conn.execute(query).all() if ids else []
        return {
            row.environment: DeploymentEntry(
                _manifest(row.manifest, row.name), _utc(row.created_at)
            )
            for row in rows
        }

    def environment_names(self) -> list[str]:
        """Every environment ever deployed to (a few index seeks; no manifest read)."""
        with _translate("read the environments"), self._read() as conn:
            return [str(n) for (n,) in conn.execute(sa.text(sql_ledger.ENVIRONMENT_NAMES))]

    def history(self, environment: str, *, limit: int = 100) -> list[Manifest]:
        return [e.deployment for e in self.history_entries(environment, limit=limit)]

    def history_entries(self, environment: str, *, limit: int = 100) -> list[DeploymentEntry]:
        """Deployments of one environment (every result), newest first, with their times."""
        validate_environment_name(environment)
        _check_limit(limit)
        query = (
            sa.select(builds.c.manifest, builds.c.created_at, display_names.c.name)
            .select_from(_with_names)
            .where(builds.c.environment == environment)
            .order_by(builds.c.id.desc())
            .limit(limit)
        )
        with _translate("read the environment history"), self._read() as conn:
            rows = conn.execute(query).all()
        return [DeploymentEntry(_manifest(r.manifest, r.name), _utc(r.created_at)) for r in rows]

    def service_builds_between(
        self, service: str, after: int, upto: int, *, limit: int = 100
    ) -> list[ServiceBuild]:
        """The service's published builds with ``after < build <= upto``, newest first."""
        validate_service_name(service)
        _check_limit(limit)
        query = (
            sa.select(build_services.c.service_build, builds.c.manifest)
            .select_from(build_services.join(builds, builds.c.id == build_services.c.build_id))
            .where(
                build_services.c.service == service,
                build_services.c.service_build > after,
                build_services.c.service_build <= upto,
                builds.c.environment.is_(None),
                builds.c.result == "SUCCESS",
            )
            .order_by(build_services.c.service_build.desc(), builds.c.id)
        )
        found: dict[int, ServiceBuild] = {}
        with _translate("read the service's builds"), self._read() as conn:
            for row in conn.execute(query):
                if row.service_build not in found:
                    found[row.service_build] = _manifest(row.manifest, None).services[service]
                if len(found) >= limit:
                    break
        return list(found.values())

    def service_builds_between_many(
        self, ranges: Mapping[str, tuple[int, int]], *, limit: int = 100
    ) -> dict[str, list[ServiceBuild]]:
        """:meth:`service_builds_between` of many services in one query (``pipelinelib diff``)."""
        _check_limit(limit)
        with _translate("read the services' builds"), self._read() as conn:
            if not ranges:
                return {}
            statement = sa.text(sql_ledger.between_statement(self.dialect))
            rows = conn.execute(statement, sql_ledger.between_params(ranges, limit))
            return sql_ledger.between_result(ranges, rows)

    def deployments(
        self,
        *,
        environment: str | None = None,
        service: str | None = None,
        since: datetime | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> DeploymentPage:
        query = self.deployments_statement(
            environment=environment, service=service, since=since, before=before, limit=limit
        )
        with _translate("read the deployments"), self._read() as conn:
            rows = conn.execute(query).all()
        records = [
            sql_ledger.record(
                row, _name(row.name) if row.name is not None else None, _utc(row.created_at)
            )
            for row in rows
        ]
        return sql_ledger.page(records, limit)

    def deployments_statement(
        self,
        *,
        environment: str | None = None,
        service: str | None = None,
        since: datetime | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> sa.Select[Any]:
        """The query of :meth:`deployments` (validated), for it and for EXPLAIN in tests."""
        sql_ledger.check_filters(environment, service)
        since = sql_ledger.check_since(since)
        before = sql_ledger.check_cursor(before)
        _check_limit(limit)
        columns = [
            builds.c.id,
            builds.c.summary,
            builds.c.service_count,
            builds.c.created_at,
            display_names.c.name,
        ]
        source = _with_names
        if service is not None:
            columns.append(build_services.c.service_build)
            source = source.join(
                build_services,
                sa.and_(
                    build_services.c.build_id == builds.c.id,
                    build_services.c.service == service,
                    build_services.c.is_deployment == sa.true(),
                ),
            )
        # Filtered by service, the walk is ix_build_services_deployed: order by its column.
        order = build_services.c.build_id if service is not None else builds.c.id
        query = sa.select(*columns).select_from(source)
        if environment is not None:
            query = query.where(builds.c.environment == environment)
        else:
            query = query.where(builds.c.environment.is_not(None))
        if before is not None:
            query = query.where(order < before)
        if since is not None:
            query = query.where(builds.c.created_at >= since)
        return query.order_by(order.desc()).limit(limit + 1)

    def ledger_facts(
        self, *, start: datetime, end: datetime, environment: str | None = None
    ) -> LedgerFacts:
        """What the metrics of ``[start, end)`` read: the facts kept as deployments were
        recorded (store/facts.py, issue 17), in three queries."""
        from pipelinelib.store import facts

        if environment is not None:
            validate_environment_name(environment)
        # One snapshot for the three queries (SQLite: a read transaction on the WAL file).
        options: dict[str, Any] = {"pipelinelib_snapshot": True}
        if self.dialect == "postgresql":
            options["isolation_level"] = "REPEATABLE READ"
        with (
            _translate("read the deployment facts"),
            self.engine.connect().execution_options(**options) as conn,
            conn.begin(),
        ):
            return facts.read(conn, start=start, end=end, environment=environment)

    def deployment_outcomes(self, ids: Iterable[int]) -> dict[int, str]:
        """``{id: SUCCESS | FAILURE | ROLLED_BACK}`` of recorded deployments as the metrics judge
        them over the whole history (a rollback on a newer history page included; store/facts.py).
        Ids that are not deployments are left out."""
        from pipelinelib.store import facts

        with _translate("read the deployment outcomes"), self.engine.connect() as conn:
            return facts.outcomes_of(conn, ids)

    def ledger_generation(self) -> tuple[int, int]:
        """``(newest build id, build count)``: changes whenever the ledger does (issue 17's
        metrics cache, store/sql_insight.py)."""
        from pipelinelib.store import sql_insight

        return sql_insight.ledger_generation(self)

    def explain(self, statement: Any, params: Mapping[str, Any] | None = None) -> str:
        """The database's plan of a statement (tests prove the ledger queries use indexes)."""
        prefix = "EXPLAIN QUERY PLAN " if self.dialect == "sqlite" else "EXPLAIN "
        with self._read() as conn:
            if isinstance(statement, str):
                rows = conn.execute(sa.text(prefix + statement), dict(params or {})).all()
            else:
                compiled = statement.compile(
                    dialect=self.engine.dialect, compile_kwargs={"literal_binds": True}
                )
                rows = conn.exec_driver_sql(prefix + str(compiled).replace("%", "%%")).all()
        return "\n".join(" ".join(str(v) for v in row) for row in rows)

    def ping(self) -> None:
        """Raise StoreUnavailableError unless the database answers (for /healthz)."""
        with _translate("answer"), self._read() as conn:
            conn.execute(sa.text("SELECT 1")).scalar_one()

    def explain_choices(self, job: str, limit: int = 100) -> str:
        """The database's plan of the choices query (tests prove it is an index range scan)."""
        statement = _CHOICES.params(job=validate_job_name(job), limit=_check_limit(limit))
        compiled = statement.compile(
            dialect=self.engine.dialect, compile_kwargs={"literal_binds": True}
        )
        prefix = "EXPLAIN QUERY PLAN " if self.dialect == "sqlite" else "EXPLAIN "
        with self._read() as conn:
            rows = conn.exec_driver_sql(prefix + str(compiled).replace("%", "%%")).all()
        return "\n".join(" ".join(str(v) for v in row) for row in rows)

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            self.engine.dispose()


_EXISTING_HASH = sa.select(builds.c.sha256).where(
    builds.c.job == sa.bindparam("job", type_=sa.String),
    builds.c.number == sa.bindparam("number", type_=sa.Integer),
)
_GENERATION = sa.select(job_generations.c.generation).where(
    job_generations.c.job == sa.bindparam("job", type_=sa.String)
)
_CHOICES = (
    sa.select(builds.c.number, sa.func.coalesce(display_names.c.subject, builds.c.subject))
    .select_from(_with_names)
    .where(builds.c.job == sa.bindparam("job", type_=sa.String), builds.c.result == "SUCCESS")
    .order_by(builds.c.number.desc())
    .limit(sa.bindparam("limit", type_=sa.Integer))
)


def _check_result(result: str) -> str:
    if result not in RESULTS:
        raise InvalidInputError(f"result must be one of {', '.join(RESULTS)}, not {result!r}")
    return result


_utc = sql_ledger.utc
_name = sql_ledger.stored_name
_manifest = sql_ledger.manifest_of
