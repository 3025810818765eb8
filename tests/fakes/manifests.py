"""Manifests as the pipelines produce them, for store and service tests."""

from __future__ import annotations

from urllib.parse import quote

from pipelinelib.model import Manifest, ServiceBuild, SourceRef

REGISTRY = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com"


def service_build(name: str, build: int, message: str | None = None) -> ServiceBuild:
    return ServiceBuild(
        name=name,
        build=build,
        image=f"{REGISTRY}/{name}:{build}",
        digest="sha256:" + f"{build:064x}",
        commit=f"{build:040x}",
        commit_message=message if message is not None else f"Change {build} of {name}",
    )


def build_manifest(
    job: str = "service1-build",
    number: int = 1,
    *,
    service: str = "service1",
    result: str = "SUCCESS",
    display_name: str | None = None,
    message: str | None = None,
) -> Manifest:
    """A service build job's manifest: one service whose build is the job's number."""
    entry = service_build(service, number, message)
    return Manifest(
        job=job,
        number=number,
        display_name=display_name if display_name is not None else entry.commit_message,
        result=result,
        # BUILD_URL as Jenkins makes it: Run.getUrl() escapes each name with Util.rawEncode
        url="https://jenkins.example.com/"
        + "".join(f"job/{quote(segment, safe='')}/" for segment in job.split("/"))
        + f"{number}/",
        services=[entry],
    )


def deploy_manifest(
    job: str,
    number: int,
    environment: str,
    services: list[ServiceBuild],
    *,
    source: SourceRef | None = None,
    result: str = "SUCCESS",
) -> Manifest:
    return Manifest(
        job=job,
        number=number,
        display_name=f"Deploy {number}",
        result=result,
        environment=environment,
        source=source,
        services=services,
    )


def published_build(entry: ServiceBuild) -> Manifest:
    """The service build job's own manifest of ``entry``: what a deployment of it presupposes."""
    return Manifest(
        job=f"{entry.name}-build",
        number=entry.build,
        display_name=entry.commit_message,
        services=[entry],
    )
