"""The choices endpoint at concurrency 32: ten runs per server, minimum and median, each run
against the same server's trivial endpoint (``/healthz``) measured in the same round.

Store: bench.service's 100,000 builds (hot job with 10,000, 30% failed), SQLite. Servers: the
gunicorn gthread 2x8 command, the image's gunicorn command (docker/gunicorn.conf.py, when
present) and granian's WSGI interface with 2 workers x 8 blocking threads (skipped, saying so,
when granian is not installed). Every round runs wrk (1 thread, 32
connections, 5 s) on ``/healthz`` then on the choices URL of each server in turn, so the load of
the shared machine hits all alike. Then p50/p99 at concurrency 1 (one keep-alive connection,
1,000 requests). The choices body is served from the per-job generation cache
(pipelinelib/service/choices_cache.py): each request reads the job's generation (one
primary-key row) and formats nothing.

Each round prints the 1-minute load average when it starts, and the run ends with the share of
CPU time the hypervisor gave to other guests (``steal`` in ``/proc/stat``): on a shared virtual
machine both decide the figures as much as the server does.

Goals (issue 18): minimum of the 10 runs >= 2,000 req/s; median >= 60% of the same server's
``/healthz``; p99 at concurrency 1 <= 5 ms.

Run: ``.venv/bin/python -m bench choices_runs`` (wrk: ``make bench`` installs it).
"""

from __future__ import annotations

import http.client
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench._timing import cpu_times, steal_share
from bench.service import CHOICES, TOKEN, fill, latency, percentiles, production_argv, start

RUNS = 10
DURATION = "5s"


def granian_argv(port: int) -> list[str]:
    return [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--factory",
        "--workers", "2", "--blocking-threads", "8", "--host", "127.0.0.1", "--port", str(port),
        "pipelinelib.service:create_app",
    ]  # fmt: skip


GUNICORN_CONF = Path(__file__).resolve().parent.parent / "docker" / "gunicorn.conf.py"


def gunicorn_conf_argv(port: int) -> list[str]:
    """The image's command (docker/gunicorn.conf.py: gevent workers), when the file exists."""
    return [
        sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF),
        "--bind", f"127.0.0.1:{port}", "pipelinelib.service:create_app()",
    ]  # fmt: skip


def _wrk(port: int, path: str) -> float:
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{DURATION}", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Non-2xx" not in out, out
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def ratio_summary(runs: list[tuple[float, float]]) -> str:
    """Median of choices / ``/healthz`` over the runs (req/s of the same round). A run whose
    ``/healthz`` got no answer within wrk's 2 s timeout (0 req/s) has no ratio: counted apart."""
    ratios = [c / h for c, h in runs if h > 0]
    unanswered = len(runs) - len(ratios)
    note = f"; {unanswered} run(s) with /healthz at 0 req/s left out" if unanswered else ""
    if not ratios:
        return "no run with /healthz answered" + note
    return (
        f"median of choices / /healthz {statistics.median(ratios):.2f}x "
        f"(per run {min(ratios):.2f}-{max(ratios):.2f}){note}"
    )


def main() -> None:
    if shutil.which("wrk") is None:
        print("wrk is not installed: run `bash scripts/install-tools.sh bench` (make bench does)")
        return
    servers: dict[str, Callable[[int], list[str]]] = {"gunicorn gthread 2x8": production_argv}
    if GUNICORN_CONF.is_file() and importlib.util.find_spec("gevent") is not None:
        servers["gunicorn -c docker/gunicorn.conf.py"] = gunicorn_conf_argv
    if importlib.util.find_spec("granian") is not None:
        servers["granian wsgi 2x8"] = granian_argv
    else:
        print("granian is not installed: measuring gunicorn only")
    work = Path(tempfile.mkdtemp(prefix="pipelinelib-choices-"))
    tokens = work / "tokens"
    tokens.write_text(f"{TOKEN} publish\n")
    tokens.chmod(0o600)
    db = work / "store.db"
    fill(f"sqlite:///{db}", 100_000, 10_000)
    procs = {name: start(argv, f"sqlite:///{db}", work, tokens) for name, argv in servers.items()}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in procs}
    try:
        for proc in procs.values():
            latency(proc.port, CHOICES, 300)  # warm every worker and its cache
        ticks = cpu_times()
        for n in range(RUNS):
            print(f"round {n + 1}: load average {os.getloadavg()[0]:.1f}", flush=True)
            for name, proc in procs.items():
                runs[name].append((_wrk(proc.port, CHOICES), _wrk(proc.port, "/healthz")))
        steal = steal_share(ticks, cpu_times())
        if steal is not None:
            print(f"CPU steal during the rounds: {steal:.0%} (time the hypervisor ran others)")
        for name in procs:
            choices = [c for c, _ in runs[name]]
            print(f"{name}: choices req/s per run: " + ", ".join(f"{c:.0f}" for c in choices))
            print(
                f"{name}: /healthz req/s per run: " + ", ".join(f"{h:.0f}" for _, h in runs[name])
            )
            print(
                f"{name}: choices minimum {min(choices):.0f}, median "
                f"{statistics.median(choices):.0f} req/s; {ratio_summary(runs[name])}",
                flush=True,
            )
        for name, proc in procs.items():
            try:
                p50, p99 = percentiles(latency(proc.port, CHOICES, 1000))
            except (OSError, http.client.HTTPException) as exc:  # e.g. a reset keep-alive
                print(f"{name}: concurrency 1 failed: {exc!r}")
                continue
            print(f"{name}: concurrency 1: p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms")
    finally:
        for proc in procs.values():
            proc.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
