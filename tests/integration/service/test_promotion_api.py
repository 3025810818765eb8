"""Promotion control over HTTP: locks across two real service replicas on one PostgreSQL,
approvals by token identity, and HttpStore recording a deployment with its approvals."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pipelinelib.errors import DeploymentRefusedError, LockedError, PermissionDeniedError
from pipelinelib.model import SourceRef
from pipelinelib.store.http import HttpStore
from tests.fakes.manifests import build_manifest, deploy_manifest
from tests.fixtures.service import LiveService, ServiceProcess, StartService, free_port

JENKINS = "jenkins-token-" + "j" * 24
ANN = "ann-approve-token-" + "a" * 24
BOB = "bob-publish-token-" + "b" * 24
ENVIRONMENTS = """
[environments.test]
[environments.live]
upstream = "test"
protected = true
approvals = 1
"""
TOKENS = f"""# jenkins records requests and deployments; people approve
{JENKINS} publish identity=jenkins
{ANN} approve identity=ann
{BOB} publish
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    environments = tmp_path / "pipelinelib.toml"
    environments.write_text(ENVIRONMENTS)
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKENS)
    return environments, tokens


@pytest.fixture
def service(start_service: StartService, files: tuple[Path, Path]) -> LiveService:
    environments, tokens = files
    return start_service(tokens=None, tokens_file=tokens, environments=environments)


def _post(url: str, token: str, body: dict[str, object]) -> requests.Response:
    return requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_approvals_take_the_identity_from_the_token(service: LiveService) -> None:
    base = f"{service.url}/api/v1/environments/live"
    asked = _post(
        f"{base}/approval-requests",
        JENKINS,
        {"job": "deploy-live", "number": 3, "requested_by": "ann"},
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["requested_via"] == "jenkins"
    own = _post(f"{base}/approvals", ANN, {"job": "deploy-live", "number": 3})
    assert own.status_code == 403 and "approving your own request" in own.json()["error"]
    no_scope = _post(f"{base}/approvals", BOB, {"job": "deploy-live", "number": 3})
    assert no_scope.status_code == 403 and "approve scope" in no_scope.json()["error"]
    no_identity = HttpStore(service.url, token=JENKINS, retries=0)
    try:
        with pytest.raises(PermissionDeniedError):
            no_identity.approve("live", "deploy-live", 3, approver="ann")  # jenkins may not
        assert no_identity.approval_request("live", "deploy-live", 3).approvals == ()
    finally:
        no_identity.close()
    forged = _post(f"{base}/approvals", ANN, {"job": "deploy-live", "number": 3, "approver": "x"})
    assert forged.status_code == 400  # the approver is never taken from the body
    config = requests.get(f"{service.url}/api/v1/environments/config", timeout=10).json()
    assert config["order"] == ["test", "live"]


def test_a_deployment_recorded_over_http_carries_its_approvals(
    service: LiveService, tmp_path: Path
) -> None:
    from pipelinelib import pipeline

    jenkins = HttpStore(service.url, token=JENKINS, retries=0)
    ann = HttpStore(service.url, token=ANN, retries=0)
    try:
        jenkins.publish(build_manifest("service1-build", 5))
        entry = jenkins.get_build("service1-build", 5).services["service1"]
        jenkins.publish(deploy_manifest("deploy-test", 1, "test", [entry]))
        pipeline.import_artifacts(jenkins, from_jobs=["deploy-test"], target=tmp_path / "import")
        jenkins.acquire_lock("live", holder="deploy-live#1", reason="deploy-live #1", ttl=600)
        with pytest.raises(DeploymentRefusedError, match="needs 1 approval"):
            pipeline.record_deployment(
                jenkins,
                environment="live",
                job="deploy-live",
                number=1,
                import_dir=tmp_path / "import",
                output_dir=tmp_path / "out",
            )
        jenkins.request_approval("live", "deploy-live", 1, requested_by="dev")
        ann.approve("live", "deploy-live", 1, comment="ship it")
        checked = pipeline.record_deployment(
            jenkins,
            environment="live",
            job="deploy-live",
            number=1,
            import_dir=tmp_path / "import",
            output_dir=tmp_path / "out",
            check_only=True,
        )
        assert checked.created is True and jenkins.history("live") == []
        recorded = pipeline.record_deployment(
            jenkins,
            environment="live",
            job="deploy-live",
            number=1,
            import_dir=tmp_path / "import",
            output_dir=tmp_path / "out",
        ).deployment
        jenkins.release_lock("live", holder="deploy-live#1")
        [stored] = jenkins.history("live")
        assert stored == recorded and stored.source == SourceRef("deploy-test", 1)
        assert stored.deployment is not None
        assert [(a.by, a.comment) for a in stored.deployment.approvals] == [("ann", "ship it")]
        assert (stored.deployment.requested_by, stored.deployment.lock) == ("dev", "deploy-live#1")
        board = requests.get(f"{service.url}/environments/live", timeout=10).text
        assert "approved by ann" in board and "lock deploy-live#1" in board
    finally:
        jenkins.close()
        ann.close()


# --- two replicas on PostgreSQL -----------------------------------------------------------------


@pytest.fixture
def replicas(
    pg_url: str, files: tuple[Path, Path], tmp_path: Path
) -> Iterator[list[ServiceProcess]]:
    environments, tokens = files
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINELIB_")}
    env.update(
        {
            "PIPELINELIB_DB": pg_url,
            "PIPELINELIB_TOKENS_FILE": str(tokens),
            "PIPELINELIB_ENVIRONMENTS": str(environments),
        }
    )
    started: list[ServiceProcess] = []
    for i, argv in enumerate(
        (
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4"],
            [sys.executable, "-m", "pipelinelib", "serve"],
        )
    ):
        port = free_port()
        if "gunicorn" in argv:
            argv = [*argv, "--bind", f"127.0.0.1:{port}", "pipelinelib.service:create_app()"]
        else:
            argv = [*argv, "--port", str(port)]
        started.append(ServiceProcess(argv, env, port, tmp_path / f"replica-{i}.log").start())
    try:
        yield started
    finally:
        for proc in started:
            proc.stop()


@pytest.mark.postgres
@pytest.mark.slow
def test_32_lock_attempts_on_two_replicas_have_one_winner(replicas: list[ServiceProcess]) -> None:
    barrier = threading.Barrier(32)
    answers: list[requests.Response] = []
    guard = threading.Lock()

    def attempt(i: int) -> None:
        url = f"{replicas[i % 2].url}/api/v1/environments/live/lock"
        barrier.wait()
        response = _post(url, JENKINS, {"holder": f"deploy-live#{i}", "reason": f"try {i}"})
        with guard:
            answers.append(response)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] + [409] * 31
    [winner] = [r.json()["holder"] for r in answers if r.status_code == 201]
    losers = [r.json()["error"] for r in answers if r.status_code == 409]
    assert all(f"live is locked by {winner}" in message for message in losers)
    locks = requests.get(f"{replicas[1].url}/api/v1/locks", timeout=10).json()["locks"]
    assert [(lk["environment"], lk["holder"]) for lk in locks] == [("live", winner)]


@pytest.mark.postgres
@pytest.mark.slow
def test_a_crashed_holders_lock_expires_and_release_frees_it(
    replicas: list[ServiceProcess],
) -> None:
    first, second = (f"{r.url}/api/v1/environments/live" for r in replicas)
    taken = _post(
        f"{first}/lock", JENKINS, {"holder": "deploy-live#1", "reason": "r", "ttl_seconds": 1}
    )
    assert taken.status_code == 201, taken.text
    refused = _post(f"{second}/lock", JENKINS, {"holder": "deploy-live#2", "reason": "r"})
    assert refused.status_code == 409
    time.sleep(2.1)  # the holder "crashed": nobody released it
    assert requests.get(f"{replicas[0].url}/api/v1/locks", timeout=10).json()["locks"][0]["expired"]
    again = _post(f"{second}/lock", JENKINS, {"holder": "deploy-live#2", "reason": "r"})
    assert again.status_code == 201, again.text
    stale = _post(f"{first}/unlock", JENKINS, {"holder": "deploy-live#1"})
    assert stale.status_code == 409  # no longer its lock
    store = HttpStore(replicas[0].url, token=JENKINS, retries=0)
    try:
        with pytest.raises(LockedError):
            store.acquire_lock("live", holder="deploy-live#3", reason="r")
        assert store.release_lock("live", holder="deploy-live#2").holder == "deploy-live#2"
        assert store.locks() == []
    finally:
        store.close()
