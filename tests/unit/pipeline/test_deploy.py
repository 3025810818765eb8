"""deploy.wait_rollout writes its outcome file on success and on failure; record-deployment
reads it back with read_rollout_file (ECS is moto's)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipelinelib.aws import session
from pipelinelib.errors import InvalidInputError, RolloutError
from pipelinelib.pipeline import deploy
from tests.fakes.aws import CLUSTER, REGION


def create_service(ecs: Any, name: str, desired: int) -> None:
    td = ecs.register_task_definition(
        family=name, containerDefinitions=[{"name": name, "image": f"{name}:1", "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=td, desiredCount=desired)


def test_a_completed_rollout_is_written_and_read_back(ecs: Any, tmp_path: Path) -> None:
    ecs.create_cluster(clusterName=CLUSTER)
    create_service(ecs, "service1", 0)
    output = tmp_path / "rollout.json"
    outcome = deploy.wait_rollout(
        CLUSTER, ["service1"], timeout=5, poll_interval=1, output=output, aws=session.Aws(REGION)
    )
    assert outcome.is_successful
    assert json.loads(output.read_text())["cluster"] == CLUSTER
    assert deploy.read_rollout_file(output) == {"service1": "COMPLETED"}


def test_a_timed_out_rollout_is_written_before_the_error(ecs: Any, tmp_path: Path) -> None:
    ecs.create_cluster(clusterName=CLUSTER)
    create_service(ecs, "service1", 2)  # moto never starts the tasks: it stays IN_PROGRESS
    output = tmp_path / "rollout.json"
    with pytest.raises(RolloutError) as caught:
        deploy.wait_rollout(
            CLUSTER, ["service1"], timeout=1, poll_interval=1, output=output, region=REGION
        )
    failed = deploy.failed_outcome(caught.value)
    assert failed is not None and not failed.is_successful
    assert deploy.read_rollout_file(output) == {"service1": "TIMED_OUT"}


def test_a_file_that_is_not_an_outcome_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rollout.json"
    path.write_text('{"cluster": 3}')
    with pytest.raises(InvalidInputError, match="not a wait-rollout outcome"):
        deploy.read_rollout_file(path)
    path.write_text("terraform output, not JSON")
    with pytest.raises(InvalidInputError, match="not the JSON of wait-rollout"):
        deploy.read_rollout_file(path)
