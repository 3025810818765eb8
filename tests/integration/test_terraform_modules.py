"""Terraform checks the terraform/ tree itself, with the real hashicorp/aws provider schema.

``terraform fmt``, ``terraform validate`` of every root and module, ``terraform test`` (the
``*.tftest.hcl`` suites beside the modules; app-cluster's mocks the AWS provider), and a
``terraform plan`` of a whole environment through ``pipelinelib orchestrate`` against a loopback
moto_server. The provider comes from the machine's filesystem mirror (tests/fixtures/tools.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelinelib.formats import groovy
from pipelinelib.formats import manifest as manifest_json
from pipelinelib.model import ServiceBuild
from tests.fakes.manifests import REGISTRY, deploy_manifest
from tests.fixtures.terraform_stacks import FIXTURE_ROOT, REPO_TERRAFORM
from tests.fixtures.tools import TerraformEnv

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

REGION = "ap-southeast-2"
SRC = REPO_TERRAFORM / "src"
ROOTS = sorted(p for p in SRC.iterdir() if p.is_dir() and p.name != "modules")
MODULES = sorted(p for p in (SRC / "modules").iterdir() if p.is_dir())
TESTED_MODULES = [m for m in [*ROOTS, *MODULES] if list(m.glob("tests/*.tftest.hcl"))]
DIGEST1 = "sha256:" + "a1" * 32


def _copy_src(tmp_path: Path) -> Path:
    """src/ outside the repository: init writes .terraform/ and a lock file where it runs."""
    target = tmp_path / "src"
    shutil.copytree(SRC, target, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    return target


def test_terraform_tree_is_fmt_clean(terraform_bin: Path, tmp_path: Path) -> None:
    for tree in (REPO_TERRAFORM, FIXTURE_ROOT):
        done = subprocess.run(
            [str(terraform_bin), "fmt", "-check", "-recursive", "-diff", str(tree)],
            capture_output=True,
            text=True,
            env={**os.environ, "HOME": str(tmp_path), "TF_CLI_CONFIG_FILE": os.devnull},
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("directory", [*ROOTS, *MODULES], ids=lambda p: p.name)
def test_every_root_and_module_validates(
    directory: Path, terraform_cli_config: TerraformEnv, tmp_path: Path
) -> None:
    work = _copy_src(tmp_path) / directory.relative_to(SRC)
    tf = terraform_cli_config
    init = tf.run(work, "init", "-backend=false", "-input=false", "-no-color", home=tmp_path)
    assert init.returncode == 0, init.stdout + init.stderr
    done = tf.run(work, "validate", "-json", "-no-color", home=tmp_path)
    report = json.loads(done.stdout)
    assert report["valid"] is True, report["diagnostics"]
    assert report["warning_count"] == 0, report["diagnostics"]


def test_provider_comes_from_the_mirror(terraform_cli_config: TerraformEnv, tmp_path: Path) -> None:
    work = _copy_src(tmp_path) / "appcluster"
    tf = terraform_cli_config
    assert tf.run(work, "init", "-backend=false", "-input=false", home=tmp_path).returncode == 0
    lock = (work / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in lock
    installed = work / ".terraform" / "providers" / "registry.terraform.io" / "hashicorp" / "aws"
    (version,) = [p.name for p in installed.iterdir()]
    assert (tf.mirror / "registry.terraform.io" / "hashicorp" / "aws" / version).is_dir()


@pytest.mark.parametrize("module", TESTED_MODULES, ids=lambda p: p.name)
def test_terraform_test_suites_pass(
    module: Path, terraform_cli_config: TerraformEnv, tmp_path: Path
) -> None:
    work = _copy_src(tmp_path) / module.relative_to(SRC)
    tf = terraform_cli_config
    init = tf.run(work, "init", "-backend=false", "-input=false", "-no-color", home=tmp_path)
    assert init.returncode == 0, init.stdout + init.stderr
    done = tf.run(work, "test", "-no-color", home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    runs = sum(
        len(re.findall(r'(?m)^run "', p.read_text())) for p in work.glob("tests/*.tftest.hcl")
    )
    assert runs >= 1
    assert f"Success! {runs} passed, 0 failed." in done.stdout


def test_app_cluster_suite_catches_a_broken_rule(
    terraform_cli_config: TerraformEnv, tmp_path: Path
) -> None:
    """The suite is not vacuous: without the empty-value rule, its run fails."""
    work = _copy_src(tmp_path) / "modules" / "app-cluster"
    variables = work / "variables.tf"
    text = variables.read_text()
    broken = text.replace(': value != ""]', ": true]")
    assert broken != text
    variables.write_text(broken)
    tf = terraform_cli_config
    assert tf.run(work, "init", "-backend=false", "-input=false", home=tmp_path).returncode == 0
    done = tf.run(work, "test", "-no-color", "-filter=tests/app_cluster.tftest.hcl", home=tmp_path)
    assert done.returncode == 1
    assert 'run "empty_environment_value_is_refused"... fail' in done.stdout


# --- a whole environment, planned against moto ------------------------------------------------

MOTO_SERVICES = (
    "applicationautoscaling",
    "autoscaling",
    "cloudwatchlogs",
    "ec2",
    "ecs",
    "elbv2",
    "iam",
    "route53",
    "s3",
    "ssm",
    "sts",
)


def _moto_override(url: str) -> str:
    """Override file for the work dir: local state, and every AWS call to the moto server."""
    endpoints = "\n".join(f'    {name} = "{url}"' for name in MOTO_SERVICES)
    return f"""terraform {{
  backend "local" {{
    path = "terraform.tfstate"
  }}
}}

provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
"""


def _write_import_dir(directory: Path, services: list[ServiceBuild]) -> None:
    """What import-artifacts leaves: one env.groovy per service and the merged manifest.json."""
    directory.mkdir()
    for service in services:
        (directory / f"{service.name}.env.groovy").write_text(groovy.render_env_groovy([service]))
    manifest = deploy_manifest("deploy-test", 12, "test", services)
    (directory / "manifest.json").write_text(manifest_json.dumps(manifest))


def test_orchestrate_plans_an_environment_against_moto(
    terraform_cli_config: TerraformEnv, moto_server: str, tmp_path: Path
) -> None:
    root = tmp_path / "terraform"
    shutil.copytree(REPO_TERRAFORM, root, ignore=shutil.ignore_patterns(".work", ".terraform*"))
    imports = tmp_path / "import"
    _write_import_dir(
        imports,
        [
            ServiceBuild(
                name="service1", build=90, image=f"{REGISTRY}/service1:90", digest=DIGEST1
            ),
            ServiceBuild(name="service2", build=7, image=f"{REGISTRY}/service2:7"),
        ],
    )
    # orchestrate keeps files it did not copy: the override survives assembly.
    work = root / ".work" / REGION / "appcluster-test"
    work.mkdir(parents=True)
    (work / "moto_override.tf").write_text(_moto_override(moto_server))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TF_")},
        **terraform_cli_config.env(tmp_path),
        "PIPELINELIB_TERRAFORM": str(terraform_cli_config.binary),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "NO_COLOR": "1",
    }

    def orchestrate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pipelinelib", "orchestrate", "--root", str(root), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    init = orchestrate("init", "appcluster-test", REGION, "--", "-no-color")
    assert init.returncode == 0, init.stdout + init.stderr
    plan_file = tmp_path / "plan.out"
    plan = orchestrate(
        "plan",
        "appcluster-test",
        REGION,
        "--import-dir",
        str(imports),
        "--",
        "-no-color",
        f"-out={plan_file}",
    )
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert (work / "main.tf").read_bytes() == (root / "src" / "appcluster" / "main.tf").read_bytes()
    shown = terraform_cli_config.run(work, "show", "-json", str(plan_file), home=tmp_path)
    assert shown.returncode == 0, shown.stderr
    planned = json.loads(shown.stdout)
    resources = {
        r["address"]: r.get("values", {})
        for r in planned["planned_values"]["root_module"]["child_modules"][0]["resources"]
    }
    prefix = "module.app_cluster."
    definitions = {
        name: json.loads(
            resources[f'{prefix}aws_ecs_task_definition.service["{name}"]']["container_definitions"]
        )[0]
        for name in ("service1", "service2")
    }
    assert definitions["service1"]["image"] == f"{REGISTRY}/service1@{DIGEST1}"
    assert definitions["service2"]["image"] == f"{REGISTRY}/service2:7"
    assert definitions["service1"]["secrets"] == [
        {
            "name": "DATABASE_PASSWORD",
            "valueFrom": "arn:aws:ssm:ap-southeast-2:111111111111:parameter/appcluster-test/service1/database-password",
        }
    ]
    assert {e["name"] for e in definitions["service1"]["environment"]} == {
        "DATABASE_HOST",
        "ENVIRONMENT",
        "LOG_LEVEL",
        "PUBLIC_URL",
    }
    # The AMI came from moto's copy of the public SSM parameter: Amazon Linux 2023.
    ami = resources[f"{prefix}aws_launch_template.instance"]["image_id"]
    assert re.fullmatch(r"ami-[0-9a-f]+", ami)
    lb = resources[f"{prefix}aws_lb.this"]
    assert lb["enable_deletion_protection"] is False  # test turns it off in its tfvars
    assert lb["access_logs"][0]["enabled"] is True
    egress = {
        a.split('"')[1]: v["to_port"]
        for a, v in resources.items()
        if a.startswith(f"{prefix}aws_security_group_rule.instances_egress[")
    }
    assert egress == {"https": 443, "database": 5432}
    outputs = planned["planned_values"]["outputs"]
    assert outputs["images"]["value"] == {
        "service1": f"{REGISTRY}/service1@{DIGEST1}",
        "service2": f"{REGISTRY}/service2:7",
    }
