"""DORA metrics on hand-built ledgers whose answers are worked out by hand in each test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipelinelib.insight import Drift, Event, ServiceChange, compute, outcomes

T0 = datetime(2026, 11, 1, tzinfo=UTC)
END = T0 + timedelta(days=10)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def ev(i: int, hours: float, env: str = "test", **kw: object) -> Event:
    return Event(id=i, environment=env, at=at(hours), **kw)  # type: ignore[arg-type]


def test_no_deployments_gives_no_figures_rather_than_zeros() -> None:
    m = compute([], start=T0, end=END)
    assert m.deployments == 0
    assert m.deployment_frequency is None
    assert m.lead_time is None
    assert m.change_failure_rate is None
    assert m.time_to_restore is None
    assert m.unrestored == ()
    assert len(m.per_day) == 10


def test_frequency_counts_successful_deploys_per_day_of_the_window() -> None:
    events = [ev(1, 1), ev(2, 30), ev(3, 50, result="FAILURE"), ev(4, 60), ev(5, 70)]
    m = compute(events, start=T0, end=END)
    assert m.successful == 4  # 1, 2, 4 and 5 (5 restores 3, it does not matter here)
    assert m.deployment_frequency == pytest.approx(0.4)
    assert m.change_failure_rate == pytest.approx(1 / 5)


def test_only_failures_rate_one_and_never_restored() -> None:
    events = [ev(1, 5, result="FAILURE"), ev(2, 6, result="FAILURE"), ev(3, 7, result="ABORTED")]
    m = compute(events, start=T0, end=END)
    assert m.change_failure_rate == 1.0
    assert m.deployment_frequency == 0.0
    assert m.time_to_restore is None
    assert [(u.environment, u.since) for u in m.unrestored] == [("test", at(5))]
    assert m.unrestored[0].lasting == END - at(5)


def test_a_failure_never_restored_stays_out_of_the_median() -> None:
    events = [
        ev(1, 0),
        ev(2, 10, result="FAILURE"),
        ev(3, 13),  # restored after 3 h
        ev(4, 20, env="beta", result="FAILURE"),  # never restored
    ]
    m = compute(events, start=T0, end=END)
    assert m.restore_times == (timedelta(hours=3),)
    assert m.time_to_restore == timedelta(hours=3)
    assert [u.environment for u in m.unrestored] == ["beta"]


def test_consecutive_failures_are_one_episode_from_the_first() -> None:
    events = [ev(1, 10, result="FAILURE"), ev(2, 11, result="FAILURE"), ev(3, 15)]
    m = compute(events, start=T0, end=END)
    assert m.restore_times == (timedelta(hours=5),)


def test_a_rollback_marks_the_deployment_it_replaced_and_is_not_a_change() -> None:
    events = [ev(1, 1), ev(2, 5), ev(3, 6, kind="rollback")]
    assert outcomes(events) == {1: "SUCCESS", 2: "ROLLED_BACK", 3: "SUCCESS"}
    m = compute(events, start=T0, end=END)
    assert (m.deployments, m.rollbacks, m.failed) == (3, 1, 1)
    assert m.change_failure_rate == pytest.approx(1 / 2)  # two changes, one rolled back
    assert m.restore_times == (timedelta(hours=1),)  # the rollback restored service


def test_circuit_breaker_rollback_and_failed_rollout() -> None:
    events = [
        ev(1, 1, result="FAILURE", rollout={"svc": "ROLLED_BACK"}),
        ev(2, 2, rollout={"svc": "TIMED_OUT"}),
        ev(3, 3, rollout={"svc": "COMPLETED"}),
    ]
    assert outcomes(events) == {1: "ROLLED_BACK", 2: "FAILURE", 3: "SUCCESS"}


def test_lead_time_is_first_deployment_of_a_build_minus_its_commit_time() -> None:
    c1 = ServiceChange("api", 90, commit_time=at(-2))
    c2 = ServiceChange("api", 91, commit_time=at(10))
    events = [
        ev(1, 1, services=(c1,)),  # 3 h
        ev(2, 4, services=(c1,)),  # build 90 again: not a new change
        ev(3, 12, result="FAILURE", services=(c2,)),  # never ran
        ev(4, 16, services=(c2,)),  # 6 h
        ev(5, 30, env="beta", services=(c1,)),  # first time in beta: 32 h
    ]
    m = compute(events, start=T0, end=END)
    assert sorted(m.lead_times) == [timedelta(hours=3), timedelta(hours=6), timedelta(hours=32)]
    assert m.lead_time == timedelta(hours=6)


def test_builds_without_commit_time_give_no_lead_time() -> None:
    events = [ev(1, 1, services=(ServiceChange("api", 90),))]
    assert compute(events, start=T0, end=END).lead_time is None


def test_window_edges_history_before_start_is_context_only() -> None:
    c = ServiceChange("api", 90, commit_time=at(-50))
    events = [
        ev(1, -48, services=(c,)),  # before the window: 90 already ran in test
        ev(2, -1, result="FAILURE"),  # failing when the window opens
        ev(3, 2, services=(c,)),  # restores 3 h after the failure began
        ev(4, 240),  # == END: outside [start, end)
    ]
    m = compute(events, start=T0, end=END)
    assert m.deployments == 1
    assert m.lead_times == ()  # build 90 was first deployed before the window
    assert m.restore_times == (timedelta(hours=3),)
    assert m.unrestored == ()


def test_per_service_counts_only_deployments_changing_that_service() -> None:
    a90, a91 = ServiceChange("api", 90), ServiceChange("api", 91)
    w5 = ServiceChange("web", 5)
    events = [
        ev(1, 1, services=(a90, w5)),
        ev(2, 2, services=(a90, ServiceChange("web", 6))),
        ev(3, 3, result="FAILURE", services=(a91, ServiceChange("web", 6))),
    ]
    api = compute(events, start=T0, end=END, scope="api", service="api")
    web = compute(events, start=T0, end=END, scope="web", service="web")
    assert (api.deployments, api.failed) == (2, 1)
    assert (web.deployments, web.failed) == (2, 0)


def test_drift_reads_like_a_sentence() -> None:
    assert Drift("beta", "test", "api", 87, 90, behind=3).text == "beta is 3 builds behind test"
    assert Drift("beta", "test", "api", 91, 90).text == "beta is 1 build ahead of test"
    assert Drift("beta", "test", "api", None, 90).direction == "missing"


def test_commit_time_needs_an_offset_and_is_kept_in_utc() -> None:
    from pipelinelib.errors import InvalidInputError
    from pipelinelib.model import ServiceBuild

    entry = ServiceBuild(name="api", build=1, commit_time="2026-11-29T10:00:00+10:00")
    assert entry.commit_time == "2026-11-29T00:00:00Z"
    assert entry.committed_at == datetime(2026, 11, 29, tzinfo=UTC)
    assert "commit_time" not in ServiceBuild(name="api", build=1).to_dict()  # hashes unchanged
    for bad in ("2026-11-29T10:00:00", "yesterday", 1700000000):
        with pytest.raises(InvalidInputError):
            ServiceBuild(name="api", build=1, commit_time=bad)
