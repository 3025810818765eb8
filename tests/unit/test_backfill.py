"""backfill: a team's pre-migration Jenkins builds become manifests and deployments in the store.

Jenkins is faked with ``responses``; the bodies are the shapes tests/fakes/jenkins.py builds from
Jenkins core (jenkinsci/jenkins, core/src/main/java/hudson/model/Job.java: ``@Exported(name =
"builds") getNewBuilds()``, the newest 100; hudson/model/Run.java: @Exported getNumber, getResult,
getDisplayName (``#N`` when unset), isBuilding, getTimestamp, getUrl, getArtifacts, and
Run.Artifact's displayPath/fileName/relativePath; the ``_class`` of a Pipeline run is
org.jenkinsci.plugins.workflow.job.WorkflowRun), answering exactly the ``tree=`` queries the client
sends (``builds[number,result,displayName,building,timestamp,url]{0,N}`` for the job,
``number,result,artifacts[displayPath,fileName,relativePath]`` per build, then ``artifact/PATH``).
The store is the real SQLite store, so the ledger's rules for deployments apply.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import responses

from tests.conftest import CliRunner
from tests.fakes import jenkins as fj

BASE = fj.BASE


class SeedJenkins:
    """Registers a job's builds and their archived files as the seed's jobs left them."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.jobs: dict[str, list[dict[str, object]]] = {}

    def job(self, job: str, builds: list[tuple[int, str, str | None, dict[str, str]]]) -> None:
        """``builds``: (number, result, display name, {archived path: text}), newest first."""
        runs = [fj.run(job, n, result, display_name=name) for n, result, name, _ in builds]
        self.mock.get(f"{fj.job_url(job)}api/json", json=fj.job_builds(runs))
        for number, result, _, archived in builds:
            self.mock.get(
                f"{fj.job_url(job)}{number}/api/json",
                json=fj.build_artifacts(number, list(archived), result=result),
            )
            for path, text in archived.items():
                self.mock.get(
                    f"{fj.job_url(job)}{number}/artifact/{path}", body=text.encode("utf-8")
                )


@pytest.fixture
def jenkins() -> SeedJenkins:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield SeedJenkins(mock)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def seed_env(key: str, build: int, message: str) -> str:
    """What the seed's service job echoed into output/<service>.env.groovy."""
    return f'env.{key}_BUILD={build}\nenv.{key}_COMMIT_MSG="{message}"\n'


def cli(run_cli: CliRunner, db: str, *args: str) -> tuple[int, str, str]:
    done = run_cli([*args, "--db", db], env={"JENKINS_URL": BASE})
    return done.exit_code, done.stdout, done.stderr


def backfill_service_history(jenkins: SeedJenkins, run_cli: CliRunner, db: str) -> str:
    jenkins.job(
        "service1",
        [
            (91, "SUCCESS", "Show prices", {"output/service1.env.groovy": seed_env("SERVICE1", 91, "Show prices")}),
            (90, "SUCCESS", "Fix login", {"output/service1.env.groovy": seed_env("SERVICE1", 90, "Fix login")}),
            (89, "FAILURE", "Broken", {}),
        ],
    )  # fmt: skip
    code, out, err = cli(run_cli, db, "backfill", "--jenkins-job", "service1")
    assert code == 0, err
    return out


def test_service_builds_become_manifests_oldest_first(
    jenkins: SeedJenkins, run_cli: CliRunner, db: str
) -> None:
    out = backfill_service_history(jenkins, run_cli, db)
    assert out.splitlines() == [
        "service1 #90: recorded (service1=90)",
        "service1 #91: recorded (service1=91)",
    ]
    code, out, err = cli(run_cli, db, "list-builds", "--job", "service1", "--format", "choices")
    assert code == 0, err
    assert out.splitlines() == ["91-Show prices", "90-Fix login"]


def test_running_it_again_records_nothing_twice(
    jenkins: SeedJenkins, run_cli: CliRunner, db: str
) -> None:
    backfill_service_history(jenkins, run_cli, db)
    code, out, err = cli(run_cli, db, "backfill", "--jenkins-job", "service1")
    assert code == 0, err
    assert out.splitlines() == [
        "service1 #90: already recorded (service1=90)",
        "service1 #91: already recorded (service1=91)",
    ]


def test_a_pre_migration_deploy_test_build_is_a_choice_and_promotable(
    jenkins: SeedJenkins, run_cli: CliRunner, db: str, tmp_path: Path
) -> None:
    backfill_service_history(jenkins, run_cli, db)
    # deploy-test re-archived the file it deployed, unchanged, and named itself after the commit.
    jenkins.job(
        "deploy-test",
        [(12, "SUCCESS", "Fix login", {"output/service1.env.groovy": seed_env("SERVICE1", 90, "Fix login")})],
    )  # fmt: skip
    code, out, err = cli(
        run_cli, db, "backfill", "--jenkins-job", "deploy-test", "--environment", "test"
    )
    assert code == 0, err
    assert out.splitlines() == ["deploy-test #12: recorded (service1=90)"]

    code, out, err = cli(run_cli, db, "list-builds", "--job", "deploy-test", "--format", "choices")
    assert out.splitlines() == ["12-Fix login"]
    code, out, err = cli(run_cli, db, "status", "--environment", "test")
    assert code == 0, err
    assert "90" in out

    # Promote it as a migrated deploy-beta job does.
    imports = tmp_path / "import"
    code, out, err = cli(
        run_cli, db, "import-artifacts", "--from", "deploy-test", "--build", "12-Fix login",
        "--target", str(imports),
    )  # fmt: skip
    assert code == 0, err
    assert "env.SERVICE1_BUILD = '90'" in (imports / "service1.env.groovy").read_text()
    code, out, err = cli(
        run_cli, db, "record-deployment", "--environment", "beta", "--import-dir", str(imports),
        "--job", "deploy-beta", "--build", "1", "--output-dir", str(tmp_path / "output"),
    )  # fmt: skip
    assert code == 0, err
    code, out, err = cli(run_cli, db, "status", "--json")
    assert '"beta"' in out and '"test"' in out


def test_a_deployment_of_builds_never_back_filled_is_refused_with_the_order_to_follow(
    jenkins: SeedJenkins, run_cli: CliRunner, db: str
) -> None:
    jenkins.job(
        "deploy-test",
        [(12, "SUCCESS", "Fix login", {"output/service1.env.groovy": seed_env("SERVICE1", 90, "Fix login")})],
    )  # fmt: skip
    code, out, err = cli(
        run_cli, db, "backfill", "--jenkins-job", "deploy-test", "--environment", "test"
    )
    assert code == 1
    assert "deploy-test #12: refused" in out
    assert "was never published (back-fill the service build jobs first)" in out
    assert "1 of 1 build(s) of deploy-test refused" in err
    code, out, _ = cli(run_cli, db, "list-builds", "--job", "deploy-test", "--format", "choices")
    assert out == ""


@pytest.mark.parametrize(
    ("archived", "reason"),
    [
        ({}, "no artifact of service1 #88 matches filter '**/*.env.groovy'"),
        (
            {"output/service1.env.groovy": "env.SERVICE1_BUILD=latest\n"},
            "service1.env.groovy:1: expected",
        ),
        ({"../../etc/service1.env.groovy": seed_env("SERVICE1", 88, "x")}, "'..' segments"),
        (
            {"output/service1.env.groovy": "env.SERVICE1_COMMIT_MSG='no build'\n"},
            "no <SERVICE>_BUILD",
        ),
    ],
)
def test_unreadable_artifacts_refuse_that_build_only_and_record_nothing_of_it(
    jenkins: SeedJenkins, run_cli: CliRunner, db: str, archived: dict[str, str], reason: str
) -> None:
    jenkins.job(
        "service1",
        [
            (90, "SUCCESS", "Fix login", {"output/service1.env.groovy": seed_env("SERVICE1", 90, "Fix login")}),
            (88, "SUCCESS", "Odd one", archived),
        ],
    )  # fmt: skip
    code, out, err = cli(run_cli, db, "backfill", "--jenkins-job", "service1")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("service1 #88: refused (")
    assert reason in lines[0]
    assert lines[1] == "service1 #90: recorded (service1=90)"
    assert "1 of 2 build(s) of service1 refused" in err
    code, out, _ = cli(run_cli, db, "list-builds", "--job", "service1", "--format", "choices")
    assert out.splitlines() == ["90-Fix login"]


def test_dry_run_reads_everything_and_records_nothing(
    jenkins: SeedJenkins, run_cli: CliRunner, db: str
) -> None:
    jenkins.job(
        "service1",
        [(90, "SUCCESS", "#90", {"output/service1.env.groovy": seed_env("SERVICE1", 90, "x")})],
    )
    code, out, err = cli(run_cli, db, "backfill", "--jenkins-job", "service1", "--dry-run")
    assert code == 0, err
    assert out.splitlines() == ["service1 #90: would record (service1=90)"]
    code, out, _ = cli(run_cli, db, "list-builds", "--job", "service1", "--format", "choices")
    assert out == ""
