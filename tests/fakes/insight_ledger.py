"""A small ledger recorded through the real store API, as the Jenkins jobs record one: service
builds published (with commit times), deploy-test deployments of them, promotions to beta, one
failed deployment and one rollback. Used by the insight tests and the bench."""

from __future__ import annotations

from typing import Any

from pipelinelib.model import Approval, DeploymentInfo, Manifest, ServiceBuild, SourceRef

SERVICES = ("service1", "service2")


def service_build(service: str, build: int, message: str | None = None) -> ServiceBuild:
    return ServiceBuild(
        name=service,
        build=build,
        image=f"999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/{service}:{build}",
        digest="sha256:" + f"{build:064x}",
        commit=f"{build:040x}",
        commit_message=message or f"Change {build} of {service}",
        commit_time="2026-01-01T00:00:00Z",
    )


def deployment_info(**fields: Any) -> DeploymentInfo:
    return DeploymentInfo(**fields)


def record_ledger(store: Any, *, display: str = "Release {n}", builds: int = 4) -> None:
    """test: deploy-test #1..builds (builds 90..), #builds+1 FAILED; beta: promotions of
    deploy-test #1 and #2, then deploy-beta #3, a rollback to deploy-beta #1 (so #2 is
    ROLLED_BACK), approved by carol."""
    for i in range(builds):
        for s in SERVICES:
            entry = service_build(s, 90 + i, display.format(n=i + 1))
            store.publish(
                Manifest(
                    job=f"{s}-build",
                    number=90 + i,
                    display_name=entry.commit_message,
                    services=[entry],
                )
            )
    for i in range(builds):
        store.publish(
            Manifest(
                job="deploy-test",
                number=i + 1,
                environment="test",
                display_name=display.format(n=i + 1),
                url=f"https://jenkins.example.com/job/deploy-test/{i + 1}/",
                services=[service_build(s, 90 + i, display.format(n=i + 1)) for s in SERVICES],
                deployment=deployment_info(deployed_by="jenkins", requested_by="alice"),
            )
        )
    store.publish(
        Manifest(
            job="deploy-test",
            number=builds + 1,
            environment="test",
            result="FAILURE",
            display_name="Broken " + display.format(n=builds + 1),
            services=[service_build(s, 89 + builds, display.format(n=builds)) for s in SERVICES],
        )
    )
    for n in (1, 2):
        store.publish(
            Manifest(
                job="deploy-beta",
                number=n,
                environment="beta",
                display_name=display.format(n=n),
                source=SourceRef("deploy-test", n),
                services=[service_build(s, 89 + n, display.format(n=n)) for s in SERVICES],
                deployment=deployment_info(requested_by="bob"),
            )
        )
    store.publish(
        Manifest(
            job="deploy-beta",
            number=3,
            environment="beta",
            display_name="Rollback to " + display.format(n=1),
            source=SourceRef("deploy-beta", 1),
            services=[service_build(s, 90, display.format(n=1)) for s in SERVICES],
            deployment=deployment_info(
                kind="rollback",
                reason="errors after " + display.format(n=2),
                requested_by="bob",
                approvals=[Approval(by="carol", at="2026-11-29T10:00:00Z")],
            ),
        )
    )
