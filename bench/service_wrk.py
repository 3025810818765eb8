"""Requests/second of the production command measured with wrk, a C load generator.

bench/service.py drives load from Python, which competes with the server for the same 2 cores.
wrk costs far less CPU per request, so this is the fairer ceiling of the server itself. Both
figures are recorded in docs/benchmarks.md. Same store as bench.service: 100,000 builds, one hot
job with 10,000 (30% failed). Each WSGI server candidate, `/healthz` (baseline: no store work
beyond a ping) and the choices endpoint, 32 connections for 8 s each.

Run: ``make bench`` installs wrk (scripts/install-tools.sh bench); then
``.venv/bin/python -m bench service_wrk``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.service import CHOICES, SERVERS, TOKEN, fill, latency, start

DURATION = "8s"
CONNECTIONS = "32"


def _wrk(port: int, path: str) -> tuple[float, str]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = "non-2xx: " + m.group(1) if (m := re.search(r"Non-2xx.*?(\d+)", out)) else "all 2xx"
    return rps, errors


def main() -> None:
    if shutil.which("wrk") is None:
        print("wrk is not installed: run `bash scripts/install-tools.sh bench` (make bench does)")
        return
    work = Path(tempfile.mkdtemp(prefix="pipelinelib-wrk-"))
    tokens = work / "tokens"
    tokens.write_text(f"{TOKEN} publish\n")
    tokens.chmod(0o600)
    db = work / "store.db"
    fill(f"sqlite:///{db}", 100_000, 10_000)
    for name, argv in SERVERS.items():
        proc = start(argv, f"sqlite:///{db}", work, tokens)
        try:
            latency(proc.port, CHOICES, 200)  # warm the workers
            base, _ = _wrk(proc.port, "/healthz")
            rps, errors = _wrk(proc.port, CHOICES)
            print(
                f"{name}: choices {rps:.0f} req/s ({errors}), /healthz {base:.0f} req/s "
                f"-> choices at {rps / base:.2f}x of /healthz"
            )
        finally:
            proc.stop()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
