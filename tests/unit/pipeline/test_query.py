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
