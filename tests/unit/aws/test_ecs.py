"""wait_rollout: moto for what it models (services, counts), botocore's Stubber for rollout states.

Stubber checks every canned DescribeServices answer against the real ECS response model, so the
shapes here are the ones ECS sends. The clock is fake: a 15-minute rollout takes milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from pipelinelib.aws import ecs as rollouts
from pipelinelib.aws import session
from pipelinelib.errors import NotFoundError, PermissionDeniedError, RolloutError
from tests.fakes.aws import (
    CLUSTER,
    REGION,
    T0,
    FakeClock,
    deployment,
    describe_services,
    event,
    service,
    task_definition,
)

OLD = task_definition("service1", 6)
NEW = task_definition("service1", 7)


@pytest.fixture
def stubbed(aws_credentials: None) -> Iterator[tuple[session.Aws, Any]]:
    from botocore.stub import Stubber

    client = session.Aws(REGION)
    with Stubber(client.ecs()) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def answer(stubber: Any, *services: dict[str, Any], names: list[str] | None = None) -> None:
    stubber.add_response(
        "describe_services",
        describe_services(*services),
        {"cluster": CLUSTER, "services": names or [s["serviceName"] for s in services]},
    )


def rolling(
    running: int, *, pending: int = 0, events: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return service(
        "service1",
        [
            deployment("ecs-svc/new", NEW, running=running, pending=pending, created=T0),
            deployment(
                "ecs-svc/old",
                OLD,
                status="ACTIVE",
                rollout="COMPLETED",
                running=2 - running,
                created=T0 - timedelta(days=1),
            ),
        ],
        events,
    )


def test_in_progress_then_completed_reports_progress_and_new_events(
    stubbed: tuple[session.Aws, Any],
) -> None:
    client, stubber = stubbed
    old_news = event(
        -100, "(service service1) has reached a steady state.", at=T0 - timedelta(hours=1)
    )
    started = event(1, "(service service1) has started 2 tasks: (task abc) (task def).")
    answer(stubber, rolling(0, pending=2, events=[old_news, started]))
    registered = event(2, "(service service1) registered 2 targets in (target-group tg)")
    answer(stubber, rolling(1, pending=1, events=[old_news, started, registered]))
    steady = event(3, "(service service1) has reached a steady state.")
    answer(
        stubber,
        service(
            "service1",
            [deployment("ecs-svc/new", NEW, rollout="COMPLETED", running=2)],
            [old_news, started, registered, steady],
        ),
    )
    clock = FakeClock()
    seen: list[rollouts.RolloutProgress] = []
    outcome = rollouts.wait_rollout(
        CLUSTER, ["service1"], aws=client, clock=clock, sleep=clock.sleep, on_progress=seen.append
    )
    assert outcome.is_successful
    (result,) = outcome.services
    assert result.status == rollouts.COMPLETED
    assert result.deployed_task_definition == NEW
    assert result.elapsed == 20.0 and clock.sleeps == [10.0, 10.0]
    assert [(p.state.status, p.state.running, p.state.pending) for p in seen] == [
        ("IN_PROGRESS", 0, 2),
        ("IN_PROGRESS", 1, 1),
        ("COMPLETED", 2, 0),
    ]
    # events of earlier deployments are not progress; each event is reported once
    assert [[e.id for e in p.new_events] for p in seen] == [["event-1"], ["event-2"], ["event-3"]]
    data = outcome.to_dict()
    assert data["successful"] is True
    assert data["services"]["service1"]["status"] == "COMPLETED"
    assert data["services"]["service1"]["deployed_task_definition"] == NEW
    assert data["services"]["service1"]["last_events"][0]["id"] == "event-3"


def test_failed_rollout_names_the_service_and_its_last_events(
    stubbed: tuple[session.Aws, Any],
) -> None:
    client, stubber = stubbed
    answer(stubber, rolling(0, pending=2))
    answer(
        stubber,
        service(
            "service1",
            [
                deployment(
                    "ecs-svc/new",
                    NEW,
                    rollout="FAILED",
                    failed=3,
                    reason="ECS deployment circuit breaker: tasks failed to start.",
                ),
                deployment("ecs-svc/old", OLD, status="ACTIVE", rollout="COMPLETED", running=2),
            ],
            [event(5, "(service service1) (task abc) failed container health checks.")],
        ),
    )
    clock = FakeClock()
    with pytest.raises(RolloutError) as info:
        rollouts.wait_rollout(CLUSTER, ["service1"], aws=client, clock=clock, sleep=clock.sleep)
    assert info.value.exit_code == 11
    message = str(info.value)
    assert "service1 FAILED: ECS deployment circuit breaker: tasks failed to start." in message
    assert "failed container health checks" in message
    outcome = info.value.context["outcome"]
    assert outcome.services[0].state.failed_tasks == 3
    assert outcome.to_dict()["successful"] is False


def test_circuit_breaker_rollback_is_a_failure_not_a_success(
    stubbed: tuple[session.Aws, Any],
) -> None:
    client, stubber = stubbed
    answer(stubber, rolling(0, pending=2))
    # ECS rolled back: a new PRIMARY deployment runs the old task definition (and completes!)
    answer(
        stubber,
        service(
            "service1",
            [
                deployment("ecs-svc/rollback", OLD, rollout="COMPLETED", running=2),
                deployment(
                    "ecs-svc/new",
                    NEW,
                    status="ACTIVE",
                    rollout="FAILED",
                    reason="ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/old.",
                ),
            ],
            [event(9, "(service service1) rolling back to deployment ecs-svc/old.")],
        ),
    )
    clock = FakeClock()
    outcome = rollouts.wait_rollout(
        CLUSTER, ["service1"], aws=client, clock=clock, sleep=clock.sleep, raise_on_failure=False
    )
    (result,) = outcome.services
    assert result.status == rollouts.ROLLED_BACK
    assert f"now runs {OLD}, not the deployed {NEW}" in (result.state.reason or "")
    assert "rolling back to deploymentId" in (result.state.reason or "")
    assert (
        result.last_events[0].message
        == "(service service1) rolling back to deployment ecs-svc/old."
    )
    with pytest.raises(RolloutError, match="service1 ROLLED_BACK"):
        outcome.raise_for_failure()


def test_a_rollback_finished_before_waiting_started_is_caught(
    stubbed: tuple[session.Aws, Any],
) -> None:
    client, stubber = stubbed
    rolled_back = service(
        "service1",
        [
            deployment("ecs-svc/rollback", OLD, rollout="COMPLETED", running=2),
            deployment("ecs-svc/new", NEW, status="ACTIVE", rollout="FAILED"),
        ],
    )
    answer(stubber, rolled_back)
    clock = FakeClock()
    outcome = rollouts.wait_rollout(
        CLUSTER, ["service1"], aws=client, clock=clock, sleep=clock.sleep, raise_on_failure=False
    )
    assert outcome.services[0].status == rollouts.ROLLED_BACK
    assert clock.sleeps == []


def test_an_expected_deployment_ecs_never_shows_times_out_it_is_not_rolled_back(
    stubbed: tuple[session.Aws, Any],
) -> None:
    # Only the old deployment, no FAILED one, no circuit-breaker event: no evidence of a
    # rollback (ECS may simply not show the new deployment yet). Only the deadline decides.
    client, stubber = stubbed
    only_old = service("service1", [deployment("ecs-svc/old", OLD, rollout="COMPLETED")])
    for _ in range(4):  # polls at 0, 10, 20, 30
        answer(stubber, only_old)
    clock = FakeClock()
    outcome = rollouts.wait_rollout(
        CLUSTER,
        expected_task_definitions={"service1": NEW},
        timeout=30,
        aws=client,
        clock=clock,
        sleep=clock.sleep,
        raise_on_failure=False,
    )
    (result,) = outcome.services
    assert result.status == rollouts.TIMED_OUT
    assert f"ECS does not show a deployment of {NEW} yet (the service runs {OLD})" in (
        result.state.reason or ""
    )


def test_a_first_poll_without_the_new_deployment_is_pending_not_rolled_back(
    stubbed: tuple[session.Aws, Any],
) -> None:
    # The field report: wait-rollout --task-definition service1=...:7 right after the apply;
    # DescribeServices is eventually consistent and first shows only the old deployment.
    client, stubber = stubbed
    answer(stubber, service("service1", [deployment("ecs-svc/old", OLD, rollout="COMPLETED")]))
    answer(stubber, rolling(1, pending=1))
    answer(stubber, service("service1", [deployment("ecs-svc/new", NEW, rollout="COMPLETED")]))
    clock = FakeClock()
    seen: list[str] = []
    outcome = rollouts.wait_rollout(
        CLUSTER,
        expected_task_definitions={"service1": "service1:7"},
        aws=client,
        clock=clock,
        sleep=clock.sleep,
        on_progress=lambda p: seen.append(p.state.status),
    )
    assert outcome.services[0].status == rollouts.COMPLETED
    assert outcome.services[0].state.deployment_id == "ecs-svc/new"
    assert seen == ["IN_PROGRESS", "IN_PROGRESS", "COMPLETED"]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("ServerException", 500),
        ("ServiceUnavailableException", 503),
    ],
)
def test_transient_poll_failures_mid_wait_are_retried_until_the_deadline(
    stubbed: tuple[session.Aws, Any], code: str, status: int
) -> None:
    client, stubber = stubbed
    answer(stubber, rolling(0, pending=2))
    for _ in range(3):  # a burst: botocore gave up on each poll, wait-rollout does not
        stubber.add_client_error(
            "describe_services",
            service_error_code=code,
            service_message="Rate exceeded",
            http_status_code=status,
        )
    answer(stubber, service("service1", [deployment("ecs-svc/new", NEW, rollout="COMPLETED")]))
    clock = FakeClock()
    written: list[rollouts.RolloutOutcome] = []
    outcome = rollouts.wait_rollout(
        CLUSTER,
        ["service1"],
        aws=client,
        clock=clock,
        sleep=clock.sleep,
        on_outcome=written.append,
    )
    assert outcome.services[0].status == rollouts.COMPLETED
    assert clock.sleeps == [10.0, 10.0, 20.0, 40.0]  # backoff doubles after each failed poll
    assert written == [outcome]


def test_a_wait_ended_by_an_error_still_reports_its_outcome(
    stubbed: tuple[session.Aws, Any],
) -> None:
    client, stubber = stubbed
    answer(stubber, rolling(0, pending=2))
    stubber.add_client_error(
        "describe_services", service_error_code="AccessDeniedException", http_status_code=400
    )
    clock = FakeClock()
    written: list[rollouts.RolloutOutcome] = []
    with pytest.raises(PermissionDeniedError):
        rollouts.wait_rollout(
            CLUSTER,
            ["service1"],
            aws=client,
            clock=clock,
            sleep=clock.sleep,
            on_outcome=written.append,
        )
    (outcome,) = written
    assert outcome.services[0].status == rollouts.IN_PROGRESS
    assert "the wait ended before a verdict (PermissionDeniedError: access denied" in (
        outcome.services[0].state.reason or ""
    )
    assert not outcome.is_successful


def test_timeout_names_the_service_and_its_last_events(stubbed: tuple[session.Aws, Any]) -> None:
    client, stubber = stubbed
    stuck = rolling(
        1,
        pending=1,
        events=[event(1, "(service service1) is unable to place a task: no capacity.")],
    )
    for _ in range(4):  # polls at 0, 10, 20 and 25 (the remaining 5 s), then give up
        answer(stubber, stuck)
    clock = FakeClock()
    with pytest.raises(RolloutError) as info:
        rollouts.wait_rollout(
            CLUSTER, ["service1"], timeout=25, aws=client, clock=clock, sleep=clock.sleep
        )
    assert clock.sleeps == [10.0, 10.0, 5.0]
    message = str(info.value)
    assert "service1 TIMED_OUT: not COMPLETED after 25s (running 1/2, pending 1)" in message
    assert "unable to place a task: no capacity" in message


def test_services_are_described_ten_at_a_time_and_done_ones_are_not_asked_again(
    stubbed: tuple[session.Aws, Any],
) -> None:
    client, stubber = stubbed
    names = [f"svc{i:02d}" for i in range(12)]

    def done(name: str) -> dict[str, Any]:
        td = task_definition(name, 2)
        return service(name, [deployment(f"ecs-svc/{name}", td, rollout="COMPLETED", running=2)])

    def busy(name: str) -> dict[str, Any]:
        td = task_definition(name, 2)
        return service(name, [deployment(f"ecs-svc/{name}", td, running=1)])

    answer(stubber, *[busy(n) if n == "svc11" else done(n) for n in names[:10]], names=names[:10])
    answer(stubber, *[busy(n) for n in names[10:]], names=names[10:])
    answer(stubber, done("svc10"), busy("svc11"), names=["svc10", "svc11"])
    answer(stubber, done("svc11"), names=["svc11"])
    clock = FakeClock()
    outcome = rollouts.wait_rollout(CLUSTER, names, aws=client, clock=clock, sleep=clock.sleep)
    assert [s.service for s in outcome.services] == names
    assert all(s.status == rollouts.COMPLETED for s in outcome.services)


def test_unknown_service_is_not_found(stubbed: tuple[session.Aws, Any]) -> None:
    client, stubber = stubbed
    stubber.add_response(
        "describe_services",
        describe_services(missing=("nope",)),
        {"cluster": CLUSTER, "services": ["nope"]},
    )
    with pytest.raises(NotFoundError, match=r"ECS services not found .* in cluster beta: nope"):
        rollouts.wait_rollout(CLUSTER, ["nope"], aws=client)


# --- moto: real ECS API calls for what moto models --------------------------------------------


def create_service(ecs: Any, name: str, desired: int) -> str:
    td = ecs.register_task_definition(
        family=name,
        containerDefinitions=[{"name": name, "image": f"{name}:1", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=td, desiredCount=desired)
    return str(td)


def test_moto_service_that_reached_its_count_is_completed(ecs: Any) -> None:
    ecs.create_cluster(clusterName=CLUSTER)
    td = create_service(ecs, "service1", desired=0)
    outcome = rollouts.wait_rollout(CLUSTER, ["service1"], aws=session.Aws(REGION))
    assert outcome.is_successful
    assert outcome.services[0].deployed_task_definition == td


def test_moto_service_that_never_gets_its_tasks_times_out(ecs: Any) -> None:
    ecs.create_cluster(clusterName=CLUSTER)
    create_service(ecs, "service1", desired=2)  # moto starts no task unless told to
    clock = FakeClock()
    with pytest.raises(RolloutError, match="service1 TIMED_OUT"):
        rollouts.wait_rollout(
            CLUSTER,
            ["service1"],
            timeout=60,
            aws=session.Aws(REGION),
            clock=clock,
            sleep=clock.sleep,
        )
    assert sum(clock.sleeps) == 60


def test_moto_without_named_services_follows_only_rollouts_under_way(ecs: Any) -> None:
    ecs.create_cluster(clusterName=CLUSTER)
    create_service(ecs, "steady", desired=0)
    create_service(ecs, "rolling", desired=1)
    clock = FakeClock()
    outcome = rollouts.wait_rollout(
        CLUSTER,
        timeout=30,
        aws=session.Aws(REGION),
        clock=clock,
        sleep=clock.sleep,
        raise_on_failure=False,
    )
    statuses = {s.service: s.status for s in outcome.services}
    assert statuses == {"rolling": rollouts.TIMED_OUT, "steady": rollouts.UNCHANGED}


def test_moto_unknown_cluster_is_not_found(ecs: Any) -> None:
    with pytest.raises(NotFoundError, match="cluster not found"):
        rollouts.wait_rollout("nowhere", ["service1"], aws=session.Aws(REGION))


def test_expected_revision_as_family_revision_matches_the_arn(
    stubbed: tuple[session.Aws, Any],
) -> None:
    client, stubber = stubbed
    answer(stubber, rolling(0, pending=2))
    answer(stubber, service("service1", [deployment("ecs-svc/new", NEW, rollout="COMPLETED")]))
    clock = FakeClock()
    outcome = rollouts.wait_rollout(
        CLUSTER,
        expected_task_definitions={"service1": "service1:7"},
        aws=client,
        clock=clock,
        sleep=clock.sleep,
    )
    assert outcome.services[0].status == rollouts.COMPLETED
    assert outcome.services[0].state.deployment_id == "ecs-svc/new"


def test_a_new_deployment_of_the_same_revision_is_followed(
    stubbed: tuple[session.Aws, Any],
) -> None:
    client, stubber = stubbed
    answer(stubber, rolling(0, pending=2))
    # someone forced a new deployment of the same task definition: keep following that one
    answer(stubber, service("service1", [deployment("ecs-svc/forced", NEW, running=1)]))
    answer(stubber, service("service1", [deployment("ecs-svc/forced", NEW, rollout="COMPLETED")]))
    clock = FakeClock()
    outcome = rollouts.wait_rollout(
        CLUSTER, ["service1"], aws=client, clock=clock, sleep=clock.sleep
    )
    assert outcome.services[0].status == rollouts.COMPLETED
    assert outcome.services[0].state.deployment_id == "ecs-svc/forced"


def test_service_task_definition_changed_under_a_primary_is_not_success(
    stubbed: tuple[session.Aws, Any],
) -> None:
    client, stubber = stubbed
    answer(stubber, rolling(0, pending=2))
    answer(
        stubber,
        service("service1", [deployment("ecs-svc/new", NEW, rollout="COMPLETED")], task_def=OLD),
    )
    clock = FakeClock()
    outcome = rollouts.wait_rollout(
        CLUSTER, ["service1"], aws=client, clock=clock, sleep=clock.sleep, raise_on_failure=False
    )
    assert outcome.services[0].status == rollouts.ROLLED_BACK
    assert f"now runs {OLD}, not the deployed {NEW}" in (outcome.services[0].state.reason or "")


def test_hostile_event_text_reaches_the_callback_as_one_printable_line(
    stubbed: tuple[session.Aws, Any],
) -> None:
    from tests.fakes.hostile import corpus

    client, stubber = stubbed
    texts = [t for t in corpus() if len(t) < 2000][:90]
    events = [event(i + 1, text) for i, text in enumerate(texts)]
    answer(stubber, service("service1", [deployment("ecs-svc/new", NEW, running=1)], events))
    answer(stubber, service("service1", [deployment("ecs-svc/new", NEW, rollout="COMPLETED")]))
    clock = FakeClock()
    seen: list[rollouts.RolloutProgress] = []
    rollouts.wait_rollout(
        CLUSTER, ["service1"], aws=client, clock=clock, sleep=clock.sleep, on_progress=seen.append
    )
    messages = [str(e) for e in seen[0].new_events]
    assert len(messages) == len(texts)
    for message in messages:
        assert message.isprintable(), repr(message)


def test_outcome_round_trips_through_json_for_record_deployment(
    stubbed: tuple[session.Aws, Any],
) -> None:
    import json

    client, stubber = stubbed
    answer(stubber, rolling(0, pending=2, events=[event(1, "started 2 tasks")]))
    answer(
        stubber,
        service(
            "service1",
            [deployment("ecs-svc/back", OLD, rollout="COMPLETED")],
            [event(1, "started 2 tasks"), event(2, "rolling back")],
        ),
    )
    clock = FakeClock()
    outcome = rollouts.wait_rollout(
        CLUSTER, ["service1"], aws=client, clock=clock, sleep=clock.sleep, raise_on_failure=False
    )
    text = json.dumps(outcome.to_dict())
    again = rollouts.RolloutOutcome.from_dict(json.loads(text))
    assert again == outcome
    assert not again.is_successful and again.services[0].status == rollouts.ROLLED_BACK


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("cluster"),
        lambda d: d["services"]["service1"].update(status="FINE"),
        lambda d: d["services"]["service1"].update(running=-1),
        lambda d: d["services"]["service1"].update(service="other"),
        lambda d: d.update(successful=True),
        lambda d: d["services"]["service1"]["last_events"].append({"id": 1}),
    ],
)
def test_outcome_from_dict_refuses_what_wait_rollout_never_wrote(mutate: Any) -> None:
    from pipelinelib.errors import InvalidInputError

    state = rollouts.RolloutState("service1", rollouts.FAILED, "ecs-svc/1", NEW, 0, 2, 0, 3, "boom")
    data = rollouts.RolloutOutcome(
        CLUSTER, (rollouts.ServiceRollout(state, NEW, (), 1.0),), 1.0
    ).to_dict()
    mutate(data)
    with pytest.raises(InvalidInputError, match="not a wait-rollout outcome"):
        rollouts.RolloutOutcome.from_dict(data)


def test_blue_green_services_are_refused_not_waited_for(stubbed: tuple[session.Aws, Any]) -> None:
    from pipelinelib.errors import InvalidInputError

    client, stubber = stubbed
    blue_green = service("service1", [deployment("ecs-svc/new", NEW)])
    blue_green["deploymentController"] = {"type": "CODE_DEPLOY"}
    answer(stubber, blue_green)
    with pytest.raises(
        InvalidInputError, match="not deployed by the ECS rolling-update controller"
    ):
        rollouts.wait_rollout(CLUSTER, ["service1"], aws=client)


def test_blue_green_services_of_a_listed_cluster_are_left_alone(
    stubbed: tuple[session.Aws, Any],
) -> None:
    client, stubber = stubbed
    blue_green = service("green", [deployment("ecs-svc/g", task_definition("green", 3))])
    blue_green["deploymentController"] = {"type": "CODE_DEPLOY"}
    stubber.add_response(
        "list_services",
        {"serviceArns": [blue_green["serviceArn"]]},
        {"cluster": CLUSTER},
    )
    answer(stubber, blue_green)
    outcome = rollouts.wait_rollout(CLUSTER, aws=client)
    assert [(s.service, s.status) for s in outcome.services] == [("green", rollouts.UNCHANGED)]
