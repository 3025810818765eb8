"""Reliability at full size (tests/integration/service/test_reliability.py runs smaller versions).

(a) 2 gunicorn processes (2 workers each) on one PostgreSQL, 16 concurrent publishers, 5,000
    publishes with repeats of the same build and conflicting replays;
(b) the same on SQLite with one process;
(c) kill -9 of the service in a loop while publishing (SQLite): after each restart every
    acknowledged publish is there and whole, and ``PRAGMA integrity_check`` is ok.

Run: ``.venv/bin/python -m bench reliability``. Prints figures; exits non-zero on any problem.
"""

from __future__ import annotations

import itertools
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench._servers import ServiceProcess, free_port, service_env
from bench._storm import manifest_body, storm
from bench.service import TOKEN, pg_database

PUBLISHES = 5000
THREADS = 16
DISTINCT = 1500
KILL_CYCLES = 10


def gunicorn(port: int, workers: int = 2) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "gthread",
        "--threads", "8", "--bind", f"127.0.0.1:{port}", "pipelinelib.service:create_app()",
    ]  # fmt: skip


def start(argv: list[str], port: int, db_url: str, work: Path, tokens: Path) -> ServiceProcess:
    log = work / f"server-{port}.log"
    return ServiceProcess(argv, service_env(db_url, tokens), port, log).start(timeout=60)


def report(label: str, result: object) -> bool:
    problems = result.problems  # type: ignore[attr-defined]
    print(
        f"{label}: {result.publishes} publishes in {result.seconds:.1f}s "  # type: ignore[attr-defined]
        f"({result.rate:.0f}/s), statuses {dict(sorted(result.statuses.items()))}, "  # type: ignore[attr-defined]
        f"{result.builds} builds, problems: {len(problems)}"  # type: ignore[attr-defined]
    )
    for problem in problems[:10]:
        print(f"  {problem}")
    return not problems


def kill_loop(work: Path, tokens: Path) -> bool:
    db = work / "kill.db"
    url = f"sqlite:///{db}"
    port = free_port()
    argv = [sys.executable, "-m", "pipelinelib", "serve", "--port", str(port)]
    acknowledged: dict[int, int] = {}
    attempted = 0
    numbers = itertools.count(1)
    take = threading.Lock()
    proc = start(argv, port, url, work, tokens)
    for cycle in range(KILL_CYCLES):
        stop = threading.Event()

        def publisher(stop: threading.Event = stop) -> None:
            nonlocal attempted
            with requests.Session() as http:
                http.headers["Authorization"] = f"Bearer {TOKEN}"
                while not stop.is_set():
                    with take:
                        n = next(numbers)
                        attempted += 1
                    try:
                        r = http.post(
                            f"http://127.0.0.1:{port}/api/v1/builds",
                            json=manifest_body(n, 0, "crash"),
                            timeout=5,
                        )
                    except requests.RequestException:
                        continue
                    if r.status_code in (200, 201):
                        acknowledged[n] = r.status_code

        threads = [threading.Thread(target=publisher) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5 + (cycle % 4) * 0.37)
        proc.kill()
        stop.set()
        for t in threads:
            t.join()
        proc = start(argv, port, url, work, tokens)
    missing = 0
    with requests.Session() as http:
        for n in acknowledged:
            r = http.get(f"http://127.0.0.1:{port}/api/v1/jobs/crash/builds/{n}", timeout=10)
            if r.status_code != 200 or r.json() != manifest_body(n, 0, "crash"):
                missing += 1
    proc.stop()
    with sqlite3.connect(db) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        partial = conn.execute(
            "SELECT count(*) FROM builds b WHERE NOT EXISTS "
            "(SELECT 1 FROM build_services s WHERE s.build_id = b.id)"
        ).fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM builds").fetchone()[0]
    print(
        f"kill -9 x{KILL_CYCLES}: {attempted} publishes attempted, {len(acknowledged)} "
        f"acknowledged, {rows} rows stored, {missing} acknowledged missing, {partial} partial, "
        f"integrity_check {integrity}"
    )
    return missing == 0 and partial == 0 and integrity == "ok"


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="pipelinelib-reliability-"))
    tokens = work / "tokens"
    tokens.write_text(f"{TOKEN} publish\n")
    tokens.chmod(0o600)
    ok = True
    procs: list[ServiceProcess] = []
    try:
        made = pg_database()
        if made is None:
            print("(a) PostgreSQL not reachable: skipped")
        else:
            url, drop = made
            ports = [free_port(), free_port()]
            procs += [start(gunicorn(p), p, url, work, tokens) for p in ports]
            result = storm(
                [f"http://127.0.0.1:{p}" for p in ports],
                TOKEN,
                publishes=PUBLISHES,
                threads=THREADS,
                distinct=DISTINCT,
            )
            ok &= report("(a) 2 gunicorn processes x 2 workers, PostgreSQL, 16 publishers", result)
            for proc in procs:
                proc.stop()
            drop()
        port = free_port()
        procs.append(start(gunicorn(port, 1), port, f"sqlite:///{work / 'b.db'}", work, tokens))
        result = storm(
            [f"http://127.0.0.1:{port}"],
            TOKEN,
            publishes=PUBLISHES,
            threads=THREADS,
            distinct=DISTINCT,
        )
        ok &= report("(b) 1 gunicorn process, SQLite, 16 publishers", result)
        procs[-1].stop()
        ok &= kill_loop(work, tokens)
    finally:
        for proc in procs:
            proc.stop()
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
