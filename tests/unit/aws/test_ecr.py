"""verify_images and image_digest against moto's ECR: real digests from real image manifests."""

from __future__ import annotations

from typing import Any

import pytest

from pipelinelib.aws import ecr as images
from pipelinelib.aws import session
from pipelinelib.errors import InvalidInputError, NotFoundError, VerificationError
from pipelinelib.model import Manifest, ServiceBuild
from tests.fakes.aws import REGISTRY, push


def manifest(*services: ServiceBuild) -> Manifest:
    return Manifest(job="deploy-test", number=12, services=list(services))


def build(name: str, image: str | None, digest: str | None = None) -> ServiceBuild:
    return ServiceBuild(name=name, build=90, image=image, digest=digest)


def count_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    client.meta.events.register(
        f"provide-client-params.ecr.{operation}", lambda params, **_: calls.append(params)
    )
    return calls


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            f"{REGISTRY}/service1:90",
            ("123456789012", "ap-southeast-2", "service1", "90", None),
        ),
        (
            f"{REGISTRY}/team/order-api:2026.11-1",
            ("123456789012", "ap-southeast-2", "team/order-api", "2026.11-1", None),
        ),
        (
            f"{REGISTRY}/service1@sha256:" + "a" * 64,
            ("123456789012", "ap-southeast-2", "service1", None, "sha256:" + "a" * 64),
        ),
        (
            f"{REGISTRY}/service1:90@sha256:" + "b" * 64,
            ("123456789012", "ap-southeast-2", "service1", "90", "sha256:" + "b" * 64),
        ),
        (
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/s:1",
            ("123456789012", "us-gov-west-1", "s", "1", None),
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/s:1",
            ("123456789012", "cn-north-1", "s", "1", None),
        ),
        ("nginx:1.27", (None, None, "nginx", "1.27", None)),
        ("docker.io/library/nginx", (None, None, "library/nginx", None, None)),
        ("localhost:5000/app:3", (None, None, "app", "3", None)),
        ("evil.dkr.ecr.ap-southeast-2.amazonaws.com.attacker.io/s:1", (None, None, "s", "1", None)),
    ],
)
def test_parse_image(uri: str, expected: tuple[Any, ...]) -> None:
    ref = images.parse_image(uri)
    assert (ref.registry_id, ref.region, ref.repository, ref.tag, ref.digest) == expected
    assert ref.is_ecr == (expected[0] is not None)


@pytest.mark.parametrize("uri", [f"{REGISTRY}/s@md5:abc", f"{REGISTRY}/", f"{REGISTRY}//s:1"])
def test_parse_image_refuses_malformed_references(uri: str) -> None:
    with pytest.raises(InvalidInputError):
        images.parse_image(uri)


def test_digest_match_and_tag_without_recorded_digest_are_ok(ecr: Any) -> None:
    ecr.create_repository(repositoryName="service1")
    ecr.create_repository(repositoryName="service2")
    digest = push(ecr, "service1", "90")
    push(ecr, "service2", "91")
    report = images.verify_images(
        manifest(
            build("service1", f"{REGISTRY}/service1:90", digest),
            build("service2", f"{REGISTRY}/service2:91"),
        )
    )
    assert report.is_ok
    by_name = {c.service: c for c in report.checks}
    assert by_name["service1"].status == images.OK
    assert by_name["service1"].found_digest == digest
    assert by_name["service1"].detail == "digest matches"
    assert by_name["service2"].found_digest is not None
    report.raise_for_problems()  # nothing to raise


def test_missing_tag_is_named(ecr: Any) -> None:
    ecr.create_repository(repositoryName="service1")
    push(ecr, "service1", "90")
    report = images.verify_images(manifest(build("service1", f"{REGISTRY}/service1:91")))
    (check,) = report.problems
    assert check.status == images.MISSING
    assert "tag 91 not found in ECR repository service1" in check.detail
    with pytest.raises(VerificationError, match="service1: tag 91 not found") as info:
        report.raise_for_problems()
    assert info.value.exit_code == 10


def test_mutated_tag_is_an_error_even_though_the_tag_exists(ecr: Any) -> None:
    ecr.create_repository(repositoryName="service1")
    recorded = push(ecr, "service1", "90", seed="first build")
    pushed_again = push(ecr, "service1", "90", seed="someone rebuilt it")
    assert recorded != pushed_again
    report = images.verify_images(manifest(build("service1", f"{REGISTRY}/service1:90", recorded)))
    (check,) = report.problems
    assert check.status == images.MUTATED
    assert check.expected_digest == recorded and check.found_digest == pushed_again
    assert f"now points at {pushed_again}, but the manifest recorded {recorded}" in check.detail


def test_every_problem_is_reported_at_once(ecr: Any) -> None:
    ecr.create_repository(repositoryName="service1")
    ecr.create_repository(repositoryName="service2")
    ecr.create_repository(repositoryName="service3")
    recorded = push(ecr, "service1", "90", seed="a")
    push(ecr, "service1", "90", seed="b")
    ok = push(ecr, "service3", "7")
    report = images.verify_images(
        manifest(
            build("service1", f"{REGISTRY}/service1:90", recorded),
            build("service2", f"{REGISTRY}/service2:5"),
            build("service3", f"{REGISTRY}/service3:7", ok),
            build("service4", f"{REGISTRY}/never-created:1"),
        )
    )
    assert [c.service for c in report.problems] == ["service1", "service2", "service4"]
    assert "repository never-created does not exist" in report.checks[3].detail
    with pytest.raises(VerificationError) as info:
        report.raise_for_problems()
    message = str(info.value)
    assert message.startswith("3 of 4 images failed verification (service1, service2, service4)")
    assert info.value.context["services"] == ["service1", "service2", "service4"]


def test_missing_tag_whose_recorded_digest_still_exists_says_so(ecr: Any) -> None:
    ecr.create_repository(repositoryName="service1")
    digest = push(ecr, "service1", "90")
    ecr.batch_delete_image(repositoryName="service1", imageIds=[{"imageTag": "90"}])
    push(ecr, "service1", "keep", seed="service1:90")  # same manifest, so same digest, other tag
    report = images.verify_images(manifest(build("service1", f"{REGISTRY}/service1:90", digest)))
    (check,) = report.problems
    assert check.status == images.MISSING
    assert f"the recorded digest {digest} still exists" in check.detail


def test_image_by_digest_only(ecr: Any) -> None:
    ecr.create_repository(repositoryName="service1")
    digest = push(ecr, "service1", "90")
    good = images.verify_images([build("service1", f"{REGISTRY}/service1@{digest}")])
    assert good.is_ok and good.checks[0].found_digest == digest
    bad = images.verify_images([build("service1", f"{REGISTRY}/service1@sha256:" + "0" * 64)])
    assert bad.problems[0].status == images.MISSING
    assert "digest sha256:000" in bad.problems[0].detail


def test_manifest_digest_that_contradicts_the_uri_is_a_conflict(ecr: Any) -> None:
    report = images.verify_images(
        [build("service1", f"{REGISTRY}/service1@sha256:" + "1" * 64, "sha256:" + "2" * 64)]
    )
    assert report.problems[0].status == images.CONFLICT


def test_images_outside_ecr_are_warnings_unless_strict(ecr: Any) -> None:
    services = [build("proxy", "docker.io/library/nginx:1.27"), build("legacy", None)]
    relaxed = images.verify_images(services)
    assert relaxed.is_ok
    assert [c.service for c in relaxed.warnings] == ["proxy", "legacy"]
    assert "not in Amazon ECR" in relaxed.warnings[0].detail
    strict = images.verify_images(services, strict=True)
    assert not strict.is_ok and len(strict.problems) == 2 and not strict.warnings


def test_one_describe_images_call_per_100_images_of_a_repository(ecr: Any) -> None:
    ecr.create_repository(repositoryName="mono")
    services = [
        build(f"svc{i}", f"{REGISTRY}/mono:svc{i}-90", push(ecr, "mono", f"svc{i}-90"))
        for i in range(150)
    ]
    checker = session.Aws()
    calls = count_calls(checker.ecr("ap-southeast-2"), "DescribeImages")
    report = images.verify_images(services, aws=checker)
    assert report.is_ok and len(report.checks) == 150
    assert [len(c["imageIds"]) for c in calls] == [100, 50]


def test_a_missing_image_in_a_batch_falls_back_to_one_call_per_image(ecr: Any) -> None:
    ecr.create_repository(repositoryName="mono")
    services = [
        build(f"svc{i}", f"{REGISTRY}/mono:{i}", push(ecr, "mono", str(i))) for i in range(3)
    ]
    services.append(build("gone", f"{REGISTRY}/mono:404"))
    checker = session.Aws()
    calls = count_calls(checker.ecr("ap-southeast-2"), "DescribeImages")
    report = images.verify_images(services, aws=checker)
    assert [c.service for c in report.problems] == ["gone"]
    assert [len(c["imageIds"]) for c in calls] == [4, 1, 1, 1, 1]


def test_image_digest_resolves_a_tag(ecr: Any) -> None:
    ecr.create_repository(repositoryName="service1")
    digest = push(ecr, "service1", "90")
    assert images.image_digest(f"{REGISTRY}/service1:90") == digest
    assert images.image_digest("docker.io/library/nginx:1.27") is None
    with pytest.raises(NotFoundError, match="is not in ECR"):
        images.image_digest(f"{REGISTRY}/service1:91")
    with pytest.raises(NotFoundError, match="repository nope does not exist"):
        images.image_digest(f"{REGISTRY}/nope:1")


def test_importing_the_aws_module_loads_no_boto() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pipelinelib.aws.ecr, pipelinelib.aws.ecs, pipelinelib.pipeline\n"
        "print(','.join(m for m in ('boto3', 'botocore') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
