"""Real Terraform (PATH, >= 1.5): the container-definitions module and orchestrate end to end.

What runs here is provider-less: the container-definitions module (rendered JSON checked
against botocore's ECS model and registered with moto) and the fixture root ``src/render``,
which the stacks ``render-test`` and ``render-live`` find as their family. The AWS stacks are
validated, tested and planned in test_terraform_modules.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.terraform_stacks import REPO_TERRAFORM, snapshot

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

REGION = "ap-southeast-2"
MODULE = REPO_TERRAFORM / "src" / "modules" / "container-definitions"
HOSTILE_ENV = 'it\'s "quoted" ${not_interpolated} $(not run) \\ `x`\nline2 🚀'


def tf(
    terraform_bin: Path, cwd: Path, *args: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(terraform_bin), *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def rendered(terraform_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """``init -backend=false`` + ``apply`` of a root that calls the real module; its outputs."""
    base = tmp_path_factory.mktemp("cd")
    shutil.copytree(MODULE, base / "modules" / "container-definitions")
    root = base / "root"
    root.mkdir()
    services = {
        "service1": {
            "image_repository": "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1",
            "cpu": 256,
            "memory": 512,
            "container_port": 8080,
            "desired_count": 1,
            "min_count": 1,
            "max_count": 2,
            "health_check_path": "/healthz",
            "path_pattern": "/*",
            "priority": 100,
            "environment": {"GREETING": HOSTILE_ENV, "DATABASE_HOST": "own-db"},
        },
        "order-api": {
            "image_repository": "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/order-api",
            "cpu": 128,
            "memory": 256,
            "container_port": 8081,
            "desired_count": 1,
            "min_count": 1,
            "max_count": 2,
            "health_check_path": "/healthz",
            "path_pattern": "/orders*",
            "priority": 10,
            "environment": {},
        },
    }
    (root / "main.tf").write_text(
        """
variable "services" {
  type = any
}

variable "service_builds" {
  type = map(string)
}

module "container_definitions" {
  source             = "../modules/container-definitions"
  services           = var.services
  service_builds     = var.service_builds
  log_group_prefix   = "/ecs/appcluster-test"
  region             = "ap-southeast-2"
  common_environment = { DATABASE_HOST = "shared-db", ENVIRONMENT = "test" }
}

output "container_definitions" {
  value = module.container_definitions.container_definitions
}

output "image_tags" {
  value = module.container_definitions.image_tags
}
"""
    )
    (root / "inputs.auto.tfvars.json").write_text(
        json.dumps({"services": services, "service_builds": {"service1": "90", "order-api": "7"}})
    )
    env = {
        "HOME": str(base),
        "TF_DATA_DIR": str(base / "tfdata"),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    init = tf(terraform_bin, root, "init", "-input=false", "-backend=false", env=env)
    assert init.returncode == 0, init.stdout + init.stderr
    assert not (base / "tfdata" / "providers").exists()  # nothing was downloaded
    apply = tf(terraform_bin, root, "apply", "-input=false", "-auto-approve", env=env)
    assert apply.returncode == 0, apply.stdout + apply.stderr
    output = tf(terraform_bin, root, "output", "-json", env=env)
    assert output.returncode == 0, output.stderr
    outputs = {k: v["value"] for k, v in json.loads(output.stdout).items()}
    return outputs


def _definitions(rendered: dict[str, object]) -> dict[str, list[dict[str, object]]]:
    raw = rendered["container_definitions"]
    assert isinstance(raw, dict)
    return {name: json.loads(text) for name, text in raw.items()}


def test_rendered_definitions_carry_tags_and_environment(rendered: dict[str, object]) -> None:
    defs = _definitions(rendered)
    assert rendered["image_tags"] == {"service1": "90", "order-api": "7"}
    (service1,) = defs["service1"]
    assert service1["image"] == "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1:90"
    env = {e["name"]: e["value"] for e in service1["environment"]}  # type: ignore[attr-defined]
    assert env == {"GREETING": HOSTILE_ENV, "DATABASE_HOST": "own-db", "ENVIRONMENT": "test"}
    assert (
        service1["logConfiguration"]["options"]["awslogs-group"] == "/ecs/appcluster-test/service1"
    )  # type: ignore[index]
    (order,) = defs["order-api"]
    assert order["image"].endswith("/order-api:7")  # type: ignore[attr-defined]


def test_rendered_definitions_pass_botocore_validation(rendered: dict[str, object]) -> None:
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    for name, definitions in _definitions(rendered).items():
        params = {
            "family": f"appcluster-test-{name}",
            "containerDefinitions": definitions,
            "networkMode": "bridge",
            "requiresCompatibilities": ["EC2"],
        }
        report = ParamValidator().validate(params, shape)
        assert not report.has_errors(), report.generate_report()
    broken = {"family": "x", "containerDefinitions": [{"name": "x", "cpu": "256"}]}
    assert ParamValidator().validate(broken, shape).has_errors()  # the check can fail


def test_rendered_definitions_register_with_moto(rendered: dict[str, object]) -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        ecs = boto3.client(
            "ecs",
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        for name, definitions in _definitions(rendered).items():
            registered = ecs.register_task_definition(
                family=f"appcluster-test-{name}",
                containerDefinitions=definitions,
                networkMode="bridge",
                requiresCompatibilities=["EC2"],
            )
            arn = registered["taskDefinition"]["taskDefinitionArn"]
            described = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
            images = [c["image"] for c in described["containerDefinitions"]]
            assert [i.rsplit(":", 1)[1] for i in images] == [rendered["image_tags"][name]]  # type: ignore[index]
            env = described["containerDefinitions"][0]["environment"]
            assert env == definitions[0]["environment"]


def test_missing_build_fails_the_plan_with_a_message(
    terraform_bin: Path,
    tmp_path: Path,
    stack_root: Path,
    real_terraform: Callable[[], dict[str, str]],
) -> None:
    work = stack_root / "src" / "render"
    env = {**real_terraform(), "TF_DATA_DIR": str(tmp_path / "data")}
    assert (
        tf(terraform_bin, work, "init", "-input=false", "-backend=false", env=env).returncode == 0
    )
    var_file = stack_root / "config" / REGION / "render-test" / "variables.tfvars"
    done = tf(
        terraform_bin,
        work,
        "plan",
        "-no-color",
        "-input=false",
        "-var",
        f"region={REGION}",
        f"-var-file={var_file}",
        "-var",
        'service_builds={"service1":"90"}',
        env=env,
    )
    assert done.returncode == 1
    assert "no build for service(s) order-api" in " ".join(done.stderr.split())


def test_orchestrate_plan_apply_output_end_to_end(
    stack_root: Path, real_terraform: Callable[[], dict[str, str]], tmp_path: Path
) -> None:
    sources = snapshot(stack_root)
    imports = tmp_path / "import dir 'x' $(y)"
    imports.mkdir()
    (imports / "service1.env.groovy").write_text(
        "env.SERVICE1_SERVICE = 'service1'\nenv.SERVICE1_BUILD = '90'\n"
        "env.SERVICE1_COMMIT_MSG = 'Fix \\'quoted\\' ${not interpolated}'\n"
    )
    (imports / "order-api.env.groovy").write_text(
        "env.ORDER_API_SERVICE = 'order-api'\nenv.ORDER_API_BUILD=7\n"
    )

    def orchestrate(*args: str) -> str:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pipelinelib",
                "orchestrate",
                "--root",
                str(stack_root),
                *args,
            ],
            env={**os.environ, **real_terraform(), "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    init = orchestrate("init", "render-test", REGION)
    assert "Terraform has been successfully initialized" in init
    plan = orchestrate(
        "plan", "render-test", REGION, "--import-dir", str(imports), "--", "-no-color"
    )
    tags = plan[plan.index("+ image_tags") :].split("}", 1)[0]
    assert '+ order-api = "7"' in tags and '+ service1  = "90"' in tags
    assert "/service1:90" in plan and "/order-api:7" in plan
    orchestrate("apply", "render-test", REGION, "--import-dir", str(imports), "--", "-no-color")
    out = json.loads(orchestrate("output", "render-test", REGION, "--", "-json"))
    assert out["image_tags"]["value"] == {"service1": "90", "order-api": "7"}
    defs = json.loads(out["container_definitions"]["value"]["service1"])
    assert defs[0]["image"].endswith("/service1:90")
    greeting = {e["name"]: e["value"] for e in defs[0]["environment"]}["GREETING"]
    assert greeting == 'it\'s "quoted" ${not_interpolated} $(not run)'
    validate = orchestrate("validate", "render-test", REGION, "--", "-no-color")
    assert "The configuration is valid" in validate
    work = stack_root / ".work" / REGION / "render-test"
    assert (work / "terraform.tfstate").is_file()
    assert snapshot(stack_root) == sources


def test_orchestrate_passes_terraform_failure_through(
    stack_root: Path, real_terraform: Callable[[], dict[str, str]]
) -> None:
    # plan before init: terraform itself refuses, and its exit code becomes ours
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelinelib",
            "orchestrate",
            "plan",
            "render-test",
            REGION,
            "--root",
            str(stack_root),
        ],
        env={**os.environ, **real_terraform()},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1
    assert "Backend initialization required" in done.stderr
    assert done.stderr.splitlines()[-1] == (
        "error: terraform plan of render-test failed with exit code 1"
    )
