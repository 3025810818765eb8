"""wait-rollout as a deploy job runs it after orchestrate apply."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelinelib.aws import ecs as rollouts
from pipelinelib.aws import session
from tests.conftest import CliRunner
from tests.fakes.aws import (
    CLUSTER,
    REGION,
    T0,
    deployment,
    describe_services,
    event,
    service,
    task_definition,
)


def create_service(ecs: Any, name: str, desired: int) -> str:
    td = ecs.register_task_definition(
        family=name, containerDefinitions=[{"name": name, "image": f"{name}:1", "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=td, desiredCount=desired)
    return str(td)


def test_completed(run_cli: CliRunner, ecs: Any) -> None:
    ecs.create_cluster(clusterName=CLUSTER)
    td = create_service(ecs, "service1", 0)
    result = run_cli(["wait-rollout", "--cluster", CLUSTER, "--service", "service1"])
    assert result.exit_code == 0, result.stderr
    assert "service1: COMPLETED running 0/0, pending 0" in result.stdout
    assert result.stdout.endswith(f"service1: COMPLETED ({td})\n")


def test_timeout_exits_11_naming_the_service(run_cli: CliRunner, ecs: Any) -> None:
    ecs.create_cluster(clusterName=CLUSTER)
    create_service(ecs, "service1", 2)
    result = run_cli(
        [
            "wait-rollout",
            "--cluster",
            CLUSTER,
            "--service",
            "service1",
            "--timeout",
            "1s",
            "--poll-interval",
            "1s",
            "--json",
        ]
    )
    assert result.exit_code == 11
    data = json.loads(result.stdout)
    assert data["successful"] is False
    assert data["services"]["service1"]["status"] == "TIMED_OUT"
    progress, error = result.stderr.splitlines()[0], result.stderr.splitlines()[-1]
    assert "service1: IN_PROGRESS running 0/2, pending 2" in progress
    assert error.startswith(
        f"error: rollout on cluster {CLUSTER} did not complete: service1 TIMED_OUT"
    )


@pytest.fixture
def stubbed_aws(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The CLI's Aws() is this one, whose ECS client answers from a Stubber."""
    from botocore.stub import Stubber

    client = session.Aws(REGION)
    monkeypatch.setattr(session, "Aws", lambda region=None: client)
    with Stubber(client.ecs()) as stubber:
        yield stubber


def test_rollback_exits_11_with_the_last_events(
    run_cli: CliRunner, stubbed_aws: Any, tmp_path: Path
) -> None:
    old, new = task_definition("service1", 6), task_definition("service1", 7)
    params = {"cluster": CLUSTER, "services": ["service1"]}
    stubbed_aws.add_response(
        "describe_services",
        describe_services(service("service1", [deployment("ecs-svc/new", new, pending=2)])),
        params,
    )
    stubbed_aws.add_response(
        "describe_services",
        describe_services(
            service(
                "service1",
                [
                    deployment("ecs-svc/back", old, rollout="IN_PROGRESS", running=1),
                    deployment("ecs-svc/new", new, status="ACTIVE", rollout="FAILED"),
                ],
                [
                    event(1, "(service service1) (task 1) failed container health checks.", at=T0),
                    event(2, "(service service1) rolling back to deployment ecs-svc/old."),
                ],
            )
        ),
        params,
    )
    outcome_file = tmp_path / "rollout.json"
    result = run_cli(
        [
            "wait-rollout",
            "--cluster",
            CLUSTER,
            "--service",
            "service1",
            "--poll-interval",
            "1s",
            "--output",
            str(outcome_file),
        ]
    )
    assert result.exit_code == 11
    # The outcome is written on failure too: record-deployment --rollout puts it in the history.
    written = rollouts.RolloutOutcome.from_dict(json.loads(outcome_file.read_text()))
    assert [(s.service, s.status) for s in written.services] == [("service1", "ROLLED_BACK")]
    assert (
        "    05:00:02 (service service1) rolling back to deployment ecs-svc/old." in result.stdout
    )
    error = result.stderr.strip()
    assert error.startswith("error: rollout on cluster beta did not complete: service1 ROLLED_BACK")
    assert f"now runs {old}, not the deployed {new}" in error
    assert "last events: (service service1) rolling back to deployment ecs-svc/old." in error


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout", "soon"], "invalid duration 'soon'"),
        (["--task-definition", "service1"], "expected SERVICE=TASK_DEFINITION"),
    ],
)
def test_bad_options_exit_2(run_cli: CliRunner, args: list[str], message: str) -> None:
    result = run_cli(["wait-rollout", "--cluster", CLUSTER, *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_no_region_exit_2(
    run_cli: CliRunner, aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = run_cli(["wait-rollout", "--cluster", CLUSTER])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no AWS region to create the ecs client")


def test_the_outcome_file_is_written_whatever_ends_the_wait(
    run_cli: CliRunner, ecs: Any, tmp_path: Path
) -> None:
    # One named service does not exist: the wait ends with an error (exit 3) at the first poll,
    # and the deploy job still gets an outcome file saying nothing completed.
    ecs.create_cluster(clusterName=CLUSTER)
    create_service(ecs, "service1", 0)
    output = tmp_path / "rollout.json"
    result = run_cli(
        [
            "wait-rollout",
            "--cluster",
            CLUSTER,
            "--service",
            "service1",
            "--service",
            "nope",
            f"--output={output}",
        ]
    )
    assert result.exit_code == 3, result.stderr
    written = rollouts.RolloutOutcome.from_dict(json.loads(output.read_text()))
    assert not written.is_successful
    assert {s.service: s.status for s in written.services} == {
        "service1": "IN_PROGRESS",
        "nope": "IN_PROGRESS",
    }
