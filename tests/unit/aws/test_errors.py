"""botocore errors become one clear pipelinelib error each, translated in one place."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pipelinelib.aws import ecr as images
from pipelinelib.aws import ecs as rollouts
from pipelinelib.aws import session
from pipelinelib.errors import (
    AuthenticationError,
    AwsError,
    InvalidInputError,
    PermissionDeniedError,
    RolloutError,
)
from tests.fakes.aws import CLUSTER, REGION, REGISTRY, FakeClock

IMAGE = f"{REGISTRY}/service1:90"


class _Throttling(http.server.BaseHTTPRequestHandler):
    """An AWS JSON-protocol endpoint that always answers ThrottlingException (HTTP 400)."""

    requests: list[str]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).requests.append(self.headers.get("X-Amz-Target", ""))
        body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def throttling_endpoint(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[str]]:
    handler = type("Handler", (_Throttling,), {"requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield handler.requests
    finally:
        server.shutdown()
        server.server_close()


def test_no_credentials() -> None:
    # tests.fixtures.aws removes every credential source: no env, no files, no metadata service
    with pytest.raises(AuthenticationError) as info:
        images.verify_images([aws_build()])
    assert info.value.exit_code == 5
    assert str(info.value).startswith("no AWS credentials to describe images in ECR repository")
    assert "AWS_ACCESS_KEY_ID" in str(info.value)


def test_no_region(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(InvalidInputError) as info:
        rollouts.wait_rollout(CLUSTER, ["service1"])
    assert info.value.exit_code == 2
    assert "no AWS region to create the ecs client: pass --region or set AWS_REGION" in str(
        info.value
    )


def test_access_denied_names_the_action(aws_credentials: None) -> None:
    from botocore.stub import Stubber

    client = session.Aws(REGION)
    with Stubber(client.ecr(REGION)) as stubber:
        stubber.add_client_error(
            "describe_images",
            service_error_code="AccessDeniedException",
            service_message="User: arn:aws:sts::123456789012:assumed-role/jenkins is not "
            "authorized to perform: ecr:DescribeImages",
            http_status_code=400,
        )
        with pytest.raises(PermissionDeniedError) as info:
            images.verify_images([aws_build()], aws=client)
    assert info.value.exit_code == 5
    message = str(info.value)
    assert message.startswith("access denied: the AWS identity may not call DescribeImages")
    assert "to describe images in ECR repository service1" in message
    assert "not authorized to perform: ecr:DescribeImages" in message


def test_throttling_is_retried_with_backoff_until_the_deadline_then_reported(
    throttling_endpoint: list[str],
) -> None:
    # botocore retries twice per poll; wait-rollout keeps polling (10, 20, 30 s apart on its
    # fake clock) until the 60 s deadline, and only then gives up: TIMED_OUT, exit 11.
    clock = FakeClock()
    written: list[rollouts.RolloutOutcome] = []
    with pytest.raises(RolloutError) as info:
        rollouts.wait_rollout(
            CLUSTER,
            ["service1"],
            timeout=60,
            aws=session.Aws(REGION, max_attempts=2),
            clock=clock,
            sleep=clock.sleep,
            on_outcome=written.append,
        )
    assert clock.sleeps == [10.0, 20.0, 30.0]
    assert throttling_endpoint == ["AmazonEC2ContainerServiceV20141113.DescribeServices"] * 8
    assert info.value.exit_code == 11
    assert "service1 TIMED_OUT" in str(info.value)
    assert "the last poll failed: AWS is still throttling DescribeServices after 2 attempts" in str(
        info.value
    )
    (outcome,) = written
    assert outcome.services[0].status == rollouts.TIMED_OUT


def test_unreachable_endpoint(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(AwsError, match="cannot reach AWS to describe images in ECR repository"):
        images.verify_images([aws_build()], aws=session.Aws(max_attempts=1))


def test_rejected_credentials(aws_credentials: None) -> None:
    from botocore.stub import Stubber

    client = session.Aws(REGION)
    with Stubber(client.ecs()) as stubber:
        stubber.add_client_error(
            "describe_services",
            service_error_code="ExpiredTokenException",
            service_message="The security token included in the request is expired",
        )
        with pytest.raises(AuthenticationError, match=r"AWS refused the credentials .* expired"):
            rollouts.wait_rollout(CLUSTER, ["service1"], aws=client)


def test_errors_that_are_not_botocore_errors_pass_through() -> None:
    assert session.translate_error(ValueError("x"), "do it") is None
    with pytest.raises(ValueError, match="x"), session.aws_errors("do it"):
        raise ValueError("x")


def aws_build() -> Any:
    from pipelinelib.model import ServiceBuild

    return ServiceBuild(name="service1", build=90, image=IMAGE)
