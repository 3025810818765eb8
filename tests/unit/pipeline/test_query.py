"""What is where and what a promotion would change, against the in-memory store."""

from __future__ import annotations

import pytest

from pipelinelib.errors import InvalidNameError, NotFoundError
from pipelinelib.pipeline import query
from tests.fakes.manifests import deploy_manifest, published_build, service_build
from tests.fakes.store import MemoryStore


@pytest.fixture
def store() -> MemoryStore:
    s90, s91, s92 = (service_build("service1", n) for n in (90, 91, 92))
    return MemoryStore(
        [
            published_build(s90),
            published_build(s91),
            published_build(s92),
            deploy_manifest("deploy-live", 1, "live", [s90]),
            deploy_manifest("deploy-test", 1, "test", [s92]),
        ]
    )


def test_status_orders_environments_and_names_one(store: MemoryStore) -> None:
    assert list(query.status(store)) == ["live", "test"]  # no environments file: alphabetical
    assert list(query.status(store, declared=["test", "beta", "live"])) == ["test", "live"]
    assert query.status(store, "live")["live"].services["service1"].build == 90
    with pytest.raises(NotFoundError, match="nothing is deployed to beta"):
        query.status(store, "beta", declared=["test", "beta", "live"])
    # Neither declared nor deployed: a name nobody knows, not an empty environment.
    with pytest.raises(NotFoundError, match="unknown environment 'beta'"):
        query.status(store, "beta")


def test_diff_lists_the_builds_a_promotion_brings(store: MemoryStore) -> None:
    result = query.diff(store, "test", "live")
    data = result.to_dict()
    assert data["from"] == "test" and data["to"] == "live"
    (change,) = data["services"]
    assert change["service"] == "service1"
    assert [c["build"] for c in change["commits"]] == [92, 91]


def test_diff_from_an_empty_environment_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError, match="nothing is deployed to beta"):
        query.diff(store, "beta", "live", declared=["test", "beta", "live"])
    with pytest.raises(InvalidNameError):
        query.diff(store, "Bad Env", "live")


def test_list_choices_are_newest_successful_first(store: MemoryStore) -> None:
    assert [str(c) for c in query.list_choices(store, "service1-build")] == [
        "92-Change 92 of service1",
        "91-Change 91 of service1",
        "90-Change 90 of service1",
    ]


# --- the read verbs behind the service's routes (issue 11) ---------------------------------------


def test_env_groovy_of_a_build_or_of_one_of_its_services(store: MemoryStore) -> None:
    everything = query.env_groovy(store, "deploy-live", 1)
    assert "service1" in everything.lower()
    assert query.env_groovy(store, "deploy-live", 1, "service1") == everything
    with pytest.raises(NotFoundError, match="deploy-live #1 has no service 'service2'"):
        query.env_groovy(store, "deploy-live", 1, "service2")
    with pytest.raises(NotFoundError):  # the build is looked up before the service name
        query.env_groovy(store, "deploy-live", 7, "Not A Name")
    with pytest.raises(InvalidNameError):
        query.env_groovy(store, "deploy-live", 1, "Not A Name")


def test_environment_history_is_a_page_of_manifests_with_its_cursor(store: MemoryStore) -> None:
    store.publish(deploy_manifest("deploy-live", 2, "live", [service_build("service1", 92)]))
    first, cursor = query.environment_history(store, "live", limit=1)
    assert [(m.job, m.number) for m in first] == [("deploy-live", 2)]
    assert cursor is not None
    rest, end = query.environment_history(store, "live", before=cursor, limit=1)
    assert [(m.job, m.number) for m in rest] == [("deploy-live", 1)] and end is None


def test_environment_names_follow_the_declared_order(store: MemoryStore) -> None:
    assert query.environment_names(store) == ["live", "test"]
    assert query.environment_names(store, ["test", "live"]) == ["test", "live"]


def test_active_locks_leave_out_expired_ones(store: MemoryStore) -> None:
    from pipelinelib.model import Lock
    from pipelinelib.pipeline import promote

    store.held_locks.append(
        Lock("test", "ann", "old", "2020-01-01T00:00:00Z", "2020-01-01T02:00:00Z")
    )
    promote.acquire_lock(store, "live", holder="bob", reason="release", ttl=60)
    assert list(query.active_locks(store)) == ["live"]
    assert [lock.environment for lock in query.locks(store)] == ["test", "live"]
