"""The AWS commands as separate processes against a moto_server on loopback (real HTTP).

This is how a demo or an agent without AWS runs them: only ``AWS_ENDPOINT_URL`` differs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.fakes.aws import CLUSTER, REGION, REGISTRY, push


def pipelinelib(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelinelib", *args],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def client(name: str) -> Any:
    import boto3

    return boto3.client(name, region_name=REGION)  # AWS_ENDPOINT_URL: the moto_server


def test_publish_verify_and_wait_over_http(moto_server: str, tmp_path: Path) -> None:
    ecr, ecs = client("ecr"), client("ecs")
    ecr.create_repository(repositoryName="service1")
    digest = push(ecr, "service1", "90")
    published = pipelinelib(
        "publish-artifact",
        "--service",
        "service1",
        "--build",
        "90",
        "--job",
        "service1-build",
        "--image",
        f"{REGISTRY}/service1:90",
        "--commit",
        "a" * 40,
        "--message",
        "Fix login",
        "--no-register",
        "--output-dir",
        "import",
        cwd=tmp_path,
    )
    assert published.returncode == 0, published.stderr
    manifest = json.loads((tmp_path / "import" / "service1.manifest.json").read_text())
    assert manifest["services"]["service1"]["digest"] == digest

    # import/ holds only the env.groovy (no manifest.json): verify-images reads it
    (tmp_path / "import" / "service1.manifest.json").unlink()
    verified = pipelinelib("verify-images", cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert "verified 1 of 1 images" in verified.stdout

    push(ecr, "service1", "90", seed="rebuilt")  # the tag moves
    mutated = pipelinelib("verify-images", cwd=tmp_path)
    assert mutated.returncode == 10
    assert "service1: tag 90 now points at" in mutated.stderr

    ecs.create_cluster(clusterName=CLUSTER)
    td = ecs.register_task_definition(
        family="service1",
        containerDefinitions=[
            {"name": "service1", "image": f"{REGISTRY}/service1:90", "memory": 128}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=CLUSTER, serviceName="service1", taskDefinition=td, desiredCount=0)
    waited = pipelinelib(
        "wait-rollout", "--cluster", CLUSTER, "--service", "service1", "--json", cwd=tmp_path
    )
    assert waited.returncode == 0, waited.stderr
    outcome = json.loads(waited.stdout)
    assert outcome["successful"] is True
    assert outcome["services"]["service1"]["deployed_task_definition"] == td
