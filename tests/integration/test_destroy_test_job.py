"""The nightly destroy-test job, end to end: its Jenkinsfile's steps run in the shared-library
harness (real Groovy 2.4.21), each `pipelinelib` call runs the real CLI, which runs the real
Terraform against a provider-less stack holding resources built from the container definitions
(as app-cluster's task definitions are), with no import and no default_build - exactly what the
job does. The store then shows test as destroyed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TESTS, Groovy
from tests.fixtures.terraform_stacks import FIXTURE_ROOT, REPO_TERRAFORM
from tests.integration.test_shared_library import Run

pytestmark = [pytest.mark.groovy, pytest.mark.slow]

REPO = TESTS.parent
JENKINSFILE = REPO / "jenkins" / "destroy-test" / "Jenkinsfile"
REGION = "ap-southeast-2"
CLI = Path(sys.executable).with_name("pipelinelib")
# What app-cluster does with the module's output (aws_ecs_task_definition.container_definitions
# = ...[each.key]), with a built-in resource so no provider is needed.
TASK_DEFINITIONS_TF = """
resource "terraform_data" "task_definition" {
  for_each = var.services
  input    = module.container_definitions.container_definitions[each.key]
}
"""


def steps_of(jenkinsfile: str) -> str:
    """The bodies of every ``steps { ... }`` block, in order: what the job runs on its agent."""
    bodies = []
    for match in re.finditer(r"\bsteps\s*\{", jenkinsfile):
        depth, start = 1, match.end()
        i = start
        while depth:
            depth += {"{": 1, "}": -1}.get(jenkinsfile[i], 0)
            i += 1
        bodies.append(jenkinsfile[start : i - 1])
    return "\n".join(bodies)


def test_destroy_test_job_destroys_without_builds_and_records_it(
    groovy: Groovy,
    tmp_path: Path,
    real_terraform: Callable[[], dict[str, str]],
) -> None:
    run = Run(tmp_path)
    code = "def script(Closure body) { body() }\n" + steps_of(JENKINSFILE.read_text())
    assert "pipelinelibOrchestrate('destroy', params.STACK, params.AWS_REGION)" in code
    run.add(
        "destroy-test",
        code=code,
        params={"STACK": "render-test", "AWS_REGION": REGION, "ENVIRONMENT": "test"},
    )
    workspace = tmp_path / "ws" / "destroy-test"
    root = workspace / "terraform"
    shutil.copytree(FIXTURE_ROOT, root)
    shutil.copytree(
        REPO_TERRAFORM / "src" / "modules" / "container-definitions",
        root / "src" / "modules" / "container-definitions",
    )
    (root / "src" / "render" / "task_definitions.tf").write_text(TASK_DEFINITIONS_TF)
    env = {
        **os.environ,
        **real_terraform(),
        "PIPELINELIB_DB": f"sqlite:///{tmp_path / 'store.db'}",
    }

    # Yesterday's deploy-test left the cluster running.
    imports = workspace / "import"
    imports.mkdir()
    (imports / "all.env.groovy").write_text(
        "env.SERVICE1_SERVICE = 'service1'\nenv.SERVICE1_BUILD = '90'\n"
        "env.ORDER_API_SERVICE = 'order-api'\nenv.ORDER_API_BUILD = '7'\n"
    )
    for argv in (["init"], ["apply", "--import-dir", "import"]):
        done = subprocess.run(
            [str(CLI), "orchestrate", argv[0], "render-test", REGION, *argv[1:]],
            cwd=workspace, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    state = root / ".work" / REGION / "render-test" / "terraform.tfstate"
    assert len(json.loads(state.read_text())["resources"]) == 1  # two instances of one resource
    shutil.rmtree(imports)  # the destroy job's workspace has no import

    job_env = {
        **env,
        "FAKE_PIPELINELIB_EXEC": str(CLI),
        "JOB_NAME": "destroy-test",
        "BUILD_NUMBER": "5",
    }
    run.execute(Groovy(groovy.executable, {**groovy.env, **job_env}))
    result = run.result("destroy-test")
    assert result["error"] is None, result
    argv = run.argv("destroy-test")
    # The store's lock of the environment comes first (docs/promotion.md), then the destroy.
    assert (argv[0][0], argv[0][-1]) == ("lock", "test")
    assert [a[:2] for a in argv[1:]] == [
        ["orchestrate", "init"],
        ["orchestrate", "destroy"],
        ["record-deployment", "--environment=test"],
    ]
    assert json.loads(state.read_text())["resources"] == []
    assert result["displayName"] == "destroyed render-test"

    done = subprocess.run(
        [str(CLI), "status", "--json"], cwd=workspace, env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    test_env = json.loads(done.stdout)["environments"]["test"]
    assert (test_env["job"], test_env["number"], test_env["services"]) == ("destroy-test", 5, {})
