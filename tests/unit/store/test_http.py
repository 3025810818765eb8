"""HttpStore's transport: retries only where a retry is safe and useful, errors mapped back."""

from __future__ import annotations

import pytest
import responses

from pipelinelib.config import SERVICE_HEADER
from pipelinelib.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RemoteServiceError,
    StoreUnavailableError,
)
from pipelinelib.store.http import HttpStore
from tests.fakes.manifests import build_manifest
from tests.fakes.scripted_server import DROP, refused_url, scripted_server

SERVER = "http://manifests.example:8080"
SERVICE = {SERVICE_HEADER: "0.1.0"}  # every answer of the real service carries it


@pytest.fixture
def store() -> HttpStore:
    sleeps: list[float] = []
    s = HttpStore(SERVER, token="t" * 20, retries=3, backoff=0.1, sleep=sleeps.append)
    s.sleeps = sleeps  # type: ignore[attr-defined]
    return s


def test_retries_502_503_504_with_exponential_backoff() -> None:
    sleeps: list[float] = []
    script = [(502, {"error": "busy"}), (503, {"error": "busy"}), (504, {"error": "busy"})]
    with scripted_server([*script, (201, {})]) as (url, server):
        store = HttpStore(url, token="t" * 20, retries=3, backoff=0.1, sleep=sleeps.append)
        assert store.publish(build_manifest()) is True
    assert sleeps == [0.1, 0.2, 0.4]
    assert server.requests == [("POST", "/api/v1/builds")] * 4


def test_gives_up_after_the_retries_with_the_gateways_answer() -> None:
    sleeps: list[float] = []
    with scripted_server([(503, {"error": "down for maintenance"})] * 3) as (url, server):
        store = HttpStore(url, retries=2, backoff=0.1, sleep=sleeps.append)
        with pytest.raises(StoreUnavailableError, match="down for maintenance"):
            store.environments()
    assert len(server.requests) == 3 and sleeps == [0.1, 0.2]


def test_retries_connection_errors_then_gives_up() -> None:
    sleeps: list[float] = []
    store = HttpStore(refused_url(), retries=3, backoff=0.1, sleep=sleeps.append)
    with pytest.raises(StoreUnavailableError, match="is unreachable"):
        store.choices("a")
    assert sleeps == [0.1, 0.2, 0.4]  # four attempts in all


def test_an_identical_replay_after_a_lost_answer_is_not_created() -> None:
    sleeps: list[float] = []
    # The service committed the publish but the answer was lost; the replay is answered 200.
    with scripted_server([(DROP, None), (200, {})]) as (url, server):
        store = HttpStore(url, retries=3, backoff=0.1, sleep=sleeps.append)
        assert store.publish(build_manifest()) is False
    assert server.requests == [("POST", "/api/v1/builds")] * 2 and sleeps == [0.1]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvalidInputError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, PayloadTooLargeError),
        (500, RemoteServiceError),
    ],
)
@responses.activate
def test_http_errors_map_to_the_same_classes_with_the_servers_message(
    store: HttpStore, status: int, error: type[Exception]
) -> None:
    responses.get(
        f"{SERVER}/api/v1/jobs/team/app/builds/3",
        json={"error": "told by server"},
        status=status,
        headers=SERVICE,
    )
    with pytest.raises(error, match="told by server"):
        store.get_build("team/app", 3)
    assert len(responses.calls) == 1  # never retried


@responses.activate
def test_no_retry_on_500_or_4xx(store: HttpStore) -> None:
    responses.post(f"{SERVER}/api/v1/builds", json={"error": "boom"}, status=500, headers=SERVICE)
    with pytest.raises(RemoteServiceError):
        store.publish(build_manifest())
    assert len(responses.calls) == 1


@responses.activate
def test_job_folders_stay_paths_and_odd_characters_are_encoded(store: HttpStore) -> None:
    responses.get(f"{SERVER}/api/v1/jobs/team/my%20app/builds", json={"builds": []})
    assert store.list_builds("team/my app") == []
    assert responses.calls[0].request.url.endswith(
        "/api/v1/jobs/team/my%20app/builds?result=SUCCESS&limit=100"
    )


@responses.activate
def test_a_server_that_is_not_the_service_is_a_remote_error(store: HttpStore) -> None:
    responses.get(f"{SERVER}/api/v1/environments", body="<html>proxy</html>", status=200)
    with pytest.raises(RemoteServiceError, match="invalid JSON"):
        store.environments()


def test_a_server_url_must_be_http() -> None:
    with pytest.raises(InvalidInputError, match="http:// or https://"):
        HttpStore("manifests:8080")


def test_timeouts_are_connect_and_read(store: HttpStore) -> None:
    assert store.timeout == (5.0, 30.0)


@responses.activate
@pytest.mark.parametrize(
    ("status", "body", "ctype"),
    [
        (404, '{"error": "nf"}', "application/json"),  # the field report: "error: nf"
        (404, "<html>Not Found</html>", "text/html"),
        (401, '{"message": "login"}', "application/json"),
        (400, "bad", "text/plain"),
    ],
)
def test_a_server_that_is_not_the_manifest_service_is_named_as_such(
    store: HttpStore, status: int, body: str, ctype: str
) -> None:
    responses.get(f"{SERVER}/api/v1/environments", body=body, status=status, content_type=ctype)
    with pytest.raises(StoreUnavailableError) as info:
        store.environments()
    message = str(info.value)
    assert message.startswith(f"{SERVER} does not look like a pipelinelib manifest service")
    assert f"HTTP {status}" in message
    assert "check --server / PIPELINELIB_SERVER" in message
