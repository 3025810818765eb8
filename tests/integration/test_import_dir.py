"""The import directory has one reader: a hand-edited import is refused by every deploy step.

A new user who edits only ``import/service1.env.groovy`` (91 -> 90) after ``import-artifacts``
used to have ``record-deployment`` record 91 while Terraform deployed 90. Now ``verify-images``,
``orchestrate --import-dir`` and ``record-deployment`` all read the directory through
:mod:`pipelinelib.pipeline.importdir` and refuse with the same message; an untouched import
passes all three.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipelinelib.model import Manifest, ServiceBuild
from pipelinelib.store.sql import SqlStore
from tests.conftest import CliResult, CliRunner
from tests.fakes.aws import REGION, REGISTRY, push
from tests.fixtures.terraform_stacks import FakeTerraform


@pytest.fixture
def imported(run_cli: CliRunner, tmp_path: Path, ecr: Any) -> Path:
    """service1 build 91 pushed to (moto's) ECR, published, and imported into ws/import."""
    ecr.create_repository(repositoryName="service1")
    digest = push(ecr, "service1", "91")
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.db'}")
    entry = ServiceBuild(
        name="service1",
        build=91,
        image=f"{REGISTRY}/service1:91",
        digest=digest,
        commit="a" * 40,
        commit_message="Fix logout",
    )
    store.publish(Manifest(job="service1-build", number=91, services=[entry]))
    store.close()
    done = run_cli(
        ["import-artifacts", "--db", _db(tmp_path), "--from", "service1-build"], cwd=_ws(tmp_path)
    )
    assert done.exit_code == 0, done.stderr
    return _ws(tmp_path) / "import"


def _ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    return ws


def _db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def _three_steps(run_cli: CliRunner, tmp_path: Path, stack_root: Path) -> dict[str, CliResult]:
    ws = _ws(tmp_path)
    return {
        "verify-images": run_cli(["verify-images", "--region", REGION], cwd=ws),
        "orchestrate": run_cli(
            [
                "orchestrate",
                "plan",
                "render-test",
                REGION,
                "--root",
                str(stack_root),
                "--import-dir",
                "import",
            ],
            cwd=ws,
        ),
        "record-deployment": run_cli(
            ["record-deployment", "--db", _db(tmp_path), "--environment", "test"],
            cwd=ws,
            env={"JOB_NAME": "deploy-test", "BUILD_NUMBER": "1"},
        ),
    }


def test_an_untouched_import_passes_all_three_steps(
    run_cli: CliRunner,
    tmp_path: Path,
    imported: Path,
    stack_root: Path,
    fake_terraform: FakeTerraform,
) -> None:
    results = _three_steps(run_cli, tmp_path, stack_root)
    for step, result in results.items():
        assert result.exit_code == 0, f"{step}: {result.stderr}"
    work = stack_root / ".work" / REGION / "render-test"
    tfvars = json.loads((work / "service_builds.auto.tfvars.json").read_text())
    assert tfvars == {"service_builds": {"service1": "91"}}
    assert [c["argv"] for c in fake_terraform.calls()][-1][0] == "plan"
    recorded = json.loads((_ws(tmp_path) / "output" / "manifest.json").read_text())
    assert recorded["services"]["service1"]["build"] == 91


def _edit_env(imported: Path) -> str:
    path = imported / "service1.env.groovy"
    text = path.read_text()
    assert "env.SERVICE1_BUILD = '91'" in text
    path.write_text(text.replace("env.SERVICE1_BUILD = '91'", "env.SERVICE1_BUILD = '90'"))
    return "has SERVICE1_BUILD '90' but import/manifest.json has '91'"


def _edit_manifest(imported: Path) -> str:
    path = imported / "manifest.json"
    data = json.loads(path.read_text())
    data["services"]["service1"]["build"] = 90
    path.write_text(json.dumps(data))
    return "has SERVICE1_BUILD '91' but import/manifest.json has '90'"


def _remove_env(imported: Path) -> str:
    (imported / "service1.env.groovy").unlink()
    (imported / "service2.env.groovy").write_text("env.SERVICE2_BUILD = '7'\n")
    return "import/service1.env.groovy is missing"


def _extra_env(imported: Path) -> str:
    (imported / "service2.env.groovy").write_text(
        "env.SERVICE2_BUILD = '7'\nenv.SERVICE2_SERVICE = 'service2'\n"
    )
    return "import/service2.env.groovy is not derived from import/manifest.json"


@pytest.mark.parametrize(
    "edit",
    [_edit_env, _edit_manifest, _remove_env, _extra_env],
    ids=["env-file-edited", "manifest-edited", "env-file-missing", "extra-env-file"],
)
def test_a_disagreeing_import_is_refused_by_every_step_with_the_same_message(
    run_cli: CliRunner,
    tmp_path: Path,
    imported: Path,
    stack_root: Path,
    fake_terraform: FakeTerraform,
    edit: Callable[[Path], str],
) -> None:
    expected = edit(imported)
    results = _three_steps(run_cli, tmp_path, stack_root)
    messages = {step: r.stderr.strip() for step, r in results.items()}
    for step, result in results.items():
        assert result.exit_code == 2, f"{step}: {result.stderr}"
    assert len(set(messages.values())) == 1, messages
    message = messages["verify-images"]
    assert message.startswith("error: the import directory disagrees with itself: ")
    assert expected in message
    assert "run import-artifacts again" in message
    assert fake_terraform.calls() == []
    assert not (_ws(tmp_path) / "output").exists()  # nothing recorded, nothing re-archived
    store = SqlStore.from_url(_db(tmp_path))
    try:
        assert store.environments() == {}
    finally:
        store.close()
