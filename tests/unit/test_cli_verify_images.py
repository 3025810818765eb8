"""verify-images and publish-artifact's digest resolution, as a deploy/build job runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelinelib.formats import groovy
from pipelinelib.formats import manifest as manifest_json
from pipelinelib.model import Manifest, ServiceBuild
from tests.conftest import CliRunner
from tests.fakes.aws import REGISTRY, push


def write_import(directory: Path, *services: ServiceBuild) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(job="deploy-test", number=12, services=list(services))
    (directory / "manifest.json").write_text(manifest_json.dumps(manifest))
    return directory


def test_all_images_present(run_cli: CliRunner, tmp_path: Path, ecr: Any) -> None:
    ecr.create_repository(repositoryName="service1")
    digest = push(ecr, "service1", "90")
    write_import(
        tmp_path / "import",
        ServiceBuild(name="service1", build=90, image=f"{REGISTRY}/service1:90", digest=digest),
        ServiceBuild(name="proxy", build=3, image="docker.io/library/nginx:1.27"),
    )
    result = run_cli(["verify-images", "--region", "ap-southeast-2"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert f"ok              service1: {REGISTRY}/service1:90 (digest matches)" in result.stdout
    assert result.stdout.endswith("verified 1 of 2 images\n")
    assert "warning: proxy: docker.io/library/nginx:1.27 is not in Amazon ECR" in result.stderr
    strict = run_cli(["verify-images", "--strict"], cwd=tmp_path)
    assert strict.exit_code == 10
    assert "(proxy)" in strict.stderr


def test_missing_and_mutated_images_fail_naming_each_service(
    run_cli: CliRunner, tmp_path: Path, ecr: Any
) -> None:
    ecr.create_repository(repositoryName="service1")
    ecr.create_repository(repositoryName="service2")
    recorded = push(ecr, "service1", "90", seed="a")
    push(ecr, "service1", "90", seed="b")
    write_import(
        tmp_path / "in",
        ServiceBuild(name="service1", build=90, image=f"{REGISTRY}/service1:90", digest=recorded),
        ServiceBuild(name="service2", build=91, image=f"{REGISTRY}/service2:91"),
    )
    result = run_cli(["verify-images", "--import-dir", str(tmp_path / "in")])
    assert result.exit_code == 10
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        "error: 2 of 2 images failed verification (service1, service2): service1: tag 90 now "
        "points at sha256:"
    )
    assert "service2: tag 91 not found in ECR repository service2" in result.stderr
    as_json = run_cli(["verify-images", "--import-dir", str(tmp_path / "in"), "--json"])
    assert as_json.exit_code == 10
    data = json.loads(as_json.stdout)
    assert data["ok"] is False
    assert data["services"]["service1"]["status"] == "mutated"
    assert data["services"]["service1"]["expected_digest"] == recorded
    assert data["services"]["service2"]["status"] == "missing"


def test_env_groovy_files_when_there_is_no_manifest_json(
    run_cli: CliRunner, tmp_path: Path, ecr: Any
) -> None:
    ecr.create_repository(repositoryName="service1")
    digest = push(ecr, "service1", "90")
    imports = tmp_path / "import"
    imports.mkdir()
    entry = ServiceBuild(
        name="service1", build=90, image=f"{REGISTRY}/service1:90", digest="sha256:" + "c" * 64
    )
    (imports / "service1.env.groovy").write_text(groovy.render_env_groovy([entry]))
    (imports / "order-api.env.groovy").write_text(
        f"env.ORDER_API_BUILD=7\nenv.ORDER_API_IMAGE='{REGISTRY}/order-api:7'\n"
    )
    result = run_cli(["verify-images"], cwd=tmp_path)
    assert result.exit_code == 10
    assert "(order-api, service1)" in result.stderr  # legacy file: named by its file name
    assert f"now points at {digest}, but the manifest recorded sha256:ccc" in result.stderr


def test_nothing_to_verify_is_an_error(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli(["verify-images", "--import-dir", str(tmp_path)])
    assert result.exit_code == 3
    assert "no manifest.json and no *.env.groovy files" in result.stderr


def test_no_credentials_is_one_clear_line(run_cli: CliRunner, tmp_path: Path) -> None:
    write_import(
        tmp_path / "import",
        ServiceBuild(name="service1", build=90, image=f"{REGISTRY}/service1:90"),
    )
    result = run_cli(["verify-images"], cwd=tmp_path)
    assert result.exit_code == 5
    assert result.stderr.startswith("error: no AWS credentials to describe images")
    assert result.stderr.count("\n") == 1


PUBLISH = ["publish-artifact", "--service", "service1", "--build", "90", "--job", "service1-build"]
GIT = ["--commit", "a" * 40, "--message", "Fix login", "--no-register", "--json"]


def test_publish_records_the_digest_ecr_reports(
    run_cli: CliRunner, tmp_path: Path, ecr: Any
) -> None:
    ecr.create_repository(repositoryName="service1")
    digest = push(ecr, "service1", "90")
    image = f"{REGISTRY}/service1:90"
    out = str(tmp_path / "out")
    result = run_cli([*PUBLISH, "--image", image, "--output-dir", out, *GIT])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["services"]["service1"]["digest"] == digest
    env = groovy.parse_env_groovy((tmp_path / "out" / "service1.env.groovy").read_text())
    assert env["SERVICE1_DIGEST"] == digest
    explicit = "sha256:" + "e" * 64
    result = run_cli([*PUBLISH, "--image", image, "--digest", explicit, "--output-dir", out, *GIT])
    assert json.loads(result.stdout)["services"]["service1"]["digest"] == explicit
    result = run_cli([*PUBLISH, "--image", image, "--no-resolve-digest", "--output-dir", out, *GIT])
    assert json.loads(result.stdout)["services"]["service1"]["digest"] is None
    missing = run_cli([*PUBLISH, "--image", f"{REGISTRY}/service1:91", "--output-dir", out, *GIT])
    assert missing.exit_code == 10
    assert "image 123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/service1:91 is not in ECR" in (
        missing.stderr
    )
    assert "--no-resolve-digest" in missing.stderr


def test_publish_without_aws_warns_and_publishes_without_digest(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    result = run_cli(
        [*PUBLISH, "--image", f"{REGISTRY}/service1:90", "--output-dir", str(tmp_path), *GIT]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["services"]["service1"]["digest"] is None
    assert result.stderr.startswith(
        f"warning: could not resolve the digest of {REGISTRY}/service1:90 (no AWS credentials"
    )
    assert result.stderr.rstrip().endswith("published without a digest")


def test_publish_of_an_image_outside_ecr_asks_nothing(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli(
        [*PUBLISH, "--image", "ghcr.io/acme/service1:90", "--output-dir", str(tmp_path), *GIT]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
