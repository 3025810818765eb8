"""The local dry run and the ledger's pages, with ratios measured in the same run.

* ``pipelinelib demo`` wall time against ``python -c pass`` (the issue asks < 30 s).
* A store holding the demo plus 2,000 more deployments of test: ``GET /`` (the board),
  ``GET /environments/test`` and ``GET /diff?from=test&to=live`` against the ``/healthz`` round
  trip of the same server (``pipelinelib serve``, one keep-alive connection).

Run: ``.venv/bin/python -m bench ledger``.
"""

from __future__ import annotations

import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench._servers import ServiceProcess, free_port, service_env
from bench._timing import median_seconds, report, run_command
from pipelinelib import demo
from pipelinelib.model import Manifest
from pipelinelib.store.sql import SqlStore

EXTRA_DEPLOYMENTS = 2_000
ROUNDS = 200


def _latency(conn: http.client.HTTPConnection, path: str) -> float:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        samples.append(time.perf_counter() - start)
        assert response.status == 200, (path, response.status)
    return statistics.median(samples)


def main() -> None:
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        baseline = median_seconds(run_command([python, "-c", "pass"]), 5)
        runs = iter(range(100))
        demo_time = median_seconds(
            lambda: run_command(
                [python, "-m", "pipelinelib", "demo", "--workdir", str(root / f"d{next(runs)}")]
            )(),
            5,
        )
        print(report("pipelinelib demo (whole pipeline)", "python -c pass", baseline, demo_time))

        db = demo.run(root / "big", lambda _line: None)
        store = SqlStore.from_url(f"sqlite:///{db}")
        current = store.get_build("deploy-test", 2)
        store.publish_many(
            Manifest(
                job="deploy-test",
                number=n,
                environment="test",
                display_name=f"redeploy {n}",
                services=list(current.services.values()),
            )
            for n in range(3, 3 + EXTRA_DEPLOYMENTS)
        )
        store.close()
        tokens = root / "tokens"
        tokens.write_text("")
        tokens.chmod(0o600)
        port = free_port()
        server = ServiceProcess(
            [python, "-m", "pipelinelib", "serve", "--port", str(port)],
            service_env(f"sqlite:///{db}", tokens),
            port,
            root / "serve.log",
        ).start()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            health = _latency(conn, "/healthz")
            for name, path in (
                ("board GET /", "/"),
                ("history GET /environments/test", "/environments/test"),
                ("diff GET /diff?from=test&to=live", "/diff?from=test&to=live"),
            ):
                print(report(name, "/healthz", health, _latency(conn, path)))
            conn.close()
        finally:
            server.stop()
    print(f"(store: demo + {EXTRA_DEPLOYMENTS} deployments of test; {ROUNDS} requests each)")


if __name__ == "__main__":
    main()
