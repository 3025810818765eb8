"""Promotion control as people and deploy jobs use it from the command line, on a local store
with the repository's environments file: every refusal is one `error:` line, its exit code, and
nothing recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelinelib.store.sql import SqlStore
from tests.conftest import CliResult, CliRunner
from tests.fakes.manifests import build_manifest

REPO_FILE = Path(__file__).resolve().parents[2] / "pipelinelib.toml"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    store = SqlStore.from_url(url)
    store.publish(build_manifest("service1-build", 90, message="Fix login"))
    store.publish(build_manifest("service1-build", 91, message="Fix logout"))
    store.close()
    return url


@pytest.fixture
def cli(run_cli: CliRunner, db: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """``pipelinelib`` with the repository's pipelinelib.toml and the test store."""
    monkeypatch.setenv("PIPELINELIB_ENVIRONMENTS", str(REPO_FILE))
    monkeypatch.setenv("PIPELINELIB_DB", db)
    monkeypatch.setenv("USER", "tester")
    return run_cli


def deploy(
    cli: CliRunner, ws: Path, env: str, number: int, source: list[str], *extra: str
) -> CliResult:
    """import-artifacts from ``source`` then record-deployment as deploy-ENV #number."""
    imported = cli(["import-artifacts", "--target", str(ws / "import"), *source])
    assert imported.exit_code == 0, imported.stderr
    return cli(
        [
            "record-deployment",
            "--environment",
            env,
            "--import-dir",
            str(ws / "import"),
            "--output-dir",
            str(ws / "output"),
            *extra,
        ],
        env={"JOB_NAME": f"deploy-{env}", "BUILD_NUMBER": str(number), "BUILD_USER_ID": "dev"},
    )


def history(cli: CliRunner, env: str) -> list[int]:
    store = SqlStore.from_url(str(__import__("os").environ["PIPELINELIB_DB"]))
    try:
        return [m.number for m in store.history(env)]
    finally:
        store.close()


def approve(cli: CliRunner, env: str, ref: str) -> None:
    asked = cli(["request-approval", env, "--deployment", ref, "--requested-by", "dev"])
    assert asked.exit_code == 0, asked.stderr
    done = cli(["approve", env, "--deployment", ref, "--as", "lead", "--comment", "diff checked"])
    assert done.exit_code == 0, done.stderr
    assert "1/1 approval(s), approved" in done.stdout


def to_beta(cli: CliRunner, tmp_path: Path) -> None:
    first = deploy(cli, tmp_path / "t1", "test", 1, ["--from", "service1-build", "--build", "90"])
    assert first.exit_code == 0, first.stderr
    beta = deploy(cli, tmp_path / "b1", "beta", 1, ["--from", "deploy-test"])
    assert beta.exit_code == 0, beta.stderr


def test_environments_json_is_what_jenkinsfiles_read(cli: CliRunner) -> None:
    result = cli(["environments", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["order"] == ["test", "beta", "staging", "live", "sandbox"]
    assert data["environments"]["live"]["protected"] is True
    assert data["environments"]["live"]["freeze"][0]["end"] == "2027-01-05T00:00:00Z"


def test_out_of_order_is_refused_unless_a_hotfix_gives_a_reason(
    cli: CliRunner, tmp_path: Path
) -> None:
    to_beta(cli, tmp_path)
    skipped = deploy(cli, tmp_path / "s1", "sandbox", 1, ["--from", "deploy-beta"])
    assert skipped.exit_code == 2
    assert skipped.stderr.startswith("error: refusing deploy-sandbox #1 (sandbox)")
    assert "sandbox takes deployments of staging only" in skipped.stderr
    assert history(cli, "sandbox") == []
    no_reason = deploy(
        cli, tmp_path / "s1", "sandbox", 1, ["--from", "deploy-beta"], "--skip-order"
    )
    assert no_reason.exit_code == 2 and "need --reason" in no_reason.stderr
    hotfix = deploy(
        cli,
        tmp_path / "s1",
        "sandbox",
        1,
        ["--from", "deploy-beta"],
        "--skip-order",
        "--reason",
        "INC-7 hotfix",
        "--json",
    )
    assert hotfix.exit_code == 0, hotfix.stderr
    assert json.loads(hotfix.stdout)["deployment"]["skip_order"] == "INC-7 hotfix"


def test_unknown_environment_is_a_clear_error(cli: CliRunner, tmp_path: Path) -> None:
    to_beta(cli, tmp_path)
    wrong = deploy(cli, tmp_path / "x", "stagin", 1, ["--from", "deploy-beta"])
    assert wrong.exit_code == 2
    assert "unknown environment 'stagin'; did you mean 'staging'?" in wrong.stderr
    assert history(cli, "stagin") == []
    assert cli(["lock", "prod", "--reason", "x"]).exit_code == 2
    assert cli(["rollback", "--environment", "prod", "--dry-run"]).exit_code == 3


def test_protected_environment_needs_an_approval_by_someone_else(
    cli: CliRunner, tmp_path: Path
) -> None:
    to_beta(cli, tmp_path)
    unapproved = deploy(cli, tmp_path / "st1", "staging", 1, ["--from", "deploy-beta"])
    assert unapproved.exit_code == 2 and "request-approval staging" in unapproved.stderr
    asked = cli(
        ["request-approval", "staging", "--deployment", "deploy-staging#1", "--requested-by", "dev"]
    )
    assert asked.exit_code == 0, asked.stderr
    own = cli(["approve", "staging", "--deployment", "deploy-staging#1", "--as", "dev"])
    assert own.exit_code == 5
    assert "approving your own request is not allowed" in own.stderr
    check = cli(["approvals", "staging", "--deployment", "deploy-staging#1", "--check"])
    assert check.exit_code == 2 and "0 of the 1 approval(s)" in check.stderr
    assert (
        cli(["approve", "staging", "--deployment", "deploy-staging#1", "--as", "lead"]).exit_code
        == 0
    )
    assert (
        cli(["approvals", "staging", "--deployment", "deploy-staging#1", "--check"]).exit_code == 0
    )
    recorded = deploy(cli, tmp_path / "st1", "staging", 1, ["--from", "deploy-beta"], "--json")
    assert recorded.exit_code == 0, recorded.stderr
    info = json.loads(recorded.stdout)["deployment"]
    assert info["requested_by"] == "dev"
    assert [a["by"] for a in info["approvals"]] == ["lead"]
    bad = cli(["approve", "staging", "--deployment", "deploy-staging"])
    assert bad.exit_code == 2 and "JOB#NUMBER" in bad.stderr


def test_a_lock_refuses_others_and_the_holder_records_through_it(
    cli: CliRunner, tmp_path: Path
) -> None:
    first = deploy(cli, tmp_path / "t1", "test", 1, ["--from", "service1-build"])
    assert first.exit_code == 0, first.stderr
    taken = cli(["lock", "beta", "--reason", "schema migration", "--holder", "ann", "--ttl", "1h"])
    assert taken.exit_code == 0, taken.stderr
    refused = deploy(cli, tmp_path / "b1", "beta", 1, ["--from", "deploy-test"])
    assert refused.exit_code == 4
    assert "beta is locked by ann until" in refused.stderr and "schema migration" in refused.stderr
    assert history(cli, "beta") == []
    locks = json.loads(cli(["locks", "--json"]).stdout)["locks"]
    assert [(lk["environment"], lk["holder"]) for lk in locks] == [("beta", "ann")]
    assert cli(["unlock", "beta", "--holder", "bob"]).exit_code == 4
    assert cli(["unlock", "beta", "--holder", "ann"]).exit_code == 0
    job_lock = cli(
        ["lock", "beta", "--reason", "deploy-beta #1"],
        env={"JOB_NAME": "deploy-beta", "BUILD_NUMBER": "1"},
    )
    assert job_lock.exit_code == 0 and "locked by deploy-beta#1" in job_lock.stdout
    held = deploy(cli, tmp_path / "b1", "beta", 1, ["--from", "deploy-test"], "--json")
    assert held.exit_code == 0, held.stderr
    assert json.loads(held.stdout)["deployment"]["lock"] == "deploy-beta#1"


def test_a_check_before_apply_finds_what_recording_would_refuse(
    cli: CliRunner, tmp_path: Path
) -> None:
    to_beta(cli, tmp_path)
    cli(["lock", "staging", "--reason", "load test", "--holder", "ann"])
    locked = deploy(cli, tmp_path / "st1", "staging", 1, ["--from", "deploy-beta"], "--check")
    assert locked.exit_code == 4 and "staging is locked by ann" in locked.stderr
    cli(["unlock", "staging", "--holder", "ann"])
    unapproved = deploy(cli, tmp_path / "st1", "staging", 1, ["--from", "deploy-beta"], "--check")
    assert unapproved.exit_code == 2 and "needs 1 approval" in unapproved.stderr
    approve(cli, "staging", "deploy-staging#1")
    ok = deploy(cli, tmp_path / "st1", "staging", 1, ["--from", "deploy-beta"], "--check")
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout.startswith("checked: would record deploy-staging #1 -> staging")
    assert history(cli, "staging") == []  # a check records nothing
    assert not (tmp_path / "st1" / "output").exists()  # and writes nothing


def test_an_expired_lock_is_a_clear_error_and_nothing_is_recorded(
    cli: CliRunner, tmp_path: Path
) -> None:
    first = deploy(cli, tmp_path / "t1", "test", 1, ["--from", "service1-build"])
    assert first.exit_code == 0, first.stderr
    store = SqlStore.from_url(str(__import__("os").environ["PIPELINELIB_DB"]))
    try:
        import sqlalchemy as sa

        store.acquire_lock("beta", holder="deploy-beta#1", reason="deploy-beta #1", ttl=60)
        with store.engine.begin() as conn:  # the deploy ran past its ttl
            conn.execute(sa.text("UPDATE locks SET expires_at = '2000-01-01 00:00:00.000000'"))
    finally:
        store.close()
    late = deploy(cli, tmp_path / "b1", "beta", 1, ["--from", "deploy-test"])
    assert late.exit_code == 4
    assert "claims the lock of beta as deploy-beta#1, but that lock is not held" in late.stderr
    assert "expired at 2000-01-01T00:00:00Z" in late.stderr
    assert history(cli, "beta") == []


def test_rollback_dry_run_prints_the_diff_and_the_commands(cli: CliRunner, tmp_path: Path) -> None:
    assert (
        deploy(
            cli, tmp_path / "t1", "test", 1, ["--from", "service1-build", "--build", "90"]
        ).exit_code
        == 0
    )
    nothing = cli(["rollback", "--environment", "test", "--dry-run"])
    assert nothing.exit_code == 3
    assert "no previous deployment of test to roll back to" in nothing.stderr
    assert deploy(cli, tmp_path / "t2", "test", 2, ["--from", "service1-build"]).exit_code == 0
    plan = cli(["rollback", "--environment", "test", "--dry-run"])
    assert plan.exit_code == 0, plan.stderr
    assert "rollback of test: deploy-test #2 -> deploy-test #1" in plan.stdout
    assert "service1                     90         91  downgrade" in plan.stdout
    assert (
        "pipelinelib import-artifacts --from deploy-test --build 1 --target import" in plan.stdout
    )
    assert "pipelinelib orchestrate apply appcluster-test ap-southeast-2" in plan.stdout
    assert "record-deployment --environment test --kind rollback" in plan.stdout
    assert history(cli, "test") == [2, 1]  # a dry run records nothing
    as_json = json.loads(cli(["rollback", "--environment", "test", "--dry-run", "--json"]).stdout)
    assert as_json["target"] == {"job": "deploy-test", "number": 1}
    assert (
        cli(["rollback", "--environment", "test", "--to", "deploy-test#2", "--dry-run"]).exit_code
        == 2
    )


def test_a_failed_rollback_releases_its_lock(cli: CliRunner, tmp_path: Path) -> None:
    """Rollback of a protected environment without approvals: refused at record, lock freed."""
    from pipelinelib.environments import read_environments_file
    from pipelinelib.errors import PromotionRefusedError
    from pipelinelib.pipeline.rollback import plan_rollback, run_rollback

    config = read_environments_file(REPO_FILE)
    to_beta(cli, tmp_path)
    for n in (1, 2):
        approve(cli, "staging", f"deploy-staging#{n}")
    assert deploy(cli, tmp_path / "st1", "staging", 1, ["--from", "deploy-beta"]).exit_code == 0
    assert deploy(cli, tmp_path / "t2", "test", 2, ["--from", "service1-build"]).exit_code == 0
    assert deploy(cli, tmp_path / "b2", "beta", 2, ["--from", "deploy-test"]).exit_code == 0
    assert deploy(cli, tmp_path / "st2", "staging", 2, ["--from", "deploy-beta"]).exit_code == 0
    store = SqlStore.from_url(str(__import__("os").environ["PIPELINELIB_DB"]), environments=config)
    try:
        plan = plan_rollback(store, config, "staging")
        with pytest.raises(PromotionRefusedError, match="needs 1 approval"):
            run_rollback(
                store,
                plan,
                job="deploy-staging",
                number=3,
                reason="bad",
                config=config,
                root=None,
                import_dir=tmp_path / "rb" / "import",
                output_dir=tmp_path / "rb" / "output",
            )
        assert store.locks() == []
        assert [m.number for m in store.history("staging")] == [2, 1]
        approve(cli, "staging", "deploy-staging#3")
        done = run_rollback(
            store,
            plan,
            job="deploy-staging",
            number=3,
            reason="bad",
            config=config,
            root=None,
            import_dir=tmp_path / "rb" / "import",
            output_dir=tmp_path / "rb" / "output",
        )
        assert done.deployment is not None and done.deployment.kind == "rollback"
        assert done.deployment.lock == "deploy-staging#3"
        assert (
            store.environments()["staging"].services
            == store.get_build("deploy-staging", 1).services
        )
        assert store.locks() == []
    finally:
        store.close()
