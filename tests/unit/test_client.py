"""HttpStore's transport: retries only where a retry is safe and useful, errors mapped back."""

from __future__ import annotations

import pytest
import requests
import responses

from pipelinelib.client import HttpStore
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
from tests.fakes.manifests import build_manifest

SERVER = "http://manifests.example:8080"
SERVICE = {SERVICE_HEADER: "0.1.0"}  # every answer of the real service carries it


@pytest.fixture
def store() -> HttpStore:
    sleeps: list[float] = []
    s = HttpStore(SERVER, token="t" * 20, retries=3, backoff=0.1, sleep=sleeps.append)
    s.sleeps = sleeps  # type: ignore[attr-defined]
    return s


@responses.activate
def test_retries_502_503_504_with_exponential_backoff(store: HttpStore) -> None:
    url = f"{SERVER}/api/v1/builds"
    for status in (502, 503, 504):
        responses.post(url, json={"error": "busy"}, status=status)
    responses.post(url, json={}, status=201)
    assert store.publish(build_manifest()) is True
    assert store.sleeps == [0.1, 0.2, 0.4]  # type: ignore[attr-defined]
    assert len(responses.calls) == 4
    assert responses.calls[0].request.headers["Authorization"] == "Bearer " + "t" * 20


@responses.activate
def test_retries_connection_errors_then_gives_up(store: HttpStore) -> None:
    url = f"{SERVER}/api/v1/jobs/a/choices"
    for _ in range(4):
        responses.get(url, body=requests.ConnectionError("refused"))
    with pytest.raises(StoreUnavailableError, match="is unreachable"):
        store.choices("a")
    assert len(responses.calls) == 4


@responses.activate
def test_an_identical_replay_after_a_lost_answer_is_not_created(store: HttpStore) -> None:
    url = f"{SERVER}/api/v1/builds"
    responses.post(url, body=requests.ConnectionError("reset after the server committed"))
    responses.post(url, json={}, status=200)
    assert store.publish(build_manifest()) is False


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
