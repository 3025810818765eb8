"""Reliability (a)-(c) at test size; bench/reliability.py runs the full-size versions.

(a) two gunicorn processes on one PostgreSQL, concurrent publishers with repeats and conflicts;
(b) the same on SQLite with one process; (c) kill -9 of the service while publishing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from bench._storm import manifest_body, storm
from tests.fixtures.service import PUBLISH_TOKEN, ServiceProcess


@pytest.mark.postgres
@pytest.mark.slow
def test_two_gunicorn_processes_on_one_postgresql(
    pg_url: str, service_process: Callable[..., ServiceProcess]
) -> None:
    first = service_process(pg_url, gunicorn_workers=2)
    second = service_process(pg_url, gunicorn_workers=0)  # a second replica, other server
    result = storm([first.url, second.url], PUBLISH_TOKEN, publishes=400, threads=8, distinct=120)
    assert result.problems == []
    assert set(result.statuses) == {200, 201, 409}
    assert result.statuses[201] == result.builds > 100


@pytest.mark.slow
def test_one_process_on_sqlite(
    tmp_path: Path, service_process: Callable[..., ServiceProcess]
) -> None:
    svc = service_process(f"sqlite:///{tmp_path / 'db' / 'p.db'}", gunicorn_workers=1)
    result = storm([svc.url], PUBLISH_TOKEN, publishes=400, threads=8, distinct=120)
    assert result.problems == []
    assert set(result.statuses) == {200, 201, 409}


@pytest.mark.slow
def test_kill_9_while_publishing_loses_no_acknowledged_publish(
    tmp_path: Path, service_process: Callable[..., ServiceProcess]
) -> None:
    db = tmp_path / "db" / "p.db"
    url = f"sqlite:///{db}"
    acknowledged: dict[int, int] = {}
    numbers = iter(range(1, 1_000_000))
    take = threading.Lock()
    svc = service_process(url, gunicorn_workers=0)
    for cycle in range(3):
        stop = threading.Event()

        def publisher(stop: threading.Event = stop, base: str = svc.url) -> None:
            with requests.Session() as http:
                http.headers["Authorization"] = f"Bearer {PUBLISH_TOKEN}"
                while not stop.is_set():
                    with take:
                        number = next(numbers)
                    try:
                        r = http.post(
                            f"{base}/api/v1/builds",
                            json=manifest_body(number, 0, "crash"),
                            timeout=5,
                        )
                    except requests.RequestException:
                        continue  # killed mid-request: not acknowledged
                    if r.status_code in (200, 201):
                        acknowledged[number] = r.status_code

        threads = [threading.Thread(target=publisher) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.6 + 0.3 * cycle)
        svc.kill()
        stop.set()
        for t in threads:
            t.join()
        svc = service_process(url, gunicorn_workers=0, port=svc.port)
    assert len(acknowledged) > 20
    with requests.Session() as http:
        for n in acknowledged:
            r = http.get(f"{svc.url}/api/v1/jobs/crash/builds/{n}", timeout=10)
            assert r.status_code == 200 and r.json() == manifest_body(n, 0, "crash")
    svc.stop()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        partial = conn.execute(
            "SELECT count(*) FROM builds b WHERE NOT EXISTS "
            "(SELECT 1 FROM build_services s WHERE s.build_id = b.id)"
        ).fetchone()[0]
        assert partial == 0  # every build has its service rows: no half-written publish
