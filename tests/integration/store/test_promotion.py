"""Promotion control in the SQL store, on SQLite and PostgreSQL: order, freeze windows, locks,
approvals. Each refusal leaves nothing recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from pipelinelib.environments import EnvironmentsConfig, parse_environments
from pipelinelib.errors import (
    ConflictError,
    InvalidInputError,
    LockedError,
    LockExpiredError,
    NotFoundError,
    PermissionDeniedError,
    PromotionRefusedError,
    UnknownEnvironmentError,
)
from pipelinelib.model import DeploymentInfo, Manifest, SourceRef
from pipelinelib.store.sql import SqlStore
from tests.fakes.manifests import build_manifest, deploy_manifest

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

ENVIRONMENTS = {
    "environments": {
        "test": {},
        "beta": {"upstream": "test"},
        "staging": {"upstream": "beta", "protected": True, "approvals": 1},
        "live": {
            "upstream": "staging",
            "protected": True,
            "approvals": 2,
            "freeze": [
                {
                    "start": "2026-12-19T00:00:00Z",
                    "end": "2027-01-05T00:00:00Z",
                    "reason": "end-of-year freeze",
                }
            ],
        },
        "sandbox": {"upstream": "staging"},
    }
}


@attrs.define
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def config() -> EnvironmentsConfig:
    return parse_environments(ENVIRONMENTS)


@pytest.fixture
def store(store_url: str, config: EnvironmentsConfig, clock: Clock) -> Iterator[SqlStore]:
    store = SqlStore.from_url(store_url, environments=config, clock=clock)
    try:
        yield store
    finally:
        store.close()


def deploy(
    store: SqlStore,
    environment: str,
    number: int,
    source: Manifest | None,
    **info: object,
) -> Manifest:
    """Record deploy-<env> #number taking exactly ``source`` (or service1-build #1)."""
    if source is None:
        services = list(store.get_build("service1-build", 1).services.values())
        ref = None
    else:
        services = list(source.services.values())
        ref = SourceRef(source.job, source.number)
    manifest = attrs.evolve(
        deploy_manifest(f"deploy-{environment}", number, environment, services, source=ref),
        deployment=DeploymentInfo(**info),  # type: ignore[arg-type]
    )
    store.publish(manifest)
    return manifest


def history(store: SqlStore, environment: str) -> list[tuple[str, int]]:
    return [(m.job, m.number) for m in store.history(environment)]


@pytest.fixture
def promoted(store: SqlStore) -> dict[str, Manifest]:
    """service1-build #1 deployed to test and beta."""
    store.publish(build_manifest("service1-build", 1))
    test = deploy(store, "test", 1, None)
    beta = deploy(store, "beta", 1, test)
    return {"test": test, "beta": beta}


def approved(store: SqlStore, environment: str, number: int, *approvers: str) -> dict[str, object]:
    request = store.request_approval(
        environment, f"deploy-{environment}", number, requested_by="dev"
    )
    for who in approvers:
        request = store.approve(environment, f"deploy-{environment}", number, approver=who)
    return {"requested_by": request.requested_by, "approvals": request.approvals}


# --- order -----------------------------------------------------------------------------------


def test_skipping_environments_is_refused_and_nothing_is_recorded(
    store: SqlStore, promoted: dict[str, Manifest]
) -> None:
    with pytest.raises(PromotionRefusedError, match="live takes deployments of staging only"):
        deploy(store, "live", 9, promoted["test"], **approved(store, "live", 9, "ann", "bob"))
    assert history(store, "live") == []


def test_a_first_environment_takes_service_builds_not_deployments(
    store: SqlStore, promoted: dict[str, Manifest]
) -> None:
    with pytest.raises(PromotionRefusedError, match="first environment"):
        deploy(store, "test", 2, promoted["beta"])
    assert history(store, "test") == [("deploy-test", 1)]


def test_a_hotfix_may_skip_the_order_with_a_reason_that_is_recorded(
    store: SqlStore, promoted: dict[str, Manifest]
) -> None:
    recorded = deploy(
        store,
        "sandbox",
        1,
        promoted["test"],
        skip_order="hotfix for INC-42, verified in test",
    )
    [stored] = store.history("sandbox")
    assert stored == recorded
    assert stored.deployment is not None
    assert stored.deployment.skip_order == "hotfix for INC-42, verified in test"


def test_unknown_environment_is_refused_with_a_suggestion(
    store: SqlStore, promoted: dict[str, Manifest]
) -> None:
    with pytest.raises(UnknownEnvironmentError, match="did you mean 'staging'"):
        deploy(store, "stagin", 1, promoted["beta"])
    assert history(store, "stagin") == []
    with pytest.raises(UnknownEnvironmentError):
        store.acquire_lock("prod", holder="ann", reason="maintenance")


def test_a_rollback_takes_an_earlier_deployment_of_the_same_environment(
    store: SqlStore, promoted: dict[str, Manifest]
) -> None:
    test2 = deploy(store, "test", 2, None)
    deploy(store, "beta", 2, test2)
    rollback = deploy(store, "beta", 3, promoted["beta"], kind="rollback", reason="bad release")
    assert store.environments()["beta"] == rollback
    assert rollback.source == SourceRef("deploy-beta", 1)
    with pytest.raises(PromotionRefusedError, match="not of beta"):
        deploy(store, "beta", 4, promoted["test"], kind="rollback", reason="wrong env")
    assert history(store, "beta") == [("deploy-beta", 3), ("deploy-beta", 2), ("deploy-beta", 1)]


# --- freeze windows --------------------------------------------------------------------------


def _to_staging(store: SqlStore, promoted: dict[str, Manifest]) -> Manifest:
    return deploy(store, "staging", 1, promoted["beta"], **approved(store, "staging", 1, "ann"))


def test_a_freeze_window_refuses_unless_overridden_with_a_reason(
    store: SqlStore, promoted: dict[str, Manifest], clock: Clock
) -> None:
    staging = _to_staging(store, promoted)
    clock.now = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)
    controls = approved(store, "live", 1, "ann", "bob")
    with pytest.raises(PromotionRefusedError, match="frozen until 2027-01-05T00:00:00Z"):
        deploy(store, "live", 1, staging, **controls)
    assert history(store, "live") == []
    deploy(store, "live", 1, staging, override_freeze="payment outage fix", **controls)
    [live] = store.history("live")
    assert live.deployment is not None
    assert live.deployment.override_freeze == "payment outage fix"
    clock.now = datetime(2027, 1, 5, tzinfo=UTC)  # the end is not in the window
    deploy(store, "sandbox", 1, staging)


# --- approvals -------------------------------------------------------------------------------


def test_a_protected_environment_needs_its_approvals(
    store: SqlStore, promoted: dict[str, Manifest]
) -> None:
    with pytest.raises(PromotionRefusedError, match="request-approval staging"):
        deploy(store, "staging", 1, promoted["beta"])
    controls = approved(store, "staging", 1)
    with pytest.raises(PromotionRefusedError, match="needs 1 approval"):
        deploy(store, "staging", 1, promoted["beta"], **controls)
    assert history(store, "staging") == []
    controls = approved(store, "staging", 1, "ann")
    recorded = deploy(store, "staging", 1, promoted["beta"], **controls)
    [stored] = store.history("staging")
    assert stored == recorded
    assert stored.deployment is not None
    assert [a.by for a in stored.deployment.approvals] == ["ann"]
    assert stored.deployment.requested_by == "dev"


def test_check_publish_applies_every_rule_and_records_nothing(
    store: SqlStore, promoted: dict[str, Manifest], clock: Clock
) -> None:
    staging = _to_staging(store, promoted)
    clock.now = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)
    controls = approved(store, "live", 1, "ann", "bob")
    candidate = attrs.evolve(
        deploy_manifest(
            "deploy-live",
            1,
            "live",
            list(staging.services.values()),
            source=SourceRef(staging.job, staging.number),
        ),
        deployment=DeploymentInfo(**controls),  # type: ignore[arg-type]
    )
    with pytest.raises(PromotionRefusedError, match="frozen"):
        store.check_publish(candidate)
    clock.now = NOW
    assert store.check_publish(candidate) is True
    assert history(store, "live") == []
    store.publish(candidate)
    assert store.check_publish(candidate) is False  # an identical replay


def test_approving_your_own_request_is_refused_and_not_recorded(
    store: SqlStore, promoted: dict[str, Manifest]
) -> None:
    store.request_approval("live", "deploy-live", 3, requested_by="ann", requested_via="jenkins")
    with pytest.raises(PermissionDeniedError, match="approving your own request"):
        store.approve("live", "deploy-live", 3, approver="ann")
    with pytest.raises(PermissionDeniedError):
        store.approve("live", "deploy-live", 3, approver="jenkins")
    assert store.approval_request("live", "deploy-live", 3).approvals == ()
    again = store.approve("live", "deploy-live", 3, approver="bob", comment="looks good")
    assert again == store.approve("live", "deploy-live", 3, approver="bob", comment="looks good")
    assert [(a.by, a.comment) for a in again.approvals] == [("bob", "looks good")]
    assert not again.is_approved and again.required == 2


def test_approvals_need_a_request_and_a_protected_environment(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="no approval request"):
        store.approve("live", "deploy-live", 1, approver="bob")
    with pytest.raises(Exception, match="not protected"):
        store.request_approval("beta", "deploy-beta", 1, requested_by="dev")
    store.request_approval("live", "deploy-live", 1, requested_by="dev")
    with pytest.raises(ConflictError, match="requested by dev"):
        store.request_approval("live", "deploy-live", 1, requested_by="eve")


def test_an_approval_not_in_the_store_is_refused(
    store: SqlStore, promoted: dict[str, Manifest]
) -> None:
    from pipelinelib.model import Approval

    store.request_approval("staging", "deploy-staging", 1, requested_by="dev")
    forged = (Approval(by="ann", at="2026-11-29T12:00:00Z"),)
    with pytest.raises(PromotionRefusedError, match="not recorded"):
        deploy(store, "staging", 1, promoted["beta"], requested_by="dev", approvals=forged)


# --- locks -----------------------------------------------------------------------------------


def test_a_locked_environment_refuses_other_deployments_saying_who_and_why(
    store: SqlStore, promoted: dict[str, Manifest]
) -> None:
    store.acquire_lock("beta", holder="ann", reason="migrating the orders table", ttl=3600)
    with pytest.raises(LockedError, match=r"locked by ann until .*: migrating the orders table"):
        deploy(store, "beta", 2, promoted["test"])
    with pytest.raises(LockedError, match="locked by ann"):
        store.acquire_lock("beta", holder="bob", reason="deploy")
    assert history(store, "beta") == [("deploy-beta", 1)]
    store.release_lock("beta", holder="ann")
    deploy(store, "beta", 2, promoted["test"])


def test_the_holder_deploys_through_its_lock_and_it_is_recorded(
    store: SqlStore, promoted: dict[str, Manifest]
) -> None:
    store.acquire_lock("beta", holder="deploy-beta#2", reason="deploy-beta #2", ttl=600)
    deploy(store, "beta", 2, promoted["test"], lock="deploy-beta#2")
    assert store.history("beta")[0].deployment.lock == "deploy-beta#2"  # type: ignore[union-attr]
    store.release_lock("beta", holder="deploy-beta#2")
    assert store.locks() == []


def test_an_expired_lock_is_taken_over_and_its_old_holder_refused(
    store: SqlStore, promoted: dict[str, Manifest], clock: Clock
) -> None:
    store.acquire_lock("beta", holder="deploy-beta#2", reason="deploy-beta #2", ttl=60)
    clock.now = NOW + timedelta(seconds=61)
    [lock] = store.locks()
    assert lock.expired
    with pytest.raises(LockExpiredError, match="expired at 2026-11-29T12:01:00Z"):
        deploy(store, "beta", 2, promoted["test"], lock="deploy-beta#2")
    store.acquire_lock("beta", holder="deploy-beta#3", reason="deploy-beta #3")
    with pytest.raises(LockedError, match="locked by deploy-beta#3"):
        deploy(store, "beta", 2, promoted["test"], lock="deploy-beta#2")
    assert history(store, "beta") == [("deploy-beta", 1)]


def test_silly_ttls_are_refused(store: SqlStore) -> None:
    for ttl in (0, -5, 8 * 86400, 1e308, float("nan")):
        with pytest.raises(InvalidInputError, match="between 1 second and 7 days"):
            store.acquire_lock("live", holder="ann", reason="r", ttl=ttl)
    assert store.locks() == []


def test_unlock_by_someone_else_needs_force(store: SqlStore) -> None:
    store.acquire_lock("live", holder="ann", reason="incident")
    with pytest.raises(LockedError, match="only the holder"):
        store.release_lock("live", holder="bob")
    assert store.release_lock("live", holder="bob", force=True).holder == "ann"
    with pytest.raises(NotFoundError, match="not locked"):
        store.release_lock("live", holder="ann")


def _race(attempt: Callable[[int], None], count: int) -> list[int]:
    winners: list[int] = []
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        barrier.wait()
        try:
            attempt(i)
        except LockedError:
            return
        winners.append(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return winners


def test_32_concurrent_lock_attempts_have_exactly_one_winner(
    store_url: str, config: EnvironmentsConfig, tmp_path: Path
) -> None:
    stores = [SqlStore.from_url(store_url, environments=config) for _ in range(2)]
    try:

        def attempt(i: int) -> None:
            stores[i % 2].acquire_lock("live", holder=f"job#{i}", reason=f"attempt {i}")

        winners = _race(attempt, 32)
        assert len(winners) == 1
        [lock] = stores[0].locks()
        assert lock.holder == f"job#{winners[0]}"
    finally:
        for s in stores:
            s.close()
