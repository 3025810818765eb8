"""The choices endpoint and publishing over real HTTP, with ratios measured in the same run.

* 1,000 and 100,000 builds in a SQLite store (one hot job with 30% failures, many other jobs):
  ``GET /api/v1/jobs/team/hot/choices?limit=100`` p50/p99 at concurrency 1, against the
  ``/healthz`` round trip (baseline) and a raw indexed sqlite3 query of the same rows (the floor).
* requests/second at concurrency 32 for each WSGI server candidate, and their RSS under load.
* publish throughput, sequential over HTTP (one keep-alive connection), SQLite and PostgreSQL.

Run: ``.venv/bin/python -m bench service`` (about 3 minutes on 2 cores).
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import secrets
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench._servers import ServiceProcess, free_port, service_env
from bench._storm import manifest_body

HOT = "team/hot"
TOKEN = "bench-token-" + "z" * 24
CHOICES = f"/api/v1/jobs/{HOT}/choices?limit=100"


def production_argv(port: int, workers: int = 2, threads: int = 8) -> list[str]:
    """gunicorn gthread 2x8: the production command docs/operations.md documented before issue 16."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--keep-alive",
        "5",
        "pipelinelib.service:create_app()",
    ]


SERVERS: dict[str, Callable[[int], list[str]]] = {
    "gunicorn gthread 2x8": lambda port: production_argv(port),
    "gunicorn sync 4": lambda port: [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "4",
        "--bind",
        f"127.0.0.1:{port}",
        "pipelinelib.service:create_app()",
    ],
    "waitress 8 threads": lambda port: [
        sys.executable,
        "-m",
        "waitress",
        "--threads=8",
        f"--listen=127.0.0.1:{port}",
        "--call",
        "pipelinelib.service:create_app",
    ],
    "werkzeug (pipelinelib serve)": lambda port: [
        sys.executable,
        "-m",
        "pipelinelib",
        "serve",
        "--port",
        str(port),
    ],
}


def fill(db_url: str, total: int, hot: int) -> None:
    from pipelinelib.model import Manifest
    from pipelinelib.store.sql import SqlStore

    store = SqlStore.from_url(db_url)
    try:
        batch: list[Manifest] = []
        for n in range(1, hot + 1):
            body = manifest_body(n, 0, HOT)
            body["result"] = "FAILURE" if n % 10 < 3 else "SUCCESS"
            batch.append(Manifest.from_dict(body))
        others = total - hot
        jobs = max(1, others // 100)
        for i in range(others):
            batch.append(Manifest.from_dict(manifest_body(i // jobs + 1, 0, f"job-{i % jobs}")))
            if len(batch) >= 5000:
                store.publish_many(batch)
                batch = []
        store.publish_many(batch)
    finally:
        store.close()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def latency(port: int, path: str, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        samples.append(time.perf_counter() - start)
        assert response.status == 200, response.status
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()
    return samples


def raw_sqlite_floor(db: Path, n: int) -> list[float]:
    conn = sqlite3.connect(db)
    query = (
        "SELECT b.number, coalesce(d.subject, b.subject) FROM builds b "
        "LEFT JOIN display_names d ON d.build_id = b.id "
        "WHERE b.job = ? AND b.result = 'SUCCESS' ORDER BY b.number DESC LIMIT 100"
    )
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        body = "".join(f"{a}-{b}\n" for a, b in conn.execute(query, (HOT,)))
        samples.append(time.perf_counter() - start)
    assert body
    conn.close()
    return samples


def _load_worker(
    port: int, path: str, seconds: float, threads: int, out: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    counts = [0] * threads
    errors = [0] * threads
    deadline = time.perf_counter() + seconds

    def run(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < deadline:
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    counts[i] += 1
                else:
                    errors[i] += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((sum(counts), sum(errors)))


def rss_mib(pid: int) -> float:
    """RSS of a process and its children (gunicorn workers), from /proc."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def throughput(
    proc: ServiceProcess, concurrency: int = 32, seconds: float = 8.0
) -> tuple[float, int, float]:
    processes = 4
    out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    workers = [
        multiprocessing.Process(
            target=_load_worker, args=(proc.port, CHOICES, seconds, concurrency // processes, out)
        )
        for _ in range(processes)
    ]
    for w in workers:
        w.start()
    time.sleep(seconds / 2)
    rss = rss_mib(proc.process.pid)
    results = [out.get() for _ in workers]
    for w in workers:
        w.join()
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    return ok / seconds, errors, rss


def publish_rate(port: int, n: int) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    start = time.perf_counter()
    for i in range(1, n + 1):
        conn.request(
            "POST", "/api/v1/builds", json.dumps(manifest_body(i, 0, "publish-bench")), headers
        )
        response = conn.getresponse()
        response.read()
        assert response.status == 201, (response.status, response.read())
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()
    return n / (time.perf_counter() - start)


def start(
    argv_of: Callable[[int], list[str]], db_url: str, workdir: Path, tokens: Path
) -> ServiceProcess:
    port = free_port()
    proc = ServiceProcess(
        argv_of(port), service_env(db_url, tokens), port, workdir / f"server-{port}.log"
    )
    return proc.start(timeout=60)


def pg_database() -> tuple[str, Callable[[], None]] | None:
    try:
        import psycopg

        admin = psycopg.connect(
            host="127.0.0.1", user="postgres", dbname="test", autocommit=True, connect_timeout=3
        )
    except Exception:
        return None
    name = f"pipelinelib_bench_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return f"postgresql+psycopg://postgres@127.0.0.1/{name}", drop


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="pipelinelib-bench-"))
    tokens = work / "tokens"
    tokens.write_text(f"{TOKEN} publish\n")
    tokens.chmod(0o600)
    n = 2000
    results: dict[int, dict[str, tuple[float, float]]] = {}
    procs: list[ServiceProcess] = []
    try:
        servers: dict[int, ServiceProcess] = {}
        for total, hot in ((1_000, 300), (100_000, 10_000)):
            db = work / f"store-{total}.db"
            started = time.perf_counter()
            fill(f"sqlite:///{db}", total, hot)
            print(f"filled {total} builds in {time.perf_counter() - started:.1f}s")
            servers[total] = start(SERVERS["gunicorn gthread 2x8"], f"sqlite:///{db}", work, tokens)
            procs.append(servers[total])
            latency(servers[total].port, CHOICES, 200)  # warm every worker's connection pool
        # Interleaved in rounds so the noise of a shared machine hits every series alike.
        samples: dict[tuple[int, str], list[float]] = {
            (t, k): [] for t in servers for k in ("healthz", "choices", "floor")
        }
        for _ in range(n // 100):
            for total, proc in servers.items():
                samples[(total, "healthz")] += latency(proc.port, "/healthz", 100)
                samples[(total, "choices")] += latency(proc.port, CHOICES, 100)
                samples[(total, "floor")] += raw_sqlite_floor(work / f"store-{total}.db", 100)
        for total in servers:
            base = percentiles(samples[(total, "healthz")])
            choice = percentiles(samples[(total, "choices")])
            floor = percentiles(samples[(total, "floor")])
            results[total] = {"healthz": base, "choices": choice, "floor": floor}
            print(
                f"{total} builds, c=1, gunicorn gthread: choices p50 {choice[0] * 1000:.2f} ms "
                f"p99 {choice[1] * 1000:.2f} ms; /healthz p50 {base[0] * 1000:.2f} ms "
                f"p99 {base[1] * 1000:.2f} ms -> ratio {choice[0] / base[0]:.2f}x; raw sqlite3 "
                f"p50 {floor[0] * 1000:.3f} ms -> choices/raw {choice[0] / floor[0]:.1f}x"
            )
        for proc in servers.values():
            proc.stop()
        small, big = results[1_000]["choices"], results[100_000]["choices"]
        print(
            f"choices at 100k vs 1k builds: p50 {big[0] / small[0]:.2f}x, p99 {big[1] / small[1]:.2f}x"
        )
        db_url = f"sqlite:///{work / 'store-100000.db'}"
        for name, argv_of in SERVERS.items():
            proc = start(argv_of, db_url, work, tokens)
            procs.append(proc)
            latency(proc.port, CHOICES, 100)
            rate, errors, rss = throughput(proc)
            print(f"c=32 {name}: {rate:.0f} req/s, {errors} errors, server RSS {rss:.0f} MiB")
            proc.stop()
        for label, url_of in (
            ("sqlite", lambda: (f"sqlite:///{work / 'publish.db'}", None)),
            ("postgresql", pg_database),
        ):
            made = url_of()
            if made is None:
                print(f"publish over HTTP ({label}): skipped, database not reachable")
                continue
            url, drop = made
            proc = start(SERVERS["gunicorn gthread 2x8"], url, work, tokens)
            procs.append(proc)
            rate = publish_rate(proc.port, 1000)
            print(f"publish over HTTP, sequential, {label}: {rate:.0f}/s")
            proc.stop()
            if drop:
                drop()
    finally:
        for proc in procs:
            proc.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
