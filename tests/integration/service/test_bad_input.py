"""Reliability (d) and (e): hostile requests get a clear 4xx JSON error, never a 5xx."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pipelinelib.model import clean_text
from tests.fakes.hostile import corpus
from tests.fakes.manifests import build_manifest
from tests.fixtures.service import LiveService, StartService

GOOD = build_manifest("team/app", 1).to_dict()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def post(
    service: LiveService, http: requests.Session, data: Any, **headers: str
) -> requests.Response:
    return http.post(
        f"{service.url}/api/v1/builds",
        data=data,
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {service.token}",
            **headers,
        },
        timeout=60,
    )


def check(response: requests.Response, status: int, fragment: str) -> None:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"] == "application/json"
    assert fragment in response.json()["error"], response.json()


BAD_BODIES = [
    ("{", "not valid JSON"),
    ("", "request body is empty"),
    ("[]", "a manifest must be a JSON object"),
    ('"text"', "a manifest must be a JSON object"),
    ("\xff\xfe", "not UTF-8"),
    ('{"job": "a", "number": NaN, "services": {}}', "NaN is not valid JSON"),
    (json.dumps({**GOOD, "number": "1"}), "'number' must be an integer"),
    (json.dumps({**GOOD, "number": True}), "'number' must be an integer"),
    (json.dumps({**GOOD, "number": 2**31}), "between 1 and 2147483647"),
    (json.dumps({**GOOD, "number": -1}), "between 1 and 2147483647"),
    ('{"job": "a", "number": 1' + "0" * 5000 + ', "services": {}}', "not acceptable JSON"),
    (json.dumps({**GOOD, "number": 1.5}), "'number' must be an integer"),
    (json.dumps({**GOOD, "extra": 1}), "unknown manifest fields: ['extra']"),
    (json.dumps({**GOOD, "services": []}), "'services' must be an object"),
    (json.dumps({**GOOD, "services": {"Bad Name": {"build": 1}}}), "invalid service name"),
    (json.dumps({**GOOD, "services": {"s": {"build": 1, "x": 2}}}), "unknown fields"),
    (
        json.dumps({**GOOD, "services": {"s": {"build": "1"}}}),
        "services.s.build must be an integer",
    ),
    (json.dumps({**GOOD, "services": {"s": {"build": 1, "digest": "md5"}}}), "invalid digest"),
    (json.dumps({**GOOD, "job": "../../etc/passwd"}), "invalid job name"),
    (json.dumps({**GOOD, "job": "a//b"}), "invalid job name"),
    (json.dumps({**GOOD, "job": "a\nb"}), "invalid job name"),
    (json.dumps({**GOOD, "job": ""}), "job name must not be empty"),
    (json.dumps({**GOOD, "job": "x" * 300}), "longer than 255"),
    (json.dumps({**GOOD, "result": "GREAT"}), "result must be one of"),
    (json.dumps({**GOOD, "environment": "Live!"}), "invalid environment name"),
    (json.dumps({**GOOD, "source": {"job": "a"}}), "'source' must be {job, number}"),
    (json.dumps({**GOOD, "display_name": 5}), "display name must be a string"),
    (json.dumps({**GOOD, "display_name": "x" * 300_000}), "longer than 262144"),
    ("[" * 100_000 + "]" * 100_000, "nested deeper than 32 levels"),
    # field faults (issue 12): nesting, duplicate keys, links, names Jenkins never makes
    ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested deeper than 32 levels"),
    ('{"job": "a", "job": "b", "number": 1, "services": {}}', "'job' appears twice"),
    (
        '{"job": "a", "number": 1, "services": {"s": {"build": 1, "build": 2}}}',
        "'build' appears twice",
    ),
    (json.dumps({**GOOD, "url": "javascript:alert(document.cookie)"}), "http:// or https://"),
    (json.dumps({**GOOD, "url": "data:text/html,<script>1</script>"}), "http:// or https://"),
    (json.dumps({**GOOD, "url": "//evil.example/x"}), "http:// or https://"),
    ('{"job": "a\\ud800b", "number": 1, "services": {}}', "lone surrogate"),
    (json.dumps({**GOOD, "job": "team/\udfffx"}), "lone surrogate"),
    (json.dumps({**GOOD, "job": "team/svc\u202e"}), "U+202E"),
    (json.dumps({**GOOD, "job": "te\u200bam/svc"}), "U+200B"),
    (json.dumps({**GOOD, "job": "\ufefft"}), "U+FEFF"),
    (json.dumps({**GOOD, "job": "svc%zz"}), "'%' is only allowed as an escape"),
    (json.dumps({**GOOD, "source": {"job": "a\u2066b", "number": 1}}), "U+2066"),
]


@pytest.mark.parametrize(("body", "fragment"), BAD_BODIES)
def test_bad_publish_bodies_are_400_with_a_clear_message(
    live_service: LiveService, http: requests.Session, body: str, fragment: str
) -> None:
    data = body.encode("latin-1") if body.startswith("\xff") else body.encode("utf-8")
    check(post(live_service, http, data), 400, fragment)


def test_wrong_content_type_is_400(live_service: LiveService, http: requests.Session) -> None:
    check(
        post(live_service, http, json.dumps(GOOD), **{"Content-Type": "text/plain"}),
        400,
        "Content-Type",
    )


def test_ten_megabytes_is_413_with_and_without_content_length(
    live_service: LiveService, http: requests.Session
) -> None:
    big = b"{" + b" " * (10 * 1024 * 1024) + b"}"
    check(post(live_service, http, big), 413, "larger than 1048576 bytes")

    def chunks() -> Iterator[bytes]:  # a generator body: requests sends it chunked
        for _ in range(160):
            yield b" " * 65536

    chunked = post(live_service, http, chunks())
    assert chunked.request.headers.get("Transfer-Encoding") == "chunked"
    check(chunked, 413, "larger than 1048576 bytes")
    # The service still answers afterwards.
    assert post(live_service, http, json.dumps(GOOD)).status_code == 201


def test_a_lying_content_length_is_refused(live_service: LiveService) -> None:
    host, port = live_service.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/builds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + live_service.token.encode() + b"\r\n"
            b"Content-Length: 99999999999\r\nConnection: close\r\n\r\n{}"
        )
        answer = sock.recv(65536).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]


@pytest.mark.parametrize(
    ("header", "status", "fragment"),
    [
        (None, 401, "a bearer token with the publish scope is required"),
        ("Bearer wrong-token-wrong-token", 401, "the token is not valid"),
        ("Basic dXNlcjpwYXNz", 401, "must be 'Bearer <token>'"),
        ("Bearer " + "read-token-" + "y" * 24, 403, "the token has no publish scope"),
    ],
)
def test_publish_needs_a_publish_token(
    live_service: LiveService,
    http: requests.Session,
    header: str | None,
    status: int,
    fragment: str,
) -> None:
    headers = {"Content-Type": "application/json"}
    if header:
        headers["Authorization"] = header
    response = http.post(
        f"{live_service.url}/api/v1/builds", data=json.dumps(GOOD), headers=headers, timeout=10
    )
    check(response, status, fragment)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_without_tokens_writes_are_refused_unless_anonymous_is_allowed(
    start_service: StartService, http: requests.Session
) -> None:
    closed = start_service(tokens={})
    response = http.post(f"{closed.url}/api/v1/builds", json=GOOD, timeout=10)
    check(response, 403, "writes are disabled")
    assert http.get(f"{closed.url}/api/v1/jobs/team/app/choices", timeout=10).status_code == 200
    open_ = start_service(tokens={}, allow_anonymous_writes=True)
    assert http.post(f"{open_.url}/api/v1/builds", json=GOOD, timeout=10).status_code == 201


def test_reads_can_require_a_token(start_service: StartService, http: requests.Session) -> None:
    svc = start_service(require_read_token=True)
    url = f"{svc.url}/api/v1/jobs/team/app/choices"
    check(http.get(url, timeout=10), 401, "requires a token to read")
    assert (
        http.get(url, headers={"Authorization": f"Bearer {svc.read_token}"}, timeout=10).status_code
        == 200
    )
    assert (
        http.get(url, headers={"Authorization": f"Bearer {svc.token}"}, timeout=10).status_code
        == 200
    )
    assert http.get(f"{svc.url}/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "fragment"),
    [
        ("GET", "/nope", 404, "not found"),
        ("DELETE", "/api/v1/builds", 405, "not allowed"),
        ("GET", "/api/v1/builds", 405, "not allowed"),
        ("GET", "/api/v1/jobs/a/builds/abc", 400, "build number must be a positive integer"),
        ("GET", "/api/v1/jobs/a/builds/99999999999", 400, "larger than 2147483647"),
        ("GET", "/api/v1/jobs/a/builds/0", 400, "between 1 and"),
        ("GET", "/api/v1/jobs/a/choices?limit=0", 400, "limit must be"),
        ("GET", "/api/v1/jobs/a/choices?limit=-1", 400, "limit must be"),
        ("GET", "/api/v1/jobs/a/choices?limit=1e3", 400, "limit must be"),
        ("GET", "/api/v1/jobs/a/choices?limit=100000000000000000000", 400, "limit must be"),
        ("GET", "/api/v1/jobs/a/builds?result=GREAT", 400, "result must be one of"),
        ("GET", "/api/v1/jobs/a/../../etc/choices", 400, "invalid job name"),
        ("GET", "/api/v1/jobs/a/%2e%2e/b/choices", 400, "invalid job name"),
        ("GET", "/api/v1/jobs/a%00b/choices", 400, "invalid job name"),
        ("GET", "/api/v1/jobs/a%0Ab/choices", 400, "invalid job name"),
        ("GET", "/api/v1/jobs/a//b/choices", 400, "invalid job name"),
        ("GET", "/api/v1/jobs/a%5Cb/choices", 400, "invalid job name"),
        ("GET", "/api/v1/jobs/" + "x" * 300 + "/choices", 400, "longer than 255"),
        ("GET", "/api/v1/services/Bad/builds/1", 400, "invalid service name"),
        ("GET", "/api/v1/environments/..%2f/history", 404, "not found"),
        ("GET", "/api/v1/environments/..%2e/history", 400, "invalid environment name"),
        ("GET", "/api/v1/jobs/a/choices/", 404, "not found"),
    ],
)
def test_bad_paths_and_parameters(
    live_service: LiveService, method: str, path: str, status: int, fragment: str
) -> None:
    # Raw socket: clients would normalise '..' and '//' away before the server sees them.
    host, port = live_service.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == str(status).encode(), raw[:300]
    assert b"Content-Type: application/json" in head
    assert fragment in json.loads(body)["error"]


def test_hostile_display_names_come_back_as_inert_data(
    live_service: LiveService, http: requests.Session
) -> None:
    """(e) HTML/JS in names is a JSON string or text/plain with nosniff, never markup."""
    values = [v for v in corpus() if 0 < len(v) < 2000]
    for number, text in enumerate(values, 1):
        body = build_manifest("xss", number, display_name=text, message=text).to_dict()
        assert post(live_service, http, json.dumps(body)).status_code == 201
    listed = http.get(f"{live_service.url}/api/v1/jobs/xss/builds?limit=1000", timeout=30)
    assert listed.headers["Content-Type"] == "application/json"
    assert listed.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script>" not in listed.content  # ensure_ascii + JSON: markup is data
    names = {b["number"]: b["display_name"] for b in listed.json()["builds"]}
    assert names == {n: clean_text(v) for n, v in enumerate(values, 1)}
    assert len(names) == len(values)
    choices = http.get(f"{live_service.url}/api/v1/jobs/xss/choices?limit=1000", timeout=30)
    assert choices.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert choices.headers["X-Content-Type-Options"] == "nosniff"
    lines = choices.content.decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) - 1 == len(values)  # one line per build, always
    assert "<script>alert(1)</script>" in {line.partition("-")[2] for line in lines}
