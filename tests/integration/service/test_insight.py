"""History and DORA metrics through the service, the board and the CLI, on a ledger recorded
through the real SQL store (tests/fakes/insight_ledger.py): deploy-test #1-#4 succeed, #5 fails;
beta takes #1 and #2, then rolls back to deploy-beta #1."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from pipelinelib.environments import parse_environments
from pipelinelib.model import Manifest
from pipelinelib.service import create_app
from pipelinelib.service.links import Links
from pipelinelib.store.sql import SqlStore
from tests.conftest import CliRunner
from tests.fakes.insight_ledger import record_ledger, service_build

XSS = '<img src=x onerror=alert(1)>"><svg onload=alert(2)>'
ENVIRONMENTS = parse_environments(
    {"environments": {"test": {}, "beta": {"upstream": "test"}, "live": {"upstream": "beta"}}}
)


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.append({"_tag": tag, **dict(attrs)})

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _dom(html: str) -> _Dom:
    dom = _Dom()
    dom.feed(html)
    return dom


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    store = SqlStore.from_url(url)
    try:
        record_ledger(store, display="Release {n} " + XSS)
    finally:
        store.close()
    return url


def _client(db: str, links: Links | None = None) -> FlaskClient:
    app = create_app(db, environments=ENVIRONMENTS)
    if links is not None:
        app.extensions["pipelinelib"]["links"] = links
    return app.test_client()


def test_history_api_gives_each_deployment_its_outcome_and_control_fields(db: str) -> None:
    body = _client(db).get("/api/v1/history?environment=beta").get_json()
    rows = {(d["job"], d["number"]): d for d in body["deployments"]}
    assert [d["number"] for d in body["deployments"]] == [3, 2, 1]
    assert rows[("deploy-beta", 2)]["outcome"] == "ROLLED_BACK"
    rollback = rows[("deploy-beta", 3)]
    assert (rollback["outcome"], rollback["kind"]) == ("SUCCESS", "rollback")
    assert rollback["requested_by"] == "bob"
    assert [a["by"] for a in rollback["approvals"]] == ["carol"]
    assert rollback["reasons"] == {"reason": "errors after Release 2 " + XSS}
    test = _client(db).get("/api/v1/history?environment=test&limit=2").get_json()
    assert [d["outcome"] for d in test["deployments"]] == ["FAILURE", "SUCCESS"]
    older = _client(db).get(f"/api/v1/history?environment=test&before={test['next_before']}")
    assert [d["number"] for d in older.get_json()["deployments"]] == [3, 2, 1]


def test_metrics_api_counts_the_failure_and_the_rollback(db: str) -> None:
    body = _client(db).get("/api/v1/metrics?window=7d").get_json()
    assert "dora.dev" in body["definitions"]
    test, beta = body["environments"]["test"], body["environments"]["beta"]
    assert (test["deployments"], test["failed"], test["change_failure_rate"]) == (5, 1, 0.2)
    assert [u["environment"] for u in body["overall"]["unrestored"]] == ["test"]
    assert (beta["deployments"], beta["rollbacks"], beta["failed"]) == (3, 1, 1)
    assert beta["change_failure_rate"] == 0.5
    assert beta["restored"] == 1
    # Commit times are recorded at publish (2026-01-01), so every lead time is known.
    assert body["overall"]["lead_time_samples"] > 0
    assert list(body["environments"]) == ["test", "beta"]  # the environments file's order


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/metrics?window=0d",
        "/api/v1/metrics?window=forever",
        "/api/v1/metrics?window=99999d",
        "/api/v1/metrics?environment=Bad!",
        "/api/v1/history?since=yesterday",
        "/api/v1/history?limit=0",
        "/api/v1/history?before=-1",
        "/api/v1/history?service=../etc",
        "/insight?window=%00",
        "/history?environment=%3Cscript%3E",
    ],
)
def test_bad_filters_are_400_json_errors(db: str, path: str) -> None:
    response = _client(db).get(path)
    assert response.status_code == 400
    assert "error" in response.get_json()


@pytest.mark.parametrize("path", ["/", "/history", "/insight", "/environments/beta"])
def test_hostile_display_names_stay_text_on_every_page(db: str, path: str) -> None:
    response = _client(db).get(path)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    dom = _dom(response.get_data(as_text=True))
    assert "script" not in dom.tags
    assert "img" not in dom.tags
    assert not any(k.startswith("on") for a in dom.attrs for k in a)
    if path != "/insight":
        assert any(XSS in t for t in dom.text)


def test_board_marks_drift_failures_and_refreshes_without_script(db: str) -> None:
    html = _client(db).get("/").get_data(as_text=True)
    dom = _dom(html)
    meta = [a for a in dom.attrs if a["_tag"] == "meta" and a.get("http-equiv") == "refresh"]
    assert meta == [{"_tag": "meta", "http-equiv": "refresh", "content": "60"}]
    drift = {a.get("title") for a in dom.attrs if a.get("data-drift")}
    # beta runs deploy-beta #1's builds (90) after the rollback; test runs 93.
    assert drift == {"beta is 3 builds behind test"}
    latest = [a for a in dom.attrs if a.get("data-latest-outcome")]
    assert [a["data-latest-outcome"] for a in latest] == ["FAILURE"]  # test's newest, #5
    assert "rollback" in "".join(dom.text)


def test_links_follow_the_templates_and_only_ever_http(db: str) -> None:
    links = Links(
        "https://jenkins.example.com/{job_path}/{number}/",
        "https://git.example.com/{service}/commit/{commit}",
    )
    dom = _dom(_client(db, links).get("/").get_data(as_text=True))
    hrefs = [a["href"] for a in dom.attrs if a["_tag"] == "a" and a.get("href")]
    assert "https://jenkins.example.com/job/deploy-test/4/" in hrefs
    assert (
        f"https://git.example.com/service1/commit/{service_build('service1', 93).commit}" in hrefs
    )
    assert not [h for h in hrefs if h and h.split(":")[0] not in ("https", "http") and ":" in h]


def test_a_javascript_url_never_reaches_the_board(tmp_path: Path) -> None:
    """The ledger refuses a non-http(s) deployment url (docs/formats.md), so the board's links,
    which also only link http(s), never carry one: the service answers 400, records nothing."""
    from pipelinelib.errors import InvalidInputError

    url = f"sqlite:///{tmp_path / 'js.db'}"
    store = SqlStore.from_url(url)
    entry = service_build("service1", 90)
    store.publish(Manifest(job="service1-build", number=90, services=[entry]))
    store.close()
    deploy = {
        "job": "deploy-test",
        "number": 1,
        "environment": "test",
        "url": "javascript:alert(1)",
        "services": {"service1": {"build": 90}},
    }
    with pytest.raises(InvalidInputError, match="http"):
        Manifest.from_dict(deploy)
    client = create_app(url, environments=ENVIRONMENTS, allow_anonymous_writes=True).test_client()
    answer = client.post("/api/v1/builds", json=deploy)
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert "http" in answer.get_json()["error"]
    for path in ("/", "/history", "/environments/test"):
        html = client.get(path).get_data(as_text=True)
        assert "javascript:" not in html


def _cli_db(db: str) -> list[str]:
    return ["--db", db]


def test_cli_history_and_metrics(run_cli: CliRunner, db: str, tmp_path: Path) -> None:
    (tmp_path / "pipelinelib.toml").write_text(
        '[environments.test]\n[environments.beta]\nupstream = "test"\n'
    )
    text = run_cli(["history", "--environment", "beta", *_cli_db(db)], cwd=tmp_path)
    assert text.exit_code == 0, text.stderr
    assert "ROLLED_BACK" in text.stdout and "approved by carol" in text.stdout
    as_json = run_cli(["history", "--since", "2000-01-01", "--json", *_cli_db(db)], cwd=tmp_path)
    outcomes = [d["outcome"] for d in json.loads(as_json.stdout)["deployments"]]
    assert sorted(set(outcomes)) == ["FAILURE", "ROLLED_BACK", "SUCCESS"]
    metrics = run_cli(["metrics", "--window", "30d", "--json", *_cli_db(db)], cwd=tmp_path)
    report: dict[str, Any] = json.loads(metrics.stdout)
    assert report["overall"]["deployments"] == 8
    table = run_cli(["metrics", *_cli_db(db)], cwd=tmp_path)
    assert table.stdout.splitlines()[1].split()[:3] == ["scope", "deploys", "per"]
    bad = run_cli(["metrics", "--window", "soon", *_cli_db(db)], cwd=tmp_path)
    assert bad.exit_code != 0 and bad.stderr.startswith("error: ")
    future = run_cli(["history", "--since", "2999-01-01", *_cli_db(db)], cwd=tmp_path)
    assert future.stdout.strip() == "no deployments match"


def test_a_bad_link_template_stops_the_service_at_start(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelinelib.errors import InvalidInputError

    monkeypatch.setenv("PIPELINELIB_COMMIT_URL_TEMPLATE", "javascript:alert('{commit}')")
    with pytest.raises(InvalidInputError):
        create_app(db, environments=ENVIRONMENTS)
    monkeypatch.setenv("PIPELINELIB_COMMIT_URL_TEMPLATE", "https://git.example.com/{commit}")
    monkeypatch.setenv("PIPELINELIB_BOARD_REFRESH", "0")
    html = create_app(db, environments=ENVIRONMENTS).test_client().get("/").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in html
    assert "https://git.example.com/" in html


def test_board_shows_pending_approvals_with_hostile_comments_as_text(db: str) -> None:
    store = SqlStore.from_url(db)
    try:
        store.request_approval("live", "deploy-live", 7, requested_by="dev")
        store.approve("live", "deploy-live", 7, approver="lead", comment=XSS)
        store.request_approval("beta", "deploy-beta", 9, requested_by="ops")
    finally:
        store.close()
    response = _client(db).get("/")
    dom = _dom(response.get_data(as_text=True))
    pending = {a["data-pending"]: a for a in dom.attrs if a.get("data-pending")}
    assert set(pending) == {"deploy-live#7", "deploy-beta#9"}
    assert pending["deploy-live#7"]["title"] == "lead: " + XSS  # an attribute's text, inert
    assert "img" not in dom.tags and "svg" not in dom.tags
    assert any("deploy-live #7 awaits approval to live (1 given)" in t for t in dom.text)
    api = _client(db).get("/api/v1/approval-requests").get_json()
    assert [(r["job"], r["number"]) for r in api["approval_requests"]] == [
        ("deploy-beta", 9),
        ("deploy-live", 7),
    ]
    assert _client(db).get("/api/v1/approval-requests?limit=0").status_code == 400


def test_metrics_served_from_the_cache_follow_every_recorded_deployment(db: str) -> None:
    from tests.fakes.insight_ledger import SERVICES

    client = _client(db)
    first = client.get("/api/v1/metrics?window=7d").get_json()
    assert client.get("/api/v1/metrics?window=7d").get_json() == first  # same ledger, same answer
    # A deployment recorded by another writer (another replica) changes the ledger generation.
    store = SqlStore.from_url(db)
    try:
        store.publish(
            Manifest(
                job="deploy-test",
                number=6,
                environment="test",
                services=[service_build(s, 93, "Release 4 " + XSS) for s in SERVICES],
            )
        )
    finally:
        store.close()
    after = client.get("/api/v1/metrics?window=7d").get_json()
    test = after["environments"]["test"]
    assert test["deployments"] == first["environments"]["test"]["deployments"] + 1
    assert test["restored"] == 1 and after["overall"]["unrestored"] == []


def test_the_service_window_ends_at_the_next_whole_minute() -> None:
    from datetime import UTC, datetime

    from pipelinelib.service.insight_cache import window_end

    now = datetime(2026, 11, 29, 16, 14, 59, 999_000, tzinfo=UTC)
    assert window_end(now) == datetime(2026, 11, 29, 16, 15, tzinfo=UTC)
    assert window_end(now.replace(second=0, microsecond=0)) == datetime(
        2026, 11, 29, 16, 15, tzinfo=UTC
    )
