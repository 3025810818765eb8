"""What only the SQL store promises: migrations, index use, concurrency, error translation."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelinelib.errors import ConflictError, InvalidInputError, StoreUnavailableError
from pipelinelib.store.sql import SqlStore, normalize_url
from tests.fakes.manifests import build_manifest


def test_relative_sqlite_url_creates_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = SqlStore.from_url("sqlite:///.pipelinelib/pipelinelib.db")
    try:
        store.publish(build_manifest())
    finally:
        store.close()
    db = tmp_path / ".pipelinelib" / "pipelinelib.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM builds").fetchone()[0] == 1


def test_sqlite_connections_have_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        store.close()


def test_postgresql_urls_mean_psycopg3() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "invalid database URL"),
        ("mysql://u@h/db", "unsupported database 'mysql'"),
    ],
)
def test_bad_urls_are_invalid_input(url: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        SqlStore.from_url(url)


def test_unreachable_postgresql_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailableError, match="the store could not migrate its schema"):
        SqlStore.from_url("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_unwritable_sqlite_directory_is_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailableError, match="cannot create the directory"):
        SqlStore.from_url(f"sqlite:///{blocker / 'sub' / 'db.sqlite'}")


def test_newest_successful_builds_is_an_index_range_scan(store_url: str) -> None:
    store = SqlStore.from_url(store_url)
    try:
        # One hot job with 30% failures among many other jobs, as in production.
        hot = [
            build_manifest("hot", n, result="FAILURE" if n % 10 < 3 else "SUCCESS")
            for n in range(1, 3001)
        ]
        others = [build_manifest(f"job{n % 50}", n) for n in range(1, 3001)]
        assert store.publish_many(hot + others) == 6000
        if store.dialect == "postgresql":
            with store.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        plan = store.explain_choices("hot", limit=100)
    finally:
        store.close()
    assert "ix_builds_job_result_number" in plan, plan
    # No sort step: the index already returns the rows newest first.
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def _head_revision() -> str:
    """The newest migration shipped (several issues add migrations; the head is what counts)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from pipelinelib.store.sql import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def test_an_older_database_is_upgraded_in_place(store_url: str) -> None:
    old = SqlStore.from_url(store_url, migrate=False)
    try:
        old.migrate("0001")
        assert old.revision() == "0001"
        old.publish(build_manifest("legacy-job", 5, display_name="before the upgrade"))
        assert not sa.inspect(old.engine).has_table("display_names")
    finally:
        old.close()
    store = SqlStore.from_url(store_url)
    try:
        assert store.revision() == _head_revision()
        assert [str(c) for c in store.choices("legacy-job")] == ["5-before the upgrade"]
        store.set_display_name("legacy-job", 5, "after the upgrade")
        assert [str(c) for c in store.choices("legacy-job")] == ["5-after the upgrade"]
    finally:
        store.close()
    again = SqlStore.from_url(store_url)  # opening a current database changes nothing
    try:
        assert again.revision() == _head_revision()
        assert again.get_build("legacy-job", 5).display_name == "after the upgrade"
    finally:
        again.close()


def test_concurrent_publishers_never_duplicate_or_lose_a_write(store_url: str) -> None:
    """8 threads, 400 publishes of 100 builds: each build created once, replays 200, conflicts 409."""
    store = SqlStore.from_url(store_url)
    builds = [build_manifest("race", n) for n in range(1, 101)]
    conflicting = [build_manifest("race", n, message="different") for n in range(1, 101)]
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for i in range(50):
                n = (i * 7 + offset) % 100
                manifest = conflicting[n] if (i + offset) % 5 == 0 else builds[n]
                try:
                    created = store.publish(manifest)
                    outcome = "created" if created else "identical"
                except ConflictError:
                    outcome = "conflict"
                with lock:
                    outcomes[f"{outcome}:{'bad' if manifest is conflicting[n] else 'good'}"] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        assert sum(outcomes.values()) == 400
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT number, count(*) FROM builds WHERE job = 'race' GROUP BY number"
            ).all()
        assert all(count == 1 for _, count in rows)
        winners = {n: store.get_build("race", n) for n, _ in rows}
        created = outcomes["created:good"] + outcomes["created:bad"]
        assert created == len(rows)  # every created answer is a row, every row one created
        for n, winner in winners.items():
            assert winner in (builds[n - 1], conflicting[n - 1])
        # A replay is identical exactly when it matches the winner, else a conflict.
        for n, winner in winners.items():
            assert store.publish(winner) is False
            other = conflicting[n - 1] if winner == builds[n - 1] else builds[n - 1]
            with pytest.raises(ConflictError):
                store.publish(other)
    finally:
        store.close()
