"""publish-artifact -> list-builds -> import-artifacts, through the local store and a live service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipelinelib.formats import groovy
from pipelinelib.formats import manifest as manifest_json
from pipelinelib.model import Manifest, SourceRef
from tests.conftest import CliRunner
from tests.fakes.manifests import REGISTRY, build_manifest, deploy_manifest, service_build
from tests.fixtures.service import LiveService


@pytest.fixture(params=["local", "server"])
def store_args(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    if request.param == "local":
        return ["--db", f"sqlite:///{tmp_path / 'cli.db'}"]
    service: LiveService = request.getfixturevalue("live_service")
    return ["--server", service.url, "--token", service.token]


def publish(
    run_cli: CliRunner,
    tmp_path: Path,
    store_args: list[str],
    service: str,
    build: int,
    message: str,
    job: str | None = None,
) -> Any:
    result = run_cli(
        [
            "publish-artifact",
            "--service",
            service,
            "--build",
            str(build),
            "--job",
            job or f"{service}-build",
            "--image",
            f"{REGISTRY}/{service}:{build}",
            "--digest",
            f"sha256:{build:064x}",
            "--commit",
            f"{build:040x}",
            "--message",
            message,
            "--output-dir",
            str(tmp_path / "out"),
            *store_args,
        ]
    )
    assert result.exit_code == 0, result.stderr
    return result


def test_publish_then_list_then_import(
    run_cli: CliRunner, tmp_path: Path, store_args: list[str]
) -> None:
    first = publish(run_cli, tmp_path, store_args, "service1", 90, "Fix login\n\nDetails")
    assert "recorded: service1-build #90" in first.stdout
    again = publish(run_cli, tmp_path, store_args, "service1", 90, "Fix login\n\nDetails")
    assert "already recorded: service1-build #90" in again.stdout
    publish(run_cli, tmp_path, store_args, "service1", 91, "Add 'quotes' ${x}")
    publish(run_cli, tmp_path, store_args, "service2", 7, "Service two")

    listed = run_cli(["list-builds", "--job", "service1-build", *store_args])
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout == "91-Add 'quotes' ${x}\n90-Fix login\n"
    as_json = run_cli(
        ["list-builds", "--job", "service1-build", "--format", "json", "--limit", "1", *store_args]
    )
    assert [b["number"] for b in json.loads(as_json.stdout)["builds"]] == [91]

    target = tmp_path / "import"
    (target).mkdir()
    (target / "stale.env.groovy").write_text("env.STALE_BUILD = '1'\n")
    imported = run_cli(
        [
            "import-artifacts",
            "--from",
            "service1-build",
            "--from",
            "service2-build",
            "--target",
            str(target),
            *store_args,
        ]
    )
    assert imported.exit_code == 0, imported.stderr
    assert sorted(p.name for p in target.glob("*.env.groovy")) == [
        "service1.env.groovy",
        "service2.env.groovy",
    ]
    env = groovy.parse_env_groovy((target / "service1.env.groovy").read_text())
    assert env["SERVICE1_BUILD"] == "91" and env["SERVICE1_COMMIT_MSG"] == "Add 'quotes' ${x}"
    merged = manifest_json.read(target / "manifest.json")
    assert {n: s.build for n, s in merged.services.items()} == {"service1": 91, "service2": 7}
    assert merged.source is None  # a composition of two jobs, not one upstream build
    imports = json.loads((target / "imports.json").read_text())
    assert imports["sources"] == [
        {"job": "service1-build", "number": 91},
        {"job": "service2-build", "number": 7},
    ]


def test_import_a_chosen_deploy_build_with_an_override(
    run_cli: CliRunner, tmp_path: Path, store_args: list[str]
) -> None:
    publish(run_cli, tmp_path, store_args, "service1", 90, "Ninety")
    publish(run_cli, tmp_path, store_args, "service1", 95, "Ninety-five")
    publish(run_cli, tmp_path, store_args, "service2", 7, "Seven")
    deployed = deploy_manifest(
        "deploy-test",
        12,
        "test",
        [service_build("service1", 90, "Ninety"), service_build("service2", 7, "Seven")],
    )
    _store_publish(store_args, deployed)

    exact = run_cli(
        [
            "import-artifacts",
            "--from",
            "deploy-test",
            "--build",
            "12-Deploy 12",  # the choice as the list shows it
            "--target",
            str(tmp_path / "a"),
            *store_args,
        ]
    )
    assert exact.exit_code == 0, exact.stderr
    a = manifest_json.read(tmp_path / "a" / "manifest.json")
    assert (a.job, a.number, a.source) == ("deploy-test", 12, SourceRef("deploy-test", 12))
    assert a.environment is None and a.services == deployed.services

    over = run_cli(
        [
            "import-artifacts",
            "--from",
            "deploy-test",
            "--build",
            "12",
            "--override",
            "service1=95",
            "--target",
            str(tmp_path / "b"),
            *store_args,
        ]
    )
    assert over.exit_code == 0, over.stderr
    assert "override: service1 build 95" in over.stdout
    b = manifest_json.read(tmp_path / "b" / "manifest.json")
    assert b.source is None  # no longer exactly deploy-test #12
    assert (
        b.services["service1"].build == 95
        and b.services["service1"].commit_message == "Ninety-five"
    )
    assert b.services["service2"] == deployed.services["service2"]
    assert json.loads((tmp_path / "b" / "imports.json").read_text())["services"]["service1"] == {
        "override": 95
    }
    env = groovy.parse_env_groovy((tmp_path / "b" / "service1.env.groovy").read_text())
    assert env["SERVICE1_BUILD"] == "95"


def _store_publish(store_args: list[str], manifest: Manifest) -> None:
    from pipelinelib.cli import open_store

    args = dict(zip(store_args[::2], store_args[1::2], strict=True))
    with open_store(args.get("--server"), args.get("--token"), args.get("--db", "")) as store:
        store.publish(manifest)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--from", "nope"], 3, "no build of job 'nope' is recorded in the store"),
        (["--from", "service1-build", "--build", "99"], 3, "no build service1-build #99"),
        (
            ["--from", "service1-build", "--build", "2"],
            2,
            "finished FAILURE; only successful builds",
        ),
        (["--from", "service1-build", "--build", "x-y"], 2, "invalid choice 'x-y'"),
        (["--from", "service1-build", "--override", "service1"], 2, "expected SERVICE=BUILD"),
        (["--from", "service1-build", "--override", "service9=1"], 2, "cannot override service9"),
        (
            ["--from", "service1-build", "--override", "service1=77"],
            3,
            "no successful build 77 of service service1",
        ),
        (
            ["--from", "service1-build", "--from", "other-build"],
            4,
            "service service1 is build 1 in service1-build #1 but build 3",
        ),
    ],
)
def test_import_errors_are_clear(
    run_cli: CliRunner,
    tmp_path: Path,
    store_args: list[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    _store_publish(store_args, build_manifest("service1-build", 1))
    _store_publish(store_args, build_manifest("service1-build", 2, result="FAILURE"))
    _store_publish(store_args, build_manifest("other-build", 3))
    result = run_cli(["import-artifacts", *args, "--target", str(tmp_path / "t"), *store_args])
    assert result.exit_code == code, result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_default_store_is_sqlite_under_the_working_directory(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    result = run_cli(
        [
            "publish-artifact",
            "--service",
            "s",
            "--build",
            "1",
            "--job",
            "j",
            "--commit",
            "a" * 40,
            "--message",
            "m",
        ],
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / ".pipelinelib" / "pipelinelib.db").is_file()
    assert run_cli(["list-builds", "--job", "j"], cwd=tmp_path).stdout == "1-m\n"


def test_unreachable_server_is_exit_8(run_cli: CliRunner, tmp_path: Path) -> None:
    from tests.fixtures.service import free_port

    result = run_cli(
        ["list-builds", "--job", "j", "--server", f"http://127.0.0.1:{free_port()}"], env={}
    )
    assert result.exit_code == 8
    assert "is unreachable" in result.stderr
