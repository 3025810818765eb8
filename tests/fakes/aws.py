"""Builders for AWS-shaped test data: ECR image manifests (for moto) and DescribeServices answers
(for botocore's Stubber, which checks them against the real ECS response model)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

ACCOUNT = "123456789012"  # moto's default account
REGION = "ap-southeast-2"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
CLUSTER = "beta"
T0 = datetime(2026, 11, 29, 5, 0, 0, tzinfo=UTC)


def image_manifest(seed: str) -> str:
    """A Docker v2 image manifest whose layers depend on ``seed`` (so its digest does too)."""
    layer = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
    config = "sha256:" + hashlib.sha256(f"config-{seed}".encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1234,
                "digest": config,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 5678,
                    "digest": layer,
                }
            ],
        }
    )


def push(ecr: Any, repository: str, tag: str, seed: str | None = None) -> str:
    """``docker push REGISTRY/repository:tag`` against moto; returns the image digest."""
    response = ecr.put_image(
        repositoryName=repository,
        imageManifest=image_manifest(seed or f"{repository}:{tag}"),
        imageTag=tag,
    )
    return str(response["image"]["imageId"]["imageDigest"])


def task_definition(family: str, revision: int) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}"


def deployment(
    id: str,
    task_def: str,
    *,
    status: str = "PRIMARY",
    rollout: str | None = "IN_PROGRESS",
    running: int = 0,
    desired: int = 2,
    pending: int = 0,
    failed: int = 0,
    created: datetime = T0,
    reason: str | None = None,
) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": id,
        "status": status,
        "taskDefinition": task_def,
        "desiredCount": desired,
        "pendingCount": pending,
        "runningCount": running,
        "failedTasks": failed,
        "createdAt": created,
        "updatedAt": created,
        "launchType": "FARGATE",
    }
    if rollout is not None:
        d["rolloutState"] = rollout
        d["rolloutStateReason"] = reason or f"ECS deployment {id} {rollout.lower()}."
    return d


def event(number: int, message: str, *, at: datetime | None = None) -> dict[str, Any]:
    return {
        "id": f"event-{number}",
        "createdAt": at or T0 + timedelta(seconds=number),
        "message": message,
    }


def service(
    name: str,
    deployments: list[dict[str, Any]],
    events: list[dict[str, Any]] | None = None,
    *,
    task_def: str | None = None,
) -> dict[str, Any]:
    """One entry of DescribeServices' ``services``; events newest first, as ECS orders them."""
    primary = next(d for d in deployments if d["status"] == "PRIMARY")
    return {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{name}",
        "serviceName": name,
        "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
        "status": "ACTIVE",
        "desiredCount": primary["desiredCount"],
        "runningCount": primary["runningCount"],
        "pendingCount": primary["pendingCount"],
        "taskDefinition": task_def or primary["taskDefinition"],
        "deployments": deployments,
        "events": sorted(events or [], key=lambda e: e["createdAt"], reverse=True),
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
    }


def describe_services(*services: dict[str, Any], missing: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "services": list(services),
        "failures": [
            {"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{m}", "reason": "MISSING"}
            for m in missing
        ],
    }


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
