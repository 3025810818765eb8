"""A new user's trip-ups: where the store is, unknown names, and choices that name another build."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelinelib.store.sql import SqlStore
from tests.conftest import CliRunner
from tests.fakes.manifests import build_manifest, deploy_manifest, service_build


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """A folder whose default store (.pipelinelib/pipelinelib.db) holds builds and deployments."""
    store = SqlStore.from_url(f"sqlite:///{tmp_path / '.pipelinelib' / 'pipelinelib.db'}")
    try:
        store.publish(build_manifest("service1-build", 90, message="Fix login"))
        store.publish(build_manifest("service1-build", 91, message="Fix logout"))
        deployed = [service_build("service1", 90, "Fix login")]
        store.publish(deploy_manifest("deploy-test", 2, "test", deployed))
        store.publish(deploy_manifest("deploy-live", 1, "live", deployed))
    finally:
        store.close()
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["diff", "test", "live"],
        ["list-builds", "--job", "deploy-test"],
        ["import-artifacts", "--from", "deploy-test"],
    ],
)
def test_read_commands_in_an_empty_folder_create_no_store_and_say_where_they_looked(
    run_cli: CliRunner, tmp_path: Path, args: list[str]
) -> None:
    result = run_cli(args, cwd=tmp_path)
    assert result.exit_code == 3
    assert "error: no store at .pipelinelib/pipelinelib.db" in result.stderr
    assert "--db URL or --server URL" in result.stderr
    assert not (tmp_path / ".pipelinelib").exists()
    assert not (tmp_path / "import").exists()


def test_status_in_the_folder_of_a_store_reads_it(run_cli: CliRunner, store_dir: Path) -> None:
    result = run_cli(["status"], cwd=store_dir)
    assert result.exit_code == 0, result.stderr
    assert "live" in result.stdout and "nothing has been deployed yet" not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list-builds", "--job", "deploy-tset"], "(did you mean 'deploy-test'"),
        (["list-builds", "--job", "deploy-tset", "--format", "json"], "(did you mean 'deploy-t"),
        (["list-builds", "--job", "service1-biuld"], "no build of job 'service1-biuld'"),
        (["import-artifacts", "--from", "deploy-tset"], "(did you mean 'deploy-test'"),
        (["diff", "test", "lve"], "unknown environment 'lve' (did you mean 'live'?)"),
        (["status", "--environment", "liv"], "(did you mean 'live'?)"),
    ],
)
def test_unknown_names_are_errors_with_a_did_you_mean(
    run_cli: CliRunner, store_dir: Path, args: list[str], message: str
) -> None:
    result = run_cli(args, cwd=store_dir)
    assert result.exit_code == 3, result.stdout
    assert message in result.stderr
    assert result.stdout == ""


def test_a_known_job_without_a_successful_build_lists_nothing(
    run_cli: CliRunner, store_dir: Path
) -> None:
    store = SqlStore.from_url(f"sqlite:///{store_dir / '.pipelinelib' / 'pipelinelib.db'}")
    store.publish(build_manifest("service2-build", 1, service="service2", result="FAILURE"))
    store.close()
    result = run_cli(["list-builds", "--job", "service2-build"], cwd=store_dir)
    assert (result.exit_code, result.stdout) == (0, "")


@pytest.mark.parametrize(
    ("selector", "ok"),
    [
        ("90-Fix login", True),
        ("90", True),
        (" 90-Fix login ", True),
        ("90-Wrong name", False),
        ("90-Fix logout", False),  # the subject of #91: a stale or mistyped pick
    ],
)
def test_a_choice_whose_subject_is_not_the_builds_is_refused(
    run_cli: CliRunner, store_dir: Path, selector: str, ok: bool
) -> None:
    result = run_cli(
        ["import-artifacts", "--from", "service1-build", "--build", selector], cwd=store_dir
    )
    if ok:
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == 2
    assert "does not match service1-build #90, whose choice is '90-Fix login'" in result.stderr
    assert not (store_dir / "import").exists()
