"""History pages and promotion diffs whose cost does not grow with history (issue 18).

The same behaviour on SQLite, PostgreSQL, over HTTP and in the in-memory fake the CLI tests use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from pipelinelib.errors import InvalidInputError
from pipelinelib.ledger import DeploymentRecord
from pipelinelib.model import DeploymentInfo, SourceRef
from pipelinelib.store import ManifestStore
from tests.fakes.manifests import deploy_manifest, published_build, service_build
from tests.fakes.store import MemoryStore


def _fill(store: ManifestStore) -> None:
    """Builds 1..6 of service1 and service2, and 25 deployments: test (odd), beta (even)."""
    for service in ("service1", "service2"):
        for build in range(1, 7):
            store.publish(published_build(service_build(service, build)))
    for n in range(1, 26):
        env = "test" if n % 2 else "beta"
        services = [service_build("service1", 1 + n % 6)]
        if n % 5 == 0:
            services.append(service_build("service2", 2))
        deployment = deploy_manifest(f"deploy-{env}", n, env, services)
        if n == 25:
            deployment = deploy_manifest(
                "deploy-test",
                n,
                env,
                services,
                result="FAILURE",
            )
        store.publish(deployment)


def _walk(store: ManifestStore, **filters: Any) -> list[list[int]]:
    pages, before = [], None
    while True:
        page = store.deployments(before=before, **filters)
        pages.append([r.number for r in page.entries])
        if page.next_before is None:
            return pages
        before = page.next_before


def _check_pages(store: ManifestStore) -> None:
    _fill(store)
    odd = list(range(25, 0, -2))
    assert _walk(store, environment="test", limit=5) == [odd[:5], odd[5:10], odd[10:]]
    # Every environment, newest first; a page exactly as long as the rest ends the walk.
    assert _walk(store, limit=25) == [list(range(25, 0, -1))]
    assert [n for page in _walk(store, limit=7) for n in page] == list(range(25, 0, -1))
    # Deployments holding service2 carry its build.
    page = store.deployments(service="service2")
    assert [(r.number, r.service_build) for r in page.entries] == [
        (25, 2),
        (20, 2),
        (15, 2),
        (10, 2),
        (5, 2),
    ]
    assert [
        r.number for r in store.deployments(environment="beta", service="service2").entries
    ] == [
        20,
        10,
    ]
    newest = store.deployments(environment="test", limit=1).entries[0]
    assert isinstance(newest, DeploymentRecord)
    assert (newest.job, newest.result, newest.service_count) == ("deploy-test", "FAILURE", 2)
    assert newest.subject == "Deploy 25" and newest.service_build is None
    assert newest.recorded_at is not None and newest.recorded_at.tzinfo is not None
    future = datetime.now(UTC) + timedelta(hours=1)
    assert store.deployments(since=future).entries == ()
    past = datetime.now(UTC) - timedelta(hours=1)
    assert len(store.deployments(since=past, limit=1000).entries) == 25
    assert store.deployments(environment="nowhere").entries == ()


def test_history_pages_walk_every_deployment_once(any_store: ManifestStore) -> None:
    _check_pages(any_store)


def test_the_in_memory_fake_pages_like_the_real_stores() -> None:
    _check_pages(MemoryStore())


def test_a_page_shows_what_the_deployment_recorded(any_store: ManifestStore) -> None:
    source_build = published_build(service_build("service1", 3))
    any_store.publish(source_build)
    any_store.publish(deploy_manifest("deploy-test", 1, "test", [service_build("service1", 3)]))
    promoted = deploy_manifest(
        "deploy-live",
        4,
        "live",
        [service_build("service1", 3)],
        source=SourceRef("deploy-test", 1),
    )
    promoted = attrs.evolve(
        promoted,
        display_name="Promote <b>1</b>\nbody",
        url="https://jenkins.example.com/job/deploy-live/4/",
        deployment=DeploymentInfo(deployed_by="alice", rollout={"service1": "COMPLETED"}),
    )
    any_store.publish(promoted)
    any_store.set_display_name("deploy-live", 4, "Renamed later")
    (entry,) = any_store.deployments(environment="live").entries
    assert entry.source == SourceRef("deploy-test", 1)
    assert entry.url == "https://jenkins.example.com/job/deploy-live/4/"
    assert entry.deployment == DeploymentInfo(
        deployed_by="alice", rollout={"service1": "COMPLETED"}
    )
    assert entry.display_name == "Renamed later"
    assert entry.to_dict()["subject"] == "Renamed later"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.deployments(limit=0), "limit must be"),
        (lambda s: s.deployments(environment="Bad Env"), "invalid environment name"),
        (lambda s: s.deployments(service="Bad"), "invalid service name"),
        (lambda s: s.deployments(before=0), "between 1 and"),
        (lambda s: s.service_builds_between_many({"Bad": (1, 2)}), "invalid service name"),
    ],
)
def test_bad_page_arguments_are_invalid_input(
    any_store: ManifestStore, call: Any, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        call(any_store)


def test_builds_between_for_many_services_at_once(any_store: ManifestStore) -> None:
    for service in ("service1", "service2", "service3"):
        for build in range(1, 8):
            any_store.publish(published_build(service_build(service, build)))
    # Deployment rows holding the same builds must not show up as commits (nor duplicate them).
    for n in range(1, 4):
        any_store.publish(
            deploy_manifest(
                "deploy-test",
                n,
                "test",
                [service_build("service1", 5), service_build("service2", 6)],
            )
        )
    found = any_store.service_builds_between_many(
        {"service1": (2, 5), "service2": (0, 7), "service3": (7, 9), "service4": (1, 3)}, limit=4
    )
    assert {name: [b.build for b in builds] for name, builds in found.items()} == {
        "service1": [5, 4, 3],
        "service2": [7, 6, 5, 4],
        "service3": [],
        "service4": [],
    }
    assert found["service1"][0] == service_build("service1", 5)
    assert any_store.service_builds_between_many({}) == {}


def test_the_diff_of_many_services_asks_one_batch() -> None:
    """The CLI's diff reaches the store once for all upgraded services (the fake counts)."""
    from pipelinelib.pipeline import diff

    store = MemoryStore()
    services = [f"svc{i}" for i in range(30)]
    for name in services:
        for build in (1, 2, 3):
            store.publish(published_build(service_build(name, build)))
    store.publish(
        deploy_manifest("deploy-live", 1, "live", [service_build(n, 1) for n in services])
    )
    store.publish(
        deploy_manifest("deploy-test", 1, "test", [service_build(n, 3) for n in services])
    )
    store.calls.clear()
    result = diff(store, "test", "live")
    assert [c.change for c in result.services] == ["upgrade"] * 30
    assert all([b.build for b in c.commits] == [3, 2] for c in result.services)
    batches = [args for name, args in store.calls if name == "service_builds_between_many"]
    assert len(batches) == 1 and len(batches[0][0]) == 30
