"""verify-images for a 50-service manifest against moto's ECR (in-process), against the naive
loop (one bare DescribeImages call per service, one after the other) measured in the same run.

Two layouts: one repository per service (the usual one: batching cannot merge calls, so the
figure shows what the checks themselves cost), and one shared repository with a tag per service
(DescribeImages takes up to 100 imageIds, so verify-images asks once).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._timing import median_seconds

SERVICES = 50
REPEAT = 7
REGION = "ap-southeast-2"
REGISTRY = f"123456789012.dkr.ecr.{REGION}.amazonaws.com"


def _manifest(seed: str) -> str:
    layer = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1,
                "digest": layer,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 1,
                    "digest": layer,
                }
            ],
        }
    )


def _setup(ecr: Any, shared: bool) -> list[Any]:
    from pipelinelib.model import ServiceBuild

    services = []
    for i in range(SERVICES):
        name = f"service{i:02d}"
        repository, tag = ("mono", f"{name}-90") if shared else (name, "90")
        if not shared or i == 0:
            ecr.create_repository(repositoryName=repository)
        put = ecr.put_image(repositoryName=repository, imageManifest=_manifest(name), imageTag=tag)
        digest = put["image"]["imageId"]["imageDigest"]
        services.append(
            ServiceBuild(name=name, build=90, image=f"{REGISTRY}/{repository}:{tag}", digest=digest)
        )
    return services


def _naive(ecr: Any, services: list[Any]) -> None:
    from pipelinelib.aws.ecr import parse_image

    for service in services:
        ref = parse_image(service.image)
        ecr.describe_images(repositoryName=ref.repository, imageIds=[{"imageTag": ref.tag}])


def _measure(shared: bool, where: str) -> None:
    import boto3

    from pipelinelib.aws.ecr import verify_images
    from pipelinelib.aws.session import Aws

    layout = "1 shared repository" if shared else f"{SERVICES} repositories"
    ecr = boto3.client("ecr", region_name=REGION)
    services = _setup(ecr, shared)
    checker = Aws(REGION)
    assert verify_images(services, aws=checker).is_ok
    _naive(ecr, services)  # warm both paths
    baseline = median_seconds(lambda: _naive(ecr, services), REPEAT)
    for workers in (1, 8):
        measured = median_seconds(
            lambda: verify_images(services, aws=checker, max_workers=workers),  # noqa: B023
            REPEAT,
        )
        print(
            f"verify_images {SERVICES} services, {layout}, {where}, max_workers={workers}: "
            f"{measured * 1000:.1f} ms median vs naive {SERVICES} x DescribeImages "
            f"{baseline * 1000:.1f} ms -> ratio {measured / baseline:.2f}x"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        os.environ[name] = value
    from moto import mock_aws

    for shared in (False, True):
        with mock_aws():
            _measure(shared, "moto in-process")
    # moto_server in its own process on loopback: real HTTP round trips, as with ECR itself
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
        for shared in (False, True):
            requests_reset(port)
            _measure(shared, "moto_server on loopback")
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        server.terminate()
        server.wait(timeout=10)


def requests_reset(port: int) -> None:
    """Empty the moto_server's state between layouts (its documented reset endpoint)."""
    import urllib.request

    urllib.request.urlopen(
        urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST"),
        timeout=10,
    ).close()


if __name__ == "__main__":
    main()
