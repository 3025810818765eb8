"""Which production HTTP server: the documented gunicorn gthread 2x8 against the candidates.

For each candidate, in one run on the same store (100,000 builds, the hot job of bench.service):

(a) slow clients: 24 connections each send a POST's headers and then one body byte every 2 s;
    meanwhile ``GET /healthz`` is asked 10 times with a 5 s timeout. Figure: answered / 10.
(b) reload with a bad tokens file: append a typo to the tokens file and send SIGHUP to the
    server's master; is ``/healthz`` still answered 5 s later, and does the old token still publish?
(c) the server's own 4xx (header too large, URL too long, bad Content-Length): are they JSON?
(d) throughput with wrk (32 connections, 8 s) on the choices endpoint and on ``/healthz`` (the
    trivial endpoint, the in-run baseline), if wrk is installed (``make bench``).

Run: ``.venv/bin/python -m bench server_choice``. Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from bench.service import CHOICES, TOKEN, fill, latency, start
from bench.service_wrk import _wrk

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "docker" / "gunicorn.conf.py"
GRANIAN_ARGS = ROOT / "docker" / "granian-args"


def gunicorn_gthread(port: int) -> list[str]:
    """The command docs/operations.md documented before this benchmark."""
    return [
        sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "gthread",
        "--threads", "8", "--keep-alive", "5", "--bind", f"127.0.0.1:{port}",
        "--graceful-timeout", "20", "pipelinelib.service:create_app()",
    ]  # fmt: skip


def gunicorn_image(port: int) -> list[str]:
    """gunicorn with the image's config (docker/gunicorn.conf.py): gevent, 2 workers."""
    return [
        sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF),
        "--bind", f"127.0.0.1:{port}", "pipelinelib.service:create_app()",
    ]  # fmt: skip


def gunicorn_image_gthread(port: int) -> list[str]:
    """The image's config with gthread 2x8 instead of gevent: the same logging and hooks."""
    return [*gunicorn_image(port)[:-1], "--worker-class", "gthread", "--threads", "8",
            "pipelinelib.service:create_app()"]  # fmt: skip


def granian(port: int) -> list[str]:
    """granian's WSGI interface, 2 workers x 8 blocking threads (docker/granian-args)."""
    args = GRANIAN_ARGS.read_text().split()
    return [
        sys.executable, "-m", "granian", *args, "--host", "127.0.0.1", "--port", str(port),
        "pipelinelib.service:create_app",
    ]  # fmt: skip


CANDIDATES: dict[str, Callable[[int], list[str]]] = {
    "gunicorn gthread 2x8 (documented)": gunicorn_gthread,
    "granian wsgi 2x8": granian,
    "gunicorn gevent 2x1000 (docker/gunicorn.conf.py)": gunicorn_image,
    "gunicorn gthread 2x8 with docker/gunicorn.conf.py": gunicorn_image_gthread,
}


def slow_clients(port: int, clients: int = 24, seconds: float = 12) -> tuple[int, int]:
    """(healthz answered, asked) while ``clients`` dribble a body one byte every 2 s."""
    stop = threading.Event()
    socks: list[socket.socket] = []

    def dribble() -> None:
        sock = socket.create_connection(("127.0.0.1", port))
        socks.append(sock)
        try:
            sock.sendall(
                b"POST /api/v1/builds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + TOKEN.encode() + b"\r\nContent-Length: 1000\r\n\r\n"
            )
            while not stop.is_set():
                sock.sendall(b" ")
                stop.wait(2)
        except OSError:
            pass

    threads = [threading.Thread(target=dribble, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    time.sleep(2)
    answered = 0
    asked = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and asked < 10:
        asked += 1
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                answered += 1
        except requests.RequestException:
            pass
    stop.set()
    for sock in socks:
        sock.close()
    return answered, asked


def bad_reload(proc_pid: int, port: int, tokens: Path) -> str:
    good = tokens.read_text()
    tokens.write_text(good + "this-line-has-a-typo publsh\n")
    tokens.chmod(0o600)
    os.kill(proc_pid, signal.SIGHUP)
    time.sleep(5)
    try:
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code
        publish = requests.post(
            f"http://127.0.0.1:{port}/api/v1/builds",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"job": "reload-check", "number": 1, "result": "SUCCESS", "services": {}},
            timeout=5,
        ).status_code
        outcome = f"healthz {health}, publish with the old token {publish}"
    except requests.RequestException as exc:
        outcome = f"down ({type(exc).__name__})"
    tokens.write_text(good)
    tokens.chmod(0o600)
    return outcome


def own_errors(port: int) -> dict[str, str]:
    """The content type the server itself answers malformed requests with."""
    cases = {
        "431 header too large": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
        + b"a" * 70000
        + b"\r\n\r\n",
        "414 URL too long": b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        "bad Content-Length": b"POST /api/v1/builds HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    }
    found = {}
    for name, raw in cases.items():
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            try:
                sock.sendall(raw)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                time.sleep(0.2)
                sock.settimeout(0.5)
                with contextlib.suppress(OSError):
                    data += sock.recv(65536)
            except OSError as exc:
                found[name] = f"connection error {type(exc).__name__}"
                continue
        head, _, body = data.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].decode("latin-1")
        ctype = re.search(rb"(?im)^content-type:\s*([^\r\n;]+)", head)
        kind = ctype.group(1).decode() if ctype else "no content-type"
        try:
            json.loads(body)
            kind += " (JSON)"
        except ValueError:
            kind += f" (not JSON: {body[:40]!r})"
        found[name] = f"{status or 'closed'}: {kind}"
    return found


def main(rounds: int = 3) -> None:
    work = Path(tempfile.mkdtemp(prefix="pipelinelib-server-choice-"))
    tokens = work / "tokens"
    tokens.write_text(f"{TOKEN} publish\n")
    tokens.chmod(0o600)
    db = work / "store.db"
    fill(f"sqlite:///{db}", 100_000, 10_000)
    procs = {
        name: start(argv_of, f"sqlite:///{db}", work, tokens)
        for name, argv_of in CANDIDATES.items()
    }
    try:
        for name, proc in procs.items():
            latency(proc.port, CHOICES, 200)  # warm every worker
            answered, asked = slow_clients(proc.port)
            print(f"{name}: (a) 24 slow clients: /healthz answered {answered}/{asked}")
            for case, kind in own_errors(proc.port).items():
                print(f"{name}: (c) {case}: {kind}")
        if shutil.which("wrk"):
            # Interleaved rounds: the load of a shared machine hits every candidate alike.
            figures: dict[str, list[tuple[float, float]]] = {name: [] for name in procs}
            for _ in range(rounds):
                for name, proc in procs.items():
                    base, _ = _wrk(proc.port, "/healthz")
                    rps, errors = _wrk(proc.port, CHOICES)
                    assert errors == "all 2xx", errors
                    figures[name].append((rps, base))
            for name, runs in figures.items():
                shown = " / ".join(
                    f"{rps:.0f} ({rps / base:.2f}x of /healthz {base:.0f})" for rps, base in runs
                )
                print(f"{name}: (d) choices req/s per round: {shown}")
        else:
            print("(d) skipped: wrk is not installed (make bench installs it)")
        for name, proc in procs.items():
            print(
                f"{name}: (b) SIGHUP with a bad tokens file: {bad_reload(proc.process.pid, proc.port, tokens)}"
            )
    finally:
        for proc in procs.values():
            proc.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
