"""The HTTP API over a real server on a loopback port, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.fakes.manifests import build_manifest, deploy_manifest, published_build, service_build
from tests.fixtures.service import LiveService, StartService


@pytest.fixture
def service(start_service: StartService, store_url: str) -> LiveService:
    return start_service(store_url)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def auth(service: LiveService) -> dict[str, str]:
    return {"Authorization": f"Bearer {service.token}"}


def publish(
    http: requests.Session, service: LiveService, body: Any, **kw: Any
) -> requests.Response:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    headers = {"Content-Type": "application/json", **auth(service), **kw.pop("headers", {})}
    return http.post(f"{service.url}/api/v1/builds", data=data, headers=headers, timeout=30, **kw)


def assert_json_error(response: requests.Response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert fragment in body["error"], body


def test_publish_created_identical_conflict(service: LiveService, http: requests.Session) -> None:
    manifest = build_manifest("team/service1-build", 90).to_dict()
    first = publish(http, service, manifest)
    assert first.status_code == 201, first.text
    assert first.json() == manifest
    assert first.headers["Location"] == "/api/v1/jobs/team/service1-build/builds/90"
    assert publish(http, service, manifest).status_code == 200
    changed = {**manifest, "display_name": "something else"}
    assert_json_error(
        publish(http, service, changed), 409, "already recorded with different content"
    )


def test_unicode_job_names_work_in_paths_and_headers(
    service: LiveService, http: requests.Session
) -> None:
    body = build_manifest("équipe/日本-build", 3).to_dict()
    created = publish(http, service, body)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    assert location == "/api/v1/jobs/%C3%A9quipe/%E6%97%A5%E6%9C%AC-build/builds/3"
    assert http.get(service.url + location, timeout=10).json() == body


def test_reads_with_folders_in_job_names(service: LiveService, http: requests.Session) -> None:
    for n in (1, 2, 3):
        publish(
            http,
            service,
            build_manifest("team/sub/app", n, result="FAILURE" if n == 2 else "SUCCESS").to_dict(),
        )
    base = f"{service.url}/api/v1/jobs/team/sub/app"
    builds = http.get(f"{base}/builds", timeout=10).json()["builds"]
    assert [b["number"] for b in builds] == [3, 1]
    every = http.get(f"{base}/builds?result=ANY&limit=2", timeout=10).json()["builds"]
    assert [b["number"] for b in every] == [3, 2]
    one = http.get(f"{base}/builds/2", timeout=10)
    assert one.json()["result"] == "FAILURE"
    encoded = http.get(f"{service.url}/api/v1/jobs/team%2Fsub%2Fapp/builds/3", timeout=10)
    assert encoded.status_code == 200 and encoded.json()["number"] == 3
    assert_json_error(http.get(f"{base}/builds/9", timeout=10), 404, "no build team/sub/app #9")


def test_choices_text_etag_and_304(service: LiveService, http: requests.Session) -> None:
    publish(http, service, build_manifest("app", 11, display_name="Fix login\nDetails").to_dict())
    publish(
        http, service, build_manifest("app", 12, display_name="Bell\x07 and \u2028 sep").to_dict()
    )
    url = f"{service.url}/api/v1/jobs/app/choices?limit=100"
    first = http.get(url, timeout=10)
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    lines = first.content.decode("utf-8").split("\n")
    assert lines[1:] == ["11-Fix login", ""]
    assert lines[0].startswith("12-Bell and")
    assert "\x07" not in first.text
    etag = first.headers["ETag"]
    again = http.get(url, headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    publish(http, service, build_manifest("app", 13).to_dict())
    changed = http.get(url, headers={"If-None-Match": etag}, timeout=10)
    assert changed.status_code == 200 and changed.text.startswith("13-")


def test_env_groovy_of_all_services_or_one(service: LiveService, http: requests.Session) -> None:
    services = [service_build("service1", 90, "It's ${x}"), service_build("order-api", 7)]
    for entry in services:
        publish(http, service, published_build(entry).to_dict())
    publish(http, service, deploy_manifest("deploy-test", 12, "test", services).to_dict())
    base = f"{service.url}/api/v1/jobs/deploy-test/builds/12/env.groovy"
    every = http.get(base, timeout=10)
    assert every.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "env.SERVICE1_BUILD = '90'" in every.text and "env.ORDER_API_BUILD = '7'" in every.text
    assert "It\\'s ${x}" in every.text
    one = http.get(base, params={"service": "order-api"}, timeout=10)
    assert "SERVICE1" not in one.text and "ORDER_API_IMAGE" in one.text
    assert_json_error(
        http.get(base, params={"service": "nope"}, timeout=10), 404, "has no service 'nope'"
    )
    assert_json_error(
        http.get(base, params={"service": "../x"}, timeout=10), 400, "invalid service name"
    )


def test_display_name_put_and_service_build_lookup(
    service: LiveService, http: requests.Session
) -> None:
    publish(http, service, build_manifest("service1-build", 95, display_name="old").to_dict())
    url = f"{service.url}/api/v1/jobs/service1-build/builds/95/display-name"
    hostile = "<img src=x onerror=alert(1)>\"'</script>"
    put = http.put(url, json={"display_name": hostile}, headers=auth(service), timeout=10)
    assert put.status_code == 200, put.text
    assert put.json()["display_name"] == hostile
    assert (
        http.get(f"{service.url}/api/v1/jobs/service1-build/choices", timeout=10).text
        == f"95-{hostile}\n"
    )
    assert http.put(url, json={"display_name": "x"}, timeout=10).status_code == 401
    assert_json_error(
        http.put(url, json={"name": "x"}, headers=auth(service), timeout=10), 400, "display_name"
    )
    missing = http.put(
        url.replace("/95/", "/96/"), json={"display_name": "x"}, headers=auth(service), timeout=10
    )
    assert_json_error(missing, 404, "no build service1-build #96")
    found = http.get(f"{service.url}/api/v1/services/service1/builds/95", timeout=10)
    assert found.json()["service"] == "service1" and found.json()["build"] == 95
    assert_json_error(
        http.get(f"{service.url}/api/v1/services/service1/builds/96", timeout=10),
        404,
        "no successful build 96",
    )


def test_environments_and_history(service: LiveService, http: requests.Session) -> None:
    s = [service_build("service1", 1)]
    publish(http, service, published_build(s[0]).to_dict())
    publish(http, service, deploy_manifest("deploy-test", 1, "test", s).to_dict())
    publish(http, service, deploy_manifest("deploy-beta", 4, "beta", s).to_dict())
    envs = http.get(f"{service.url}/api/v1/environments", timeout=10).json()["environments"]
    assert sorted(envs) == ["beta", "test"] and envs["beta"]["number"] == 4
    hist = http.get(f"{service.url}/api/v1/environments/test/history", timeout=10).json()
    assert [d["number"] for d in hist["deployments"]] == [1]
    assert hist["next_before"] is None
    for n in (2, 3, 4):
        publish(http, service, deploy_manifest("deploy-test", n, "test", s).to_dict())
    pages, before = [], ""
    while True:
        url = f"{service.url}/api/v1/environments/test/history?limit=3{before}"
        page = http.get(url, timeout=10).json()
        pages.append([d["number"] for d in page["deployments"]])
        assert all(d["services"]["service1"]["build"] == 1 for d in page["deployments"])
        if page["next_before"] is None:
            break
        before = f"&before={page['next_before']}"
    assert pages == [[4, 3, 2], [1]]
    assert_json_error(
        http.get(f"{service.url}/api/v1/environments/BAD/history", timeout=10),
        400,
        "invalid environment name",
    )


def test_health_metrics_openapi_index(service: LiveService, http: requests.Session) -> None:
    assert http.get(f"{service.url}/healthz", timeout=10).json() == {"status": "ok"}
    publish(http, service, build_manifest().to_dict())
    publish(http, service, build_manifest().to_dict())
    metrics = http.get(f"{service.url}/metrics", timeout=10).text
    assert 'pipelinelib_publish_total{outcome="created"} 1.0' in metrics
    assert 'pipelinelib_publish_total{outcome="identical"} 1.0' in metrics
    assert 'route="/api/v1/builds",status="201"' in metrics
    assert "pipelinelib_http_request_duration_seconds_bucket" in metrics
    doc = http.get(f"{service.url}/api/v1/openapi.json", timeout=10).json()
    assert doc["openapi"].startswith("3.")
    routes = {rule.rule for rule in service.app.url_map.iter_rules() if rule.endpoint != "static"}
    documented = {
        p.replace("{job}", "<job:job>")
        .replace("{number}", "<number>")
        .replace("{service}", "<service>")
        .replace("{build}", "<build>")
        .replace("{env}", "<env>")
        for p in doc["paths"]
    }
    assert routes == documented
    index = http.get(service.url + "/", timeout=10)
    assert index.headers["Content-Type"] == "text/html; charset=utf-8"


def test_healthz_is_503_when_the_store_is_gone(
    start_service: StartService, http: requests.Session
) -> None:
    import sqlalchemy as sa

    from pipelinelib.store.sql import SqlStore

    svc = start_service()
    svc.store.close()
    # The database vanishes under the running service (a disk unmounted, a server stopped).
    svc.app.extensions["pipelinelib"]["store"] = SqlStore(
        sa.create_engine("sqlite:////nonexistent/dir/x.db"), migrate=False
    )
    response = http.get(f"{svc.url}/healthz", timeout=10)
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    publish_failed = publish(http, svc, build_manifest().to_dict())
    assert_json_error(publish_failed, 503, "the store could not record the build")


def test_access_log_is_one_json_line_per_request(
    service: LiveService, http: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pipelinelib.access"):
        http.get(f"{service.url}/api/v1/jobs/a/b/choices", timeout=10)
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "pipelinelib.access"]
    assert records[-1]["route"] == "/api/v1/jobs/<job:job>/choices"
    assert records[-1]["path"] == "/api/v1/jobs/a/b/choices"
    assert records[-1]["status"] == 200 and records[-1]["method"] == "GET"
