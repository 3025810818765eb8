"""History and DORA metrics at 10,000 deployments against the board of the same store.

One SQLite store is filled by :func:`bench.growth.fill` (10 services, 20 builds each, 10,000
deployments carrying every service, all recorded now: the whole ledger falls inside the
30-day window, the metrics' worst case), each service build with a commit time. It is served by
``pipelinelib serve`` and measured over one keep-alive connection (median latency):

* ``GET /`` (the board: the baseline),
* ``GET /history`` and ``GET /api/v1/history`` (one page of every environment's deployments),
* ``GET /insight?window=30d`` and ``GET /api/v1/metrics?window=30d`` (the four keys over the
  window, per environment and per service, plus the SVG plots for the page).

It prints each latency (median, warm) and its ratio to the board; issue 17 asks for at most 3x.
The service caches a metrics report per ledger generation and minute
(pipelinelib/service/insight_cache.py), so it also prints the first request of a window (cold:
the median of 7 requests each for a window not asked before, after one request has warmed the
process): what the first viewer after each deployment pays.

Run: ``.venv/bin/python -m bench insight`` (``python -m bench.insight --deployments 10000
--services 10``).
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import growth
from bench._servers import ServiceProcess, free_port, service_env

COMMIT_TIME = "2026-01-01T00:00:00Z"
PAGES = (
    ("board", "/"),
    ("history page", "/history"),
    ("history API", "/api/v1/history"),
    ("metrics page", "/insight?window=30d"),
    ("metrics API", "/api/v1/metrics?window=30d"),
)


# A report is cached per ledger generation and minute (pipelinelib/service/insight_cache.py):
# the first request for a window pays the whole read (cold); the medians above are warm. Each
# cold figure is the median of COLD_ROUNDS requests, each for a window not asked before.
COLD = (
    ("metrics page, cold", "/insight?window={days}d"),
    ("metrics API, cold", "/api/v1/metrics?window={days}d"),
)
COLD_ROUNDS = 7


def _once(conn: http.client.HTTPConnection, target: str) -> float:
    start = time.perf_counter()
    conn.request("GET", target)
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {target} answered {response.status}")
    return time.perf_counter() - start


def _entry_with_commit_time(service: str, build: int) -> dict[str, object]:
    return {**_plain_entry(service, build), "commit_time": COMMIT_TIME}


_plain_entry = growth._entry


def measure(root: Path, services: int, deployments: int, budget: float) -> dict[str, float]:
    path = root / "insight.db"
    growth._entry = _entry_with_commit_time  # every service build records its commit time
    try:
        growth.fill(path, services, deployments)
    finally:
        growth._entry = _plain_entry
    tokens = root / "tokens"
    tokens.write_text("")
    tokens.chmod(0o600)
    port = free_port()
    server = ServiceProcess(
        [sys.executable, "-m", "pipelinelib", "serve", "--port", str(port)],
        service_env(f"sqlite:///{path}", tokens),
        port,
        root / "serve.log",
    ).start(timeout=120)
    figures: dict[str, float] = {}
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        _once(conn, "/")  # the process's first request pays its imports, not a figure's
        _once(conn, "/insight?window=1d")
        days = 30
        for name, target in COLD:  # the first request of a window computes the report
            times = []
            for _ in range(COLD_ROUNDS):
                days += 1
                times.append(_once(conn, target.format(days=days)))
            figures[name] = statistics.median(times)
        for name, target in PAGES:
            figures[name] = growth._median_latency(conn, target, budget)
        conn.close()
    finally:
        server.stop()
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.insight")
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--deployments", type=int, default=10_000)
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per measurement")
    args = parser.parse_args(argv if argv is not None else [])
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure(Path(tmp), args.services, args.deployments, args.budget)
    board = figures["board"]
    print(f"{args.services} services x {args.deployments:,} deployments (SQLite, one connection)")
    for name, _ in (*PAGES, *COLD):
        value = figures[name]
        ratio = value / board
        verdict = "" if name == "board" else ("  ok (<= 3x)" if ratio <= 3 else "  OVER 3x")
        print(f"  {name:<18} {value * 1000:9.1f} ms  {ratio:5.2f}x board{verdict}")


if __name__ == "__main__":
    main(sys.argv[1:])
