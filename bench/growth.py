"""Ledger growth: diff, one history page and the board as services and deployments grow.

For each shape (services x deployments) a SQLite store is filled with B builds of each service
(one build job per service) and D deployments, each carrying every service: most to test, every
4th to beta, every 10th to staging, every 20th to live, the services' builds advancing through
history and live lagging test by 5 builds, so ``diff test live`` upgrades every service. Every
store is filled first; then all are served at once by ``pipelinelib serve`` and measured in
interleaved rounds (each round measures every figure of every store, so the shared machine's
load hits all shapes alike), each over one keep-alive connection; a figure is the median of its
round medians:

* ``GET /`` (the board: the baseline of its shape),
* ``GET /diff?from=test&to=live`` and ``GET /environments/test`` (the first history page),
* ``pipelinelib diff test live`` (the CLI, start-up included) against ``python -c pass``.

It prints each round's load average, the CPU steal of the measuring rounds, each figure, its
ratio to the board of the same store, and the growth ratio (10x deployments / 1x) per service
count. Shapes whose rows (services x deployments) exceed
``--max-rows`` are skipped and named (a 1,000-service x 100,000-deployment store is ~20 GB).

Run: ``.venv/bin/python -m bench growth`` (or ``python -m bench.growth --services 10,100
--deployments 1000,10000``).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from bench._servers import ServiceProcess, free_port, service_env
from bench._timing import cpu_times, steal_note

BUILDS_PER_SERVICE = 20
LIVE_LAG = 5
REGISTRY = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com"


def _environment(k: int) -> str:
    if k % 20 == 19:
        return "live"
    if k % 10 == 9:
        return "staging"
    if k % 4 == 3:
        return "beta"
    return "test"


def _entry(service: str, build: int) -> dict[str, object]:
    return {
        "build": build,
        "image": f"{REGISTRY}/{service}:{build}",
        "digest": f"sha256:{build:064x}",
        "commit": f"{build:040x}",
        "commit_message": f"Change {build} of {service}\n\nDetails of the change.",
    }


def _manifest_text(base: dict[str, object], services_json: str) -> str:
    text = json.dumps({**base, "services": "@S@"}, sort_keys=True, separators=(",", ":"))
    return text.replace('"@S@"', services_json)


def fill(path: Path, services: int, deployments: int) -> None:
    """Create the store at the oldest schema every version reads, fill it with raw inserts, and
    let the current code open (and migrate) it."""
    from pipelinelib.store.sql import SqlStore

    url = f"sqlite:///{path}"
    store = SqlStore.from_url(url, migrate=False)
    store.migrate("0002")
    store.close()
    names = [f"svc-{i:04d}" for i in range(services)]
    now = datetime.now(UTC).isoformat(sep=" ")
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    build_sql = (
        "INSERT INTO builds (id, job, number, result, environment, source_job, source_number,"
        " subject, url, manifest, sha256, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    service_sql = (
        'INSERT INTO build_services (build_id, service, service_build, image, digest, "commit")'
        " VALUES (?,?,?,?,?,?)"
    )
    next_id = 1
    with db:
        for name in names:
            for build in range(1, BUILDS_PER_SERVICE + 1):
                entry = _entry(name, build)
                job = f"{name}-build"
                base = {
                    "job": job,
                    "number": build,
                    "display_name": entry["commit_message"],
                    "result": "SUCCESS",
                    "environment": None,
                    "source": None,
                    "url": None,
                }
                text = _manifest_text(base, json.dumps({name: entry}, sort_keys=True))
                db.execute(
                    build_sql,
                    (
                        next_id,
                        job,
                        build,
                        "SUCCESS",
                        None,
                        None,
                        None,
                        f"Change {build} of {name}",
                        None,
                        text,
                        "0" * 64,
                        now,
                    ),
                )
                db.execute(
                    service_sql,
                    (next_id, name, build, entry["image"], entry["digest"], entry["commit"]),
                )
                next_id += 1
        cache: dict[int, tuple[str, list[tuple[str, int, str, str, str]]]] = {}
        numbers: dict[str, int] = {}
        for k in range(deployments):
            env = _environment(k)
            build = 1 + k * BUILDS_PER_SERVICE // deployments
            if env == "live":
                build = max(1, build - LIVE_LAG)
            if build not in cache:
                entries = {n: _entry(n, build) for n in names}
                cache[build] = (
                    json.dumps(entries, sort_keys=True, separators=(",", ":")),
                    [
                        (n, build, e["image"], e["digest"], e["commit"])  # type: ignore[misc]
                        for n, e in entries.items()
                    ],
                )
            services_json, rows = cache[build]
            job = f"deploy-{env}"
            number = numbers[job] = numbers.get(job, 0) + 1
            base = {
                "job": job,
                "number": number,
                "display_name": f"Deploy {number}",
                "result": "SUCCESS",
                "environment": env,
                "source": None,
                "url": None,
            }
            db.execute(
                build_sql,
                (
                    next_id,
                    job,
                    number,
                    "SUCCESS",
                    env,
                    None,
                    None,
                    f"Deploy {number}",
                    None,
                    _manifest_text(base, services_json),
                    "0" * 64,
                    now,
                ),
            )
            db.executemany(service_sql, [(next_id, *row) for row in rows])
            next_id += 1
    db.close()
    SqlStore.from_url(url).close()  # today's code: migrate to its head


def _median_latency(conn: http.client.HTTPConnection, path: str, budget: float) -> float:
    samples: list[float] = []
    deadline = time.monotonic() + budget
    while len(samples) < 3 or (time.monotonic() < deadline and len(samples) < 50):
        start = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        samples.append(time.perf_counter() - start)
        assert response.status == 200, (path, response.status)
    return statistics.median(samples)


def _median_run(argv: list[str], budget: float) -> float:
    samples: list[float] = []
    deadline = time.monotonic() + budget
    while len(samples) < 3 or (time.monotonic() < deadline and len(samples) < 15):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


PAGES = (("board", "/"), ("diff", "/diff?from=test&to=live"), ("history", "/environments/test"))


def measure_all(
    root: Path, shapes: list[tuple[int, int]], budget: float, rounds: int
) -> tuple[dict[tuple[int, int], dict[str, float]], list[int]]:
    """Fill every shape's store first, serve them all at once, then measure them interleaved:
    each round measures every figure of every store (``budget / rounds`` seconds each), so a
    change in the shared machine's load hits all shapes alike; each figure is the median of its
    round medians."""
    paths: dict[tuple[int, int], Path] = {}
    filled: dict[tuple[int, int], float] = {}
    for s, d in shapes:
        path = paths[(s, d)] = root / f"s{s}-d{d}.db"
        started = time.perf_counter()
        fill(path, s, d)
        filled[(s, d)] = time.perf_counter() - started
        print(f"{s:>5} services x {d:>6} deployments filled in {filled[(s, d)]:.0f} s", flush=True)
    tokens = root / "tokens"
    tokens.write_text("")
    tokens.chmod(0o600)  # the service refuses a tokens file others can read
    servers: dict[tuple[int, int], ServiceProcess] = {}
    conns: dict[tuple[int, int], http.client.HTTPConnection] = {}
    samples: dict[tuple[int, int], dict[str, list[float]]] = {k: {} for k in paths}
    history_bytes: dict[tuple[int, int], int] = {}
    python = sys.executable
    share = budget / rounds
    ticks: list[int] = []
    try:
        for key, path in paths.items():
            port = free_port()
            servers[key] = ServiceProcess(
                [python, "-m", "pipelinelib", "serve", "--port", str(port)],
                service_env(f"sqlite:///{path}", tokens),
                port,
                root / f"serve-{path.stem}.log",
            ).start(timeout=600)
            conn = conns[key] = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            conn.request("GET", "/environments/test")
            history_bytes[key] = len(conn.getresponse().read())
            for _, target in PAGES:  # the process's first requests pay its imports
                _median_latency(conn, target, 0)
        ticks = cpu_times()
        for number in range(1, rounds + 1):
            print(f"round {number}/{rounds}: load average {_load():.1f}", flush=True)
            for key, path in paths.items():
                got = samples[key]
                for name, target in PAGES:
                    got.setdefault(name, []).append(_median_latency(conns[key], target, share))
                got.setdefault("python", []).append(_median_run([python, "-c", "pass"], share / 2))
                got.setdefault("cli_diff", []).append(
                    _median_run(
                        [
                            python,
                            "-m",
                            "pipelinelib",
                            "diff",
                            "test",
                            "live",
                            "--db",
                            f"sqlite:///{path}",
                        ],
                        share,
                    )
                )
    finally:
        for conn in conns.values():
            conn.close()
        for server in servers.values():
            server.stop()
    results: dict[tuple[int, int], dict[str, float]] = {}
    for key, got in samples.items():
        results[key] = {name: statistics.median(values) for name, values in got.items()}
        results[key]["fill"] = filled[key]
        results[key]["history_bytes"] = history_bytes[key]
    return results, ticks


def _load() -> float:
    return os.getloadavg()[0]


def _shapes(
    services: list[int], deployments: list[int], max_rows: int
) -> Iterator[tuple[int, int]]:
    for s in services:
        for d in deployments:
            if s * d > max_rows:
                print(f"skipped {s} services x {d} deployments: {s * d:,} rows > --max-rows")
                continue
            yield s, d


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.growth")
    parser.add_argument("--services", default="10,100,1000")
    parser.add_argument("--deployments", default="10000,100000")
    parser.add_argument("--max-rows", type=int, default=10_000_000)
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per figure in all")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    args = parser.parse_args(argv if argv is not None else [])
    services = [int(v) for v in args.services.split(",")]
    deployments = [int(v) for v in args.deployments.split(",")]
    shapes = list(_shapes(services, deployments, args.max_rows))
    with tempfile.TemporaryDirectory() as tmp:
        results, ticks = measure_all(Path(tmp), shapes, args.budget, args.rounds)
    print(f"CPU steal during the measuring rounds: {steal_note(ticks)}")
    for (s, d), f in results.items():
        print(
            f"{s:>5} services x {d:>6} deployments: "
            f"board {f['board'] * 1000:.1f} ms | diff page {f['diff'] * 1000:.1f} ms "
            f"({f['diff'] / f['board']:.2f}x board) | history page "
            f"{f['history'] * 1000:.1f} ms ({f['history'] / f['board']:.2f}x board, "
            f"{f['history_bytes'] / 1e6:.2f} MB) | CLI diff {f['cli_diff'] * 1000:.0f} ms "
            f"({f['cli_diff'] / f['python']:.1f}x python -c pass "
            f"{f['python'] * 1000:.0f} ms)",
            flush=True,
        )
    for s in services:
        measured = sorted(d for (s2, d) in results if s2 == s)
        for low, high in itertools.pairwise(measured):
            a, b = results[(s, low)], results[(s, high)]
            print(
                f"growth at {s} services, {high} / {low} deployments: "
                + ", ".join(
                    f"{k} {b[k] / a[k]:.2f}x" for k in ("board", "diff", "history", "cli_diff")
                )
                # Shapes are measured interleaved; each page is also given relative to its own
                # store's board.
                + f"; relative to each store's board: diff "
                f"{(b['diff'] / b['board']) / (a['diff'] / a['board']):.2f}x, history "
                f"{(b['history'] / b['board']) / (a['history'] / a['board']):.2f}x"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
