"""The production server as the container image runs it: docker/entrypoint.sh + gunicorn.conf.py.

No Docker daemon is available here, so the image itself is not built; its entrypoint and its
gunicorn configuration run as they are, outside a container (docs/operations.md says so).
Each test is one failure the issue met when following docs/operations.md with gunicorn gthread.
"""

from __future__ import annotations

import json
import re
import socket
import stat
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.fakes.manifests import build_manifest
from tests.fixtures.image import StartImageServer
from tests.fixtures.service import PUBLISH_TOKEN

pytestmark = pytest.mark.slow

NEW_TOKEN = "new-publish-token-" + "n" * 20


def _publish(url: str, token: str, number: int) -> int:
    body = build_manifest("rotation-check", number).to_dict()
    return requests.post(
        f"{url}/api/v1/builds",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).status_code


def _wait_for(predicate: object, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def _db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'pipelinelib.db'}"


def test_secret_from_the_environment_becomes_a_0600_tokens_file(
    image_server: StartImageServer, tmp_path: Path
) -> None:
    tokens = tmp_path / "run" / "tokens"
    server = image_server(
        _db(tmp_path),
        {
            "PIPELINELIB_TOKENS": f"{PUBLISH_TOKEN} publish  # Jenkins",
            "PIPELINELIB_TOKENS_FILE": str(tokens),
        },
    )
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    assert _publish(server.url, PUBLISH_TOKEN, 1) == 201
    assert _publish(server.url, "not-a-valid-token-at-all", 2) == 401


def test_rotation_with_a_bad_tokens_file_keeps_serving_the_previous_tokens(
    image_server: StartImageServer, tokens_file: Path, tmp_path: Path
) -> None:
    """docs/operations.md "Tokens": add the new token, reload with HUP, move Jenkins, remove."""
    server = image_server(_db(tmp_path), {"PIPELINELIB_TOKENS_FILE": str(tokens_file)})
    assert _publish(server.url, PUBLISH_TOKEN, 1) == 201
    good = tokens_file.read_text()

    # A typo while adding the new token, then the reload the docs say to send.
    tokens_file.write_text(good + f"{NEW_TOKEN} publsh   # new Jenkins credential\n")
    server.hup()
    assert _wait_for(lambda: "tokens file not reloaded" in server.log()), server.log()
    assert "unknown scope publsh" in server.log()
    time.sleep(1.5)  # past the workers' re-check interval of the file
    assert server.process.poll() is None, server.log()
    assert _publish(server.url, PUBLISH_TOKEN, 2) == 201
    assert _publish(server.url, NEW_TOKEN, 3) == 401

    # Fixed: reload again, the new token works; then the old one is removed.
    tokens_file.write_text(good + f"{NEW_TOKEN} publish   # new Jenkins credential\n")
    server.hup()
    assert _wait_for(lambda: _publish(server.url, NEW_TOKEN, 4) == 201)
    tokens_file.write_text(f"{NEW_TOKEN} publish\n")
    server.hup()
    assert _wait_for(lambda: _publish(server.url, PUBLISH_TOKEN, 5) == 401)
    assert _publish(server.url, NEW_TOKEN, 6) == 201


def test_a_tokens_file_readable_by_others_stops_the_start_with_a_clear_message(
    image_server: StartImageServer, tokens_file: Path, tmp_path: Path
) -> None:
    tokens_file.chmod(0o644)
    server = image_server(_db(tmp_path), {"PIPELINELIB_TOKENS_FILE": str(tokens_file)}, ready=False)
    assert server.process.wait(timeout=60) != 0
    assert f"run: chmod 600 {tokens_file}" in server.log()


def test_the_access_log_is_json_on_stdout_and_the_logging_config_loads(
    image_server: StartImageServer, tokens_file: Path, tmp_path: Path
) -> None:
    server = image_server(_db(tmp_path), {"PIPELINELIB_TOKENS_FILE": str(tokens_file)})
    requests.get(f"{server.url}/api/v1/jobs/team/app/choices", timeout=10)

    def logged() -> list[dict[str, object]]:
        return [json.loads(line) for line in server.stdout.read_text().splitlines() if line]

    assert _wait_for(lambda: any(e["path"] == "/api/v1/jobs/team/app/choices" for e in logged()))
    entry = next(e for e in logged() if e["path"] == "/api/v1/jobs/team/app/choices")
    assert entry["route"] == "/api/v1/jobs/<job:job>/choices" and entry["status"] == 200
    assert "Unable to configure" not in server.log()
    assert re.search(r"\[INFO\] gunicorn\.error: Booting worker", server.log()), server.log()


def _raw(port: int, request: bytes) -> tuple[str, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return lines[0], headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", "431"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "414"),
        (b"POST /api/v1/builds HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", "400"),
        (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", "400"),
    ],
    ids=["header-too-large", "url-too-long", "bad-content-length", "bad-version"],
)
def test_the_servers_own_errors_are_json(
    image_server: StartImageServer,
    tokens_file: Path,
    tmp_path: Path,
    request_bytes: bytes,
    status: str,
) -> None:
    server = image_server(_db(tmp_path), {"PIPELINELIB_TOKENS_FILE": str(tokens_file)})
    line, headers, body = _raw(server.port, request_bytes)
    assert line.split(" ")[1] == status, line
    assert headers["content-type"] == "application/json"
    assert isinstance(json.loads(body)["error"], str)


def test_slow_clients_do_not_starve_the_service(
    image_server: StartImageServer, tokens_file: Path, tmp_path: Path
) -> None:
    """24 clients send a body one byte every 2 s (gthread 2x8 stopped answering /healthz)."""
    server = image_server(_db(tmp_path), {"PIPELINELIB_TOKENS_FILE": str(tokens_file)})
    stop = threading.Event()
    socks = []
    for _ in range(24):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(
            b"POST /api/v1/builds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{"
        )
        socks.append(sock)

    def dribble() -> None:
        while not stop.wait(2):
            for sock in socks:
                sock.sendall(b" ")

    thread = threading.Thread(target=dribble, daemon=True)
    thread.start()
    try:
        time.sleep(2.5)
        answers = [requests.get(f"{server.url}/healthz", timeout=10).status_code for _ in range(5)]
        published = _publish(server.url, PUBLISH_TOKEN, 1)
    finally:
        stop.set()
        thread.join(timeout=10)
        for sock in socks:
            sock.close()
    assert answers == [200] * 5
    assert published == 201
