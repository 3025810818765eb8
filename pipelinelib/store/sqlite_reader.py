"""A read path over a local SQLite store with the standard library only.

``pipelinelib status`` and ``pipelinelib diff`` on a local store read two or three rows; importing
SQLAlchemy alone costs several times Python's own start-up. When the database file exists and
its ``alembic_version`` is this code's :data:`~pipelinelib.store.revision.SCHEMA_HEAD`, these
commands read it through :mod:`sqlite3` with the same SQL text the SQL store runs
(:mod:`pipelinelib.store.sql_ledger`). Anything else (a missing or older database, any other
method of the protocol) goes to :class:`~pipelinelib.store.sql.SqlStore`, opened on first use.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelinelib.errors import StoreUnavailableError
from pipelinelib.model import Manifest, ServiceBuild
from pipelinelib.store import sql_ledger
from pipelinelib.store.revision import SCHEMA_HEAD

if TYPE_CHECKING:
    from pipelinelib.ledger import DeploymentEntry
    from pipelinelib.store import ManifestStore

BUSY_TIMEOUT_S = 30.0


def sqlite_path(url: str) -> Path | None:
    """The file of a plain ``sqlite:///PATH`` URL; None for anything else (memory, options)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url[len(prefix) :]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path)


def current_reader(url: str) -> SqliteReader | None:
    """The light reader when ``url`` is a local SQLite file at this code's schema, else None."""
    path = sqlite_path(url)
    if path is None or not path.is_file():
        return None
    reader = SqliteReader(path, url)
    try:
        if reader.revision() == SCHEMA_HEAD:
            return reader
    except sqlite3.Error:
        pass
    reader.close()
    return None


def open_for_reading(url: str) -> ManifestStore:
    """The light reader when the store is a current local SQLite file, else the SQL store."""
    reader = current_reader(url)
    if reader is not None:
        return reader
    from pipelinelib.store.sql import SqlStore

    return SqlStore.from_url(url)


class SqliteReader:
    """``environments`` and ``service_builds_between_many`` over :mod:`sqlite3`; every other
    :class:`~pipelinelib.store.ManifestStore` method is the SQL store's."""

    def __init__(self, path: Path, url: str) -> None:
        self.path = path
        self.url = url
        self._conn: sqlite3.Connection | None = None
        self._full: Any = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            except sqlite3.Error as exc:
                raise StoreUnavailableError(f"the store could not open {self.path}: {exc}") from exc
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._conn = conn
        return self._conn

    @contextmanager
    def _snapshot(self, what: str) -> Iterator[sqlite3.Connection]:
        """One read transaction (a consistent snapshot in WAL); errors become store errors."""
        conn = self._connection()
        try:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreUnavailableError(
                f"the store could not {what}: {type(exc).__name__}: {exc}"
            ) from exc

    def revision(self) -> str | None:
        try:
            row = self._connection().execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
        return str(row[0]) if row else None

    def environment_entries(self) -> dict[str, DeploymentEntry]:
        from pipelinelib.ledger import DeploymentEntry

        with self._snapshot("read the environments") as conn:
            ids = [int(i) for (i,) in conn.execute(sql_ledger.NEWEST_PER_ENVIRONMENT) if i]
            rows = (
                conn.execute(
                    sql_ledger.ENVIRONMENT_ROWS.format(ids=",".join("?" * len(ids))), ids
                ).fetchall()
                if ids
                else []
            )
        return {
            env: DeploymentEntry(sql_ledger.manifest_of(text, name), sql_ledger.utc(created))
            for env, text, created, name in rows
        }

    def environments(self) -> dict[str, Manifest]:
        return {env: e.deployment for env, e in self.environment_entries().items()}

    def service_builds_between_many(
        self, ranges: Mapping[str, tuple[int, int]], *, limit: int = 100
    ) -> dict[str, list[ServiceBuild]]:
        if not 1 <= limit <= 1000:
            from pipelinelib.errors import InvalidInputError

            raise InvalidInputError("limit must be an integer between 1 and 1000")
        if not ranges:
            return {}
        params = sql_ledger.between_params(ranges, limit)
        with self._snapshot("read the services' builds") as conn:
            rows = conn.execute(sql_ledger.between_statement("sqlite"), params).fetchall()
        return sql_ledger.between_result(ranges, rows)

    def __getattr__(self, name: str) -> Any:
        """Every other protocol method: the full SQL store (SQLAlchemy), opened once."""
        if name.startswith("_"):
            raise AttributeError(name)
        if self._full is None:
            from pipelinelib.store.sql import SqlStore

            self._full = SqlStore.from_url(self.url)
        return getattr(self._full, name)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._full is not None:
            self._full.close()
            self._full = None
