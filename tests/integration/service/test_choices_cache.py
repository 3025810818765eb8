"""The choices cache: fast on a repeat, never stale across replicas (issue 18).

Each replica keeps the choices body in memory, keyed by the job's generation that the store
bumps in the same transaction as a publish or a display-name change. A write on replica A must
show on replica B at B's very next request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from pipelinelib.service import create_app
from pipelinelib.store.sql import SqlStore
from tests.fakes.manifests import build_manifest
from tests.fixtures.service import PUBLISH_TOKEN, ServiceProcess

JOB = "team/service1-build"


def _publish(base: str, number: int, message: str | None = None) -> None:
    answer = requests.post(
        f"{base}/api/v1/builds",
        json=build_manifest(JOB, number, message=message).to_dict(),
        headers={"Authorization": f"Bearer {PUBLISH_TOKEN}"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text


def _choices(base: str, **headers: str) -> requests.Response:
    return requests.get(f"{base}/api/v1/jobs/{JOB}/choices?limit=3", headers=headers, timeout=30)


def test_a_write_on_one_replica_shows_on_another_at_once(
    store_url: str, service_process: Callable[..., ServiceProcess]
) -> None:
    """Replica A is gunicorn (2 workers), replica B `pipelinelib serve`; one database."""
    a = service_process(store_url, gunicorn_workers=2)
    b = service_process(store_url, gunicorn_workers=0)
    for number in (1, 2, 3):
        _publish(a.url, number)
    first = _choices(b.url)
    assert first.text == "3-Change 3 of service1\n2-Change 2 of service1\n1-Change 1 of service1\n"
    assert _choices(b.url).text == first.text  # served from B's cache
    assert _choices(b.url, **{"If-None-Match": first.headers["ETag"]}).status_code == 304

    _publish(a.url, 4, message="Fix login")
    after_publish = _choices(b.url, **{"If-None-Match": first.headers["ETag"]})
    assert after_publish.status_code == 200
    assert after_publish.text.splitlines()[0] == "4-Fix login"
    assert after_publish.headers["ETag"] != first.headers["ETag"]

    renamed = requests.put(
        f"{a.url}/api/v1/jobs/{JOB}/builds/3/display-name",
        json={"display_name": "Renamed on A\nbody"},
        headers={"Authorization": f"Bearer {PUBLISH_TOKEN}"},
        timeout=30,
    )
    assert renamed.status_code == 200, renamed.text
    for replica in (b, a, b):  # every process, whichever worker answers
        assert _choices(replica.url).text.splitlines()[:2] == ["4-Fix login", "3-Renamed on A"]


def test_a_repeat_is_a_cache_hit_and_another_writer_invalidates_it(store_url: str) -> None:
    """In one process, with the other replica's writes made through a second store."""
    app = create_app(store_url, allow_anonymous_writes=True)
    other = SqlStore.from_url(store_url)
    try:
        cache: Any = app.extensions["pipelinelib"]["choices_cache"]
        client = app.test_client()
        other.publish(build_manifest(JOB, 1))
        url = f"/api/v1/jobs/{JOB}/choices"
        assert client.get(url).text == "1-Change 1 of service1\n"
        assert client.get(url).text == "1-Change 1 of service1\n"
        assert (cache.misses, cache.hits) == (1, 1)
        other.publish(build_manifest(JOB, 1))  # an identical replay changes nothing
        assert client.get(url).text == "1-Change 1 of service1\n"
        assert (cache.misses, cache.hits) == (1, 2)
        other.set_display_name(JOB, 1, "renamed elsewhere")
        assert client.get(url).text == "1-renamed elsewhere\n"
        other.publish(build_manifest(JOB, 2, result="FAILURE"))
        other.publish(build_manifest(JOB, 3))
        assert client.get(url).text == "3-Change 3 of service1\n1-renamed elsewhere\n"
        assert client.get(f"{url}?limit=1").text == "3-Change 3 of service1\n"
        assert cache.misses == 4
        assert client.get("/api/v1/jobs/unknown/choices").text == ""
    finally:
        other.close()
        app.extensions["pipelinelib"]["store"].close()
