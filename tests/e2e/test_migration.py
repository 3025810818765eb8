"""docs/migration.md, walked step by step on a team's tree laid out like the seed's.

tests/fixtures/seed_layout/terraform is that tree (stack source src/appcluster, per-service
`<service>-build` variables, an empty tf-config.tf placeholder). The documented ``sh`` blocks are
read from docs/migration.md and run as written, in order, through the real entry point; Terraform
is real (the stack is provider-less, so it applies here); Jenkins is a ``responses`` fake whose
JSON has the shapes of Jenkins core (see tests/fakes/jenkins.py); the store is SQLite.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import responses

from pipelinelib import pipeline
from tests.conftest import TESTS, CliRunner, Groovy
from tests.fakes import jenkins as fj

pytestmark = [pytest.mark.slow]

DOC = TESTS.parent / "docs" / "migration.md"
SEED_TREE = TESTS / "fixtures" / "seed_layout" / "terraform"
REGION = "ap-southeast-2"


def doc_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def doc_block(first_words: str) -> list[list[str]]:
    """The commands of the documented sh block whose first command starts with ``first_words``."""
    for block in doc_blocks("sh"):
        commands = [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]
        if commands[0].startswith(first_words):
            return [shlex.split(os.path.expandvars(c)) for c in commands]
    raise AssertionError(f"docs/migration.md has no sh block starting with {first_words!r}")


def seed_env(key: str, build: int, message: str) -> str:
    """What the seed's service jobs echoed into output/<service>.env.groovy."""
    return f'env.{key}_BUILD={build}\nenv.{key}_COMMIT_MSG="{message}"\n'


def jenkins_job(
    mock: responses.RequestsMock, job: str, builds: list[tuple[int, str, dict[str, str]]]
) -> None:
    """Successful builds (newest first): number, display name, {archived path: text}."""
    runs = [fj.run(job, n, "SUCCESS", display_name=name) for n, name, _ in builds]
    mock.get(f"{fj.job_url(job)}api/json", json=fj.job_builds(runs))
    for number, _, archived in builds:
        mock.get(
            f"{fj.job_url(job)}{number}/api/json", json=fj.build_artifacts(number, list(archived))
        )
        for path, text in archived.items():
            mock.get(f"{fj.job_url(job)}{number}/artifact/{path}", body=text.encode())


@pytest.fixture
def team(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    real_terraform: Callable[[], dict[str, str]],
) -> Iterator[Path]:
    """The team's tools/terraform folder (the jobs' working directory), store and Jenkins."""
    root = tmp_path / "tools" / "terraform"
    shutil.copytree(SEED_TREE, root)
    monkeypatch.setenv("PIPELINELIB_DB", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("JENKINS_URL", fj.BASE)
    monkeypatch.chdir(root)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        jenkins_job(
            mock,
            "service1",
            [
                (91, "Show prices", {"output/service1.env.groovy": seed_env("SERVICE1", 91, "Show prices")}),
                (90, "Fix login", {"output/service1.env.groovy": seed_env("SERVICE1", 90, "Fix login")}),
            ],
        )  # fmt: skip
        jenkins_job(
            mock, "orders", [(7, "Add orders", {"output/orders.env.groovy": seed_env("ORDERS", 7, "Add orders")})]
        )  # fmt: skip
        # deploy-test #12 ran before the migration and re-archived what it deployed.
        jenkins_job(
            mock,
            "deploy-test",
            [
                (12, "Fix login", {
                    "output/service1.env.groovy": seed_env("SERVICE1", 90, "Fix login"),
                    "output/orders.env.groovy": seed_env("ORDERS", 7, "Add orders"),
                }),
            ],
        )  # fmt: skip
        yield root


def run(run_cli: CliRunner, argv: list[str]) -> str:
    assert argv[0] == "pipelinelib", argv
    done = run_cli(argv[1:])
    assert done.exit_code == 0, f"{shlex.join(argv)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def refused(run_cli: CliRunner, argv: list[str]) -> str:
    done = run_cli(argv[1:])
    assert done.exit_code != 0, done.stdout
    return done.stderr


def deployed(root: Path, stack: str) -> dict[str, str]:
    """The image tags the stack's last apply recorded (terraform output, read from the state)."""
    state = json.loads((root / ".work" / REGION / stack / "terraform.tfstate").read_text())
    tags: dict[str, str] = state["outputs"]["image_tags"]["value"]
    return tags


def test_the_migration_guide_job_by_job(
    team: Path, run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = team

    # 1. Back-fill the history.
    for argv in doc_block("pipelinelib backfill"):
        out = run(run_cli, argv)
        assert "refused" not in out
    choices = run(
        run_cli, ["pipelinelib", "list-builds", "--job", "deploy-test", "--format", "choices"]
    )
    assert choices.splitlines() == ["12-Fix login"]

    # 2. The silent wrong deploy is refused until the stack's style is declared ...
    for stack in ("appcluster-test", "appcluster-beta"):
        run(run_cli, ["pipelinelib", "orchestrate", "init", stack, REGION, "--root", "."])
    run(
        run_cli,
        [
            "pipelinelib",
            "import-artifacts",
            "--from",
            "service1",
            "--from",
            "orders",
            "--target",
            "import",
        ],
    )
    error = refused(
        run_cli, ["pipelinelib", "orchestrate", "apply", "appcluster-test", REGION, "--root", ".", "--import-dir", "import"]
    )  # fmt: skip
    assert 'does not declare variable "service_builds"' in error
    assert not (root / ".work" / REGION / "appcluster-test" / "terraform.tfstate").exists()
    # ... then the legacy style, exactly as documented; the old -var form works as well.
    (toml,) = doc_blocks("toml")
    for env in ("test", "beta"):
        (root / "config" / REGION / f"appcluster-{env}" / "pipelinelib.toml").write_text(toml)
    run(run_cli, ["pipelinelib", "orchestrate", "apply", "appcluster-test", REGION, "--root", ".",
                  "-var", "service1-build=90", "-var", "orders-build=7"])  # fmt: skip
    assert deployed(root, "appcluster-test") == {"service1": "90", "orders": "7"}

    # 4. deploy-test through pipelinelib: the newest build of each service.
    monkeypatch.setenv("JOB_NAME", "deploy-test")
    monkeypatch.setenv("BUILD_NUMBER", "13")
    for argv in doc_block("pipelinelib import-artifacts --from service1"):
        run(run_cli, argv)
    assert deployed(root, "appcluster-test") == {"service1": "91", "orders": "7"}

    # ... and a promotion of the PRE-migration deploy-test #12, picked by its choice.
    shutil.rmtree(root / "import")
    monkeypatch.setenv("JOB_NAME", "deploy-beta")
    monkeypatch.setenv("BUILD_NUMBER", "1")
    monkeypatch.setenv("BUILD_TO_DEPLOY", "12-Fix login")
    for argv in doc_block("pipelinelib import-artifacts --from deploy-test"):
        run(run_cli, argv)
    assert deployed(root, "appcluster-beta") == {"service1": "90", "orders": "7"}
    status = json.loads(run(run_cli, ["pipelinelib", "status", "--json"]))["environments"]
    assert {k: v["build"] for k, v in status["beta"]["services"].items()} == {
        "service1": 90,
        "orders": 7,
    }
    assert {k: v["build"] for k, v in status["test"]["services"].items()} == {
        "service1": 91,
        "orders": 7,
    }

    # 5. destroy-test.
    monkeypatch.setenv("JOB_NAME", "destroy-test")
    monkeypatch.setenv("BUILD_NUMBER", "4")
    for argv in doc_block("pipelinelib orchestrate destroy"):
        run(run_cli, argv)
    state = json.loads(
        (root / ".work" / REGION / "appcluster-test" / "terraform.tfstate").read_text()
    )
    assert state["resources"] == []
    status = json.loads(run(run_cli, ["pipelinelib", "status", "--json"]))["environments"]
    assert status["test"]["services"] == {}

    # 6. Move the stack to service_builds: the check names what is left to do.
    source = root / "src" / "appcluster"
    (source / "variables.tf").write_text(
        'variable "region" {\n  type = string\n}\n\n'
        'variable "environment-name" {\n  type = string\n}\n\n'
        'variable "service_builds" {\n  type = map(string)\n}\n'
    )
    main = (source / "main.tf").read_text()
    (source / "main.tf").write_text(
        main.replace("var.service1-build", 'var.service_builds["service1"]').replace(
            "var.orders-build", 'var.service_builds["orders"]'
        )
    )
    beta = [
        "pipelinelib",
        "orchestrate",
        "apply",
        "appcluster-beta",
        REGION,
        "--root",
        ".",
        "--import-dir",
        "import",
    ]
    error = refused(run_cli, beta)
    assert 'does not declare variable "orders-build"' in error  # builds_style is still legacy
    for env in ("test", "beta"):
        config = root / "config" / REGION / f"appcluster-{env}"
        (config / "pipelinelib.toml").unlink()
        (config / "variables.tfvars").write_text(f'environment-name = "{env}"\n')
    run(run_cli, beta)
    assert deployed(root, "appcluster-beta") == {"service1": "90", "orders": "7"}

    # 7. Resources renamed by the new code move in state, and nothing is replaced.
    (source / "main.tf").write_text(
        'resource "terraform_data" "task" {\n'
        "  for_each = var.service_builds\n"
        '  input    = "${each.key}:${each.value}"\n'
        "}\n\n"
        'output "image_tags" {\n  value = var.service_builds\n}\n\n'
        'output "environment" {\n  value = "${var.environment-name} in ${var.region}"\n}\n'
    )
    state_cmd = [
        "pipelinelib",
        "orchestrate",
        "state",
        "appcluster-beta",
        REGION,
        "--root",
        ".",
        "--",
    ]
    run(
        run_cli,
        [*state_cmd, "mv", "terraform_data.service1_task", 'terraform_data.task["service1"]'],
    )
    run(run_cli, [*state_cmd, "mv", "terraform_data.orders_task", 'terraform_data.task["orders"]'])
    run(run_cli, [*state_cmd, "list"])
    state = json.loads(
        (root / ".work" / REGION / "appcluster-beta" / "terraform.tfstate").read_text()
    )
    assert sorted(
        (r["name"], i.get("index_key")) for r in state["resources"] for i in r["instances"]
    ) == [("task", "orders"), ("task", "service1")]
    saved = root / "after-moves.tfplan"
    run(run_cli, [*beta[:2], "plan", *beta[3:], "--", f"-out={saved}"])
    work = root / ".work" / REGION / "appcluster-beta"
    shown = subprocess.run(
        [os.environ["PIPELINELIB_TERRAFORM"], "show", "-json", str(saved)],
        cwd=work, capture_output=True, text=True, check=True,
    )  # fmt: skip
    actions = {
        c["address"]: c["change"]["actions"] for c in json.loads(shown.stdout)["resource_changes"]
    }
    assert actions == {
        'terraform_data.task["orders"]': ["no-op"],
        'terraform_data.task["service1"]': ["no-op"],
    }


def _reads_legacy_file_names(tmp_path: Path) -> bool:
    """Whether the env-file reader names a legacy file's service by its file name (issue 12)."""
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "service-1.env.groovy").write_text("env.SERVICE1_BUILD=91\n")
    return "service-1" in pipeline.import_service_builds(probe)


def test_dashed_names_published_with_a_legacy_key_reach_old_jobs_and_terraform(
    team: Path, run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, groovy: Groovy
) -> None:
    root = team
    monkeypatch.setenv("REGISTRY", "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com")
    monkeypatch.setenv("JOB_NAME", "service-1")
    monkeypatch.setenv("BUILD_NUMBER", "91")
    (argv,) = doc_block("pipelinelib publish-artifact")
    run(run_cli, [*argv, "--no-resolve-digest", "--commit", "5f1c0ffee", "--message", "Fix login"])
    env_file = root / "output" / "service-1.env.groovy"

    # An old deploy job loads the file with Jenkins' `load` and reads the old key.
    variables = groovy.load_env_files([env_file], cwd=root)[env_file]
    assert variables["SERVICE1_BUILD"] == variables["SERVICE_1_BUILD"] == "91"

    # A new one imports it and passes the builds to the stack's dashed variables.
    imports = root / "import"
    imports.mkdir()
    shutil.copy(env_file, imports)
    (imports / "order-api.env.groovy").write_text(
        "env.ORDER_API_SERVICE = 'order-api'\nenv.ORDER_API_BUILD = '7'\n"
    )
    base = ["pipelinelib", "orchestrate"]
    run(run_cli, [*base, "init", "shop-test", REGION, "--root", "."])
    run(
        run_cli,
        [
            *base,
            "apply",
            "shop-test",
            REGION,
            "--root",
            ".",
            "--import-dir",
            "import",
            "--builds-style",
            "legacy",
        ],
    )
    assert deployed(root, "shop-test") == {"service-1": "91", "order-api": "7"}


def test_dashed_legacy_files_as_the_seed_wrote_them_reach_terraform(
    team: Path, run_cli: CliRunner, tmp_path: Path
) -> None:
    if not _reads_legacy_file_names(tmp_path):
        pytest.xfail(
            "the file-name rule for legacy env files (service-1.env.groovy holding SERVICE1_BUILD "
            "is service-1) is issue 12's reader change, not merged into this branch yet"
        )
    root = team
    imports = root / "import"
    imports.mkdir()
    (imports / "service-1.env.groovy").write_text("env.SERVICE1_BUILD=91\n")
    (imports / "order-api.env.groovy").write_text("env.ORDER_API_BUILD=7\n")
    base = ["pipelinelib", "orchestrate"]
    run(run_cli, [*base, "init", "shop-test", REGION, "--root", "."])
    run(
        run_cli,
        [
            *base,
            "apply",
            "shop-test",
            REGION,
            "--root",
            ".",
            "--import-dir",
            "import",
            "--builds-style",
            "legacy",
        ],
    )
    assert deployed(root, "shop-test") == {"service-1": "91", "order-api": "7"}


def test_terraform_alone_would_deploy_the_default_silently(
    team: Path, run_cli: CliRunner, real_terraform: Callable[[], dict[str, str]]
) -> None:
    """Why orchestrate checks: the same import handed to Terraform as a file only warns."""
    root = team
    run(run_cli, ["pipelinelib", "orchestrate", "init", "appcluster-test", REGION, "--root", "."])
    work = root / ".work" / REGION / "appcluster-test"
    (work / "service_builds.auto.tfvars.json").write_text(
        json.dumps({"service_builds": {"service1": "91"}})
    )
    done = subprocess.run(
        [os.environ["PIPELINELIB_TERRAFORM"], "apply", "-input=false", "-auto-approve", "-no-color",
         "-var", f"region={REGION}", f"-var-file={root}/config/{REGION}/appcluster-test/variables.tfvars"],
        cwd=work, capture_output=True, text=True, check=False, env={**os.environ, **real_terraform()},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Value for undeclared variable" in done.stdout + done.stderr
    assert deployed(root, "appcluster-test")["service1"] == "latest"
