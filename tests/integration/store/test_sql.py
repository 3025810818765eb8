"""What only the SQL store promises: migrations, index use, concurrency, error translation."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelinelib.errors import ConflictError, InvalidInputError, StoreUnavailableError
from pipelinelib.model import Manifest
from pipelinelib.store.sql import MIGRATIONS, SCHEMA_HEAD, SqlStore, normalize_url
from tests.fakes.manifests import build_manifest, deploy_manifest, published_build, service_build


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


def _legacy_insert(store: SqlStore, manifest: Manifest) -> None:
    """A row as the 0001 schema's code wrote it (today's code writes the newer columns)."""
    data = manifest.to_dict()
    with store.engine.begin() as conn:
        build_id = conn.execute(
            sa.text(
                "INSERT INTO builds (job, number, result, environment, source_job, source_number,"
                " subject, url, manifest, sha256, created_at) VALUES (:job, :number, :result,"
                " :environment, NULL, NULL, :subject, NULL, :manifest, :sha, :now) RETURNING id"
            ),
            {
                "job": manifest.job,
                "number": manifest.number,
                "result": manifest.result,
                "environment": manifest.environment,
                "subject": manifest.subject,
                "manifest": json.dumps(data, sort_keys=True, separators=(",", ":")),
                "sha": hashlib.sha256(b"x").hexdigest(),
                "now": datetime.now(UTC),
            },
        ).scalar_one()
        for entry in manifest.services.values():
            conn.execute(
                sa.text(
                    "INSERT INTO build_services (build_id, service, service_build) "
                    "VALUES (:id, :service, :build)"
                ),
                {"id": build_id, "service": entry.name, "build": entry.build},
            )


def test_an_older_database_is_upgraded_in_place(store_url: str) -> None:
    old = SqlStore.from_url(store_url, migrate=False)
    try:
        old.migrate("0001")
        assert old.revision() == "0001"
        for build in (4, 5):
            _legacy_insert(old, published_build(service_build("service1", build)))
        _legacy_insert(old, build_manifest("legacy-job", 5, display_name="before the upgrade"))
        for n in (1, 2):
            _legacy_insert(
                old, deploy_manifest("deploy-test", n, "test", [service_build("service1", 5)])
            )
        assert not sa.inspect(old.engine).has_table("display_names")
    finally:
        old.close()
    store = SqlStore.from_url(store_url)
    try:
        assert store.revision() == SCHEMA_HEAD
        assert [str(c) for c in store.choices("legacy-job")] == ["5-before the upgrade"]
        store.set_display_name("legacy-job", 5, "after the upgrade")
        assert [str(c) for c in store.choices("legacy-job")] == ["5-after the upgrade"]
        # 0004 filled the summaries and told deployment rows from the build jobs' own.
        page = store.deployments(environment="test")
        assert [(r.number, r.service_count) for r in page.entries] == [(2, 1), (1, 1)]
        found = store.service_builds_between_many({"service1": (3, 5)})
        assert [b.build for b in found["service1"]] == [5, 4]
    finally:
        store.close()
    again = SqlStore.from_url(store_url)  # opening a current database changes nothing
    try:
        assert again.revision() == SCHEMA_HEAD
        assert again.get_build("legacy-job", 5).display_name == "after the upgrade"
    finally:
        again.close()


def test_schema_head_names_the_newest_migration() -> None:
    """The constant that lets an up-to-date store open without Alembic is the scripts' head."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [SCHEMA_HEAD]


def test_opening_an_up_to_date_store_imports_no_migration_machinery(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    SqlStore.from_url(url).close()
    code = (
        "import sys\n"
        "from pipelinelib.store.sql import SqlStore\n"
        f"SqlStore.from_url({url!r}).close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "[]"


def test_workers_starting_together_on_a_fresh_file_all_boot(tmp_path: Path) -> None:
    """Several processes open one new SQLite file at the same instant (gunicorn workers at a
    first start): each must boot, the file ends in WAL, migrated once. Five rounds."""
    code = (
        "import sys, time\n"
        "from pipelinelib.store.sql import SqlStore\n"
        "start = float(sys.argv[2])\n"
        "time.sleep(max(0.0, start - time.time()))\n"
        "store = SqlStore.from_url(sys.argv[1])\n"
        "store.choices('j')\n"
        "store.close()\n"
    )
    for round_ in range(5):
        db = tmp_path / f"fresh{round_}" / "pipelinelib.db"
        start = time.time() + 2.0
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", code, f"sqlite:///{db}", str(start)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        failures = []
        for worker in workers:
            _, err = worker.communicate(timeout=120)
            if worker.returncode != 0:
                failures.append(err[-600:])
        assert failures == [], failures
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
                (SCHEMA_HEAD,)
            ]


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


def test_ledger_queries_are_index_walks_not_sorts_of_history(store_url: str) -> None:
    """A history page, the newest deployment per environment and the builds a promotion brings
    read indexes in order: their cost does not grow with the deployments held (issue 18)."""
    from pipelinelib.store import sql_ledger

    store = SqlStore.from_url(store_url)
    try:
        names = [f"svc{i}" for i in range(20)]
        store.publish_many(
            published_build(service_build(name, build)) for name in names for build in (1, 2, 3)
        )
        store.publish_many(
            deploy_manifest(
                f"deploy-{env}", n, env, [service_build(name, 1 + n % 3) for name in names]
            )
            for n in range(1, 301)
            for env in (("test", "live")[n % 2],)
        )
        if store.dialect == "postgresql":
            with store.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        page = store.explain(store.deployments_statement(environment="test", before=200))
        by_service = store.explain(store.deployments_statement(service="svc3"))
        newest = store.explain(sql_ledger.NEWEST_PER_ENVIRONMENT)
        ranges = {name: (1, 3) for name in names}
        between = store.explain(
            sql_ledger.between_statement(store.dialect), sql_ledger.between_params(ranges, 100)
        )
    finally:
        store.close()
    if store.dialect == "sqlite":
        assert "ix_builds_environment_id" in page and "TEMP B-TREE" not in page, page
        assert "ix_build_services_deployed" in by_service, by_service
        assert "TEMP B-TREE" not in by_service, by_service
        assert "SCAN builds" not in newest.replace("SCAN builds AS b USING COVERING", ""), newest
        assert "ix_build_services_published" in between, between
    else:
        # PostgreSQL picks plans by size; on this small table it may scan. What must hold is
        # that the index exists and an ordered page needs no Sort of the environment's rows.
        assert "Sort" not in page or "Index" in page, page


def test_environment_names_are_every_environment_deployed_to(tmp_path: Path) -> None:
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        assert store.environment_names() == []
        entry = service_build("service1", 1)
        store.publish(published_build(entry))
        for n, env in enumerate(("test", "live", "test", "beta"), start=1):
            store.publish(deploy_manifest(f"deploy-{env}", n, env, [entry]))
        store.publish(deploy_manifest("deploy-qa", 1, "qa", [entry], result="FAILURE"))
        assert store.environment_names() == ["beta", "live", "qa", "test"]
    finally:
        store.close()
