"""record-deployment, status and diff as deploy jobs and people use them; bad input records nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipelinelib import pipeline
from pipelinelib.aws import ecs as rollouts
from pipelinelib.store.sql import SqlStore
from tests.conftest import CliResult, CliRunner
from tests.fakes.manifests import build_manifest, deploy_manifest, service_build


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    store = SqlStore.from_url(url)
    store.publish(build_manifest("service1-build", 90, message="Fix login"))
    store.publish(build_manifest("service2-build", 7, service="service2", message="Seven"))
    store.publish(build_manifest("service1-build", 91, message="Fix logout"))
    store.close()
    return url


def _import(run_cli: CliRunner, db: str, where: Path, *args: str) -> None:
    result = run_cli(["import-artifacts", "--db", db, "--target", str(where), *args])
    assert result.exit_code == 0, result.stderr


def _record(
    run_cli: CliRunner, db: str, ws: Path, env: str, job: str, number: int, *extra: str
) -> CliResult:
    return run_cli(
        [
            "record-deployment",
            "--db",
            db,
            "--environment",
            env,
            "--import-dir",
            str(ws / "import"),
            "--output-dir",
            str(ws / "output"),
            *extra,
        ],
        env={"JOB_NAME": job, "BUILD_NUMBER": str(number), "BUILD_USER_ID": "alice"},
    )


def test_deploy_then_promote_then_status_and_diff(
    run_cli: CliRunner, db: str, tmp_path: Path
) -> None:
    test_ws = tmp_path / "deploy-test"
    _import(run_cli, db, test_ws / "import", "--from", "service1-build", "--from", "service2-build")
    recorded = _record(run_cli, db, test_ws, "test", "deploy-test", 1, "--json")
    assert recorded.exit_code == 0, recorded.stderr
    deployment = json.loads(recorded.stdout)
    assert deployment["environment"] == "test"
    assert deployment["deployment"]["deployed_by"] == "alice"
    assert {n: s["build"] for n, s in deployment["services"].items()} == {
        "service1": 91,
        "service2": 7,
    }
    archived = json.loads((test_ws / "output" / "manifest.json").read_text())
    assert archived == deployment
    assert "env.SERVICE1_BUILD = '91'" in (test_ws / "output" / "service1.env.groovy").read_text()

    beta_ws = tmp_path / "deploy-beta"
    _import(run_cli, db, beta_ws / "import", "--from", "deploy-test", "--build", "1")
    assert _record(run_cli, db, beta_ws, "beta", "deploy-beta", 1).exit_code == 0

    status = run_cli(["status", "--db", db, "--json"])
    envs = json.loads(status.stdout)["environments"]
    assert list(envs) == ["beta", "test"]  # no environments file: alphabetical
    declared = tmp_path / "pipelinelib.toml"
    declared.write_text('[environments.test]\n[environments.beta]\nupstream = "test"\n')
    status = run_cli(["status", "--db", db, "--json", "--environments-file", str(declared)])
    assert list(json.loads(status.stdout)["environments"]) == ["test", "beta"]  # promotion order
    assert envs["beta"]["source"] == {"job": "deploy-test", "number": 1}
    assert envs["beta"]["services"] == envs["test"]["services"]

    # A new service1 build reaches test; the diff names it and the commit it brings.
    _import(
        run_cli,
        db,
        test_ws / "import2",
        "--from",
        "service1-build",
        "--from",
        "service2-build",
        "--override",
        "service1=90",
    )
    diff = run_cli(["diff", "--db", db, "test", "beta", "--json"])
    assert diff.exit_code == 0, diff.stderr
    assert json.loads(diff.stdout)["changes"] == 0
    text = run_cli(["diff", "--db", db, "beta", "test"])
    assert "changes nothing" in text.stdout


def test_an_override_is_recorded_as_such(run_cli: CliRunner, db: str, tmp_path: Path) -> None:
    ws = tmp_path / "t"
    _import(run_cli, db, ws / "import", "--from", "service1-build", "--from", "service2-build")
    assert _record(run_cli, db, ws, "test", "deploy-test", 1).exit_code == 0
    beta = tmp_path / "b"
    _import(
        run_cli,
        db,
        beta / "import",
        "--from",
        "deploy-test",
        "--build",
        "1",
        "--override",
        "service1=90",
    )
    result = _record(run_cli, db, beta, "beta", "deploy-beta", 1, "--json")
    assert result.exit_code == 0, result.stderr
    recorded = json.loads(result.stdout)
    assert recorded["deployment"]["overrides"] == ["service1"]
    assert recorded["services"]["service1"]["build"] == 90
    assert recorded["source"] == {"job": "deploy-test", "number": 1}


def _ledger(db: str) -> dict[str, list[int]]:
    store = SqlStore.from_url(db)
    try:
        return {env: [m.number for m in store.history(env)] for env in ("test", "beta", "live")}
    finally:
        store.close()


def test_promoting_a_failed_build_is_refused_and_nothing_is_recorded(
    run_cli: CliRunner, db: str, tmp_path: Path
) -> None:
    store = SqlStore.from_url(db)
    failed = deploy_manifest(
        "deploy-test", 5, "test", [store.find_service_build("service1", 90)], result="FAILURE"
    )
    store.publish(failed)
    store.close()
    imported = run_cli(
        [
            "import-artifacts",
            "--db",
            db,
            "--from",
            "deploy-test",
            "--build",
            "5",
            "--target",
            str(tmp_path / "i"),
        ]
    )
    assert imported.exit_code != 0
    assert "FAILURE" in imported.stderr
    # Forging the import by hand does not get past the store either.
    ws = tmp_path / "forged"
    (ws / "import").mkdir(parents=True)
    (ws / "import" / "manifest.json").write_text(json.dumps(failed.to_dict()))
    (ws / "import" / "imports.json").write_text(
        json.dumps(
            {
                "exact": True,
                "sources": [{"job": "deploy-test", "number": 5}],
                "services": {"service1": {"job": "deploy-test", "number": 5}},
            }
        )
    )
    before = _ledger(db)
    result = _record(run_cli, db, ws, "beta", "deploy-beta", 1)
    assert result.exit_code == 2
    assert "deploy-test #5 is FAILURE; only successful builds can be promoted" in result.stderr
    assert _ledger(db) == before
    assert not (ws / "output").exists()


def test_a_deployment_whose_source_is_missing_is_refused(
    run_cli: CliRunner, db: str, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    (ws / "import").mkdir(parents=True)
    ghost = deploy_manifest("deploy-test", 99, "test", [service_build("service1", 90)])
    (ws / "import" / "manifest.json").write_text(json.dumps(ghost.to_dict()))
    (ws / "import" / "imports.json").write_text(
        json.dumps(
            {"exact": True, "sources": [{"job": "deploy-test", "number": 99}], "services": {}}
        )
    )
    before = _ledger(db)
    result = _record(run_cli, db, ws, "beta", "deploy-beta", 1)
    assert result.exit_code == 2
    assert "source deploy-test #99 is not recorded" in result.stderr
    assert _ledger(db) == before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["status", "--environment", "nowhere"], 3, "unknown environment 'nowhere'"),
        (["status", "--environment", "lve"], 3, "unknown environment 'lve' (did you mean 'live'?)"),
        (["status", "--environment", "staging"], 3, "nothing is deployed to staging"),
        (["status", "--environment", "Bad Env"], 2, "invalid environment name"),
        (["diff", "qa", "live"], 3, "unknown environment 'qa'"),
        (["diff", "test", "lve"], 3, "unknown environment 'lve' (did you mean 'live'?)"),
        (["diff", "tset", "live"], 3, "unknown environment 'tset' (did you mean 'test'?)"),
        (["diff", "beta", "live"], 3, "nothing is deployed to beta"),
        (["diff", "../x", "live"], 2, "invalid environment name"),
    ],
)
def test_unknown_or_bad_environments(
    run_cli: CliRunner,
    db: str,
    args: list[str],
    code: int,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Names are known from the environments file (the repository's own pipelinelib.toml).
    monkeypatch.setenv(
        "PIPELINELIB_ENVIRONMENTS", str(Path(__file__).parents[2] / "pipelinelib.toml")
    )
    result = run_cli([*args, "--db", db])
    assert result.exit_code == code
    assert message in result.stderr


def test_a_bad_environment_name_records_nothing(
    run_cli: CliRunner, db: str, tmp_path: Path
) -> None:
    ws = tmp_path / "t"
    _import(run_cli, db, ws / "import", "--from", "service1-build")
    result = _record(run_cli, db, ws, "Live!", "deploy-live", 1)
    assert result.exit_code == 2
    assert "invalid environment name" in result.stderr
    assert _ledger(db) == {"test": [], "beta": [], "live": []}


def test_a_failed_rollout_is_history_but_not_current(
    run_cli: CliRunner, db: str, tmp_path: Path
) -> None:
    ws = tmp_path / "t"
    _import(run_cli, db, ws / "import", "--from", "service1-build")
    assert _record(run_cli, db, ws, "test", "deploy-test", 1).exit_code == 0

    def outcome(status: str) -> str:
        state = rollouts.RolloutState("service1", status, "ecs-svc/1", "service1:7")
        rollout = rollouts.ServiceRollout(state, "service1:7", (), 12.0)
        return json.dumps(rollouts.RolloutOutcome("appcluster-test", (rollout,), 12.0).to_dict())

    rollout = tmp_path / "rollout.json"
    rollout.write_text(outcome("ROLLED_BACK"))
    ws2 = tmp_path / "t2"
    _import(run_cli, db, ws2 / "import", "--from", "service1-build", "--override", "service1=90")
    result = _record(
        run_cli, db, ws2, "test", "deploy-test", 2, "--rollout", str(rollout), "--json"
    )
    assert result.exit_code == 0, result.stderr
    recorded = json.loads(result.stdout)
    assert recorded["result"] == "FAILURE"
    assert recorded["deployment"]["rollout"] == {"service1": "ROLLED_BACK"}
    store = SqlStore.from_url(db)
    try:
        assert pipeline.status(store)["test"].number == 1  # the last good deployment
        assert [m.number for m in store.history("test")] == [2, 1]
    finally:
        store.close()
    rollout.write_text(outcome("COMPLETED"))
    ok = _record(run_cli, db, ws2, "test", "deploy-test", 3, "--rollout", str(rollout), "--json")
    assert json.loads(ok.stdout)["result"] == "SUCCESS"
    rollout.write_text("{not json")
    bad = _record(run_cli, db, ws2, "test", "deploy-test", 4, "--rollout", str(rollout))
    assert bad.exit_code == 2
    assert "not the JSON of wait-rollout" in bad.stderr


def test_destroyed_environment_shows_nothing_running(
    run_cli: CliRunner, db: str, tmp_path: Path
) -> None:
    ws = tmp_path / "t"
    _import(run_cli, db, ws / "import", "--from", "service1-build")
    assert _record(run_cli, db, ws, "test", "deploy-test", 1).exit_code == 0
    destroyed = _record(run_cli, db, tmp_path / "d", "test", "destroy-test", 1, "--destroyed")
    assert destroyed.exit_code == 0, destroyed.stderr
    status = run_cli(["status", "--db", db])
    assert "test: destroy-test #1 destroyed test" in status.stdout
    assert "(nothing running: destroyed)" in status.stdout


def test_history_shows_how_long_a_deployment_took(
    run_cli: CliRunner, db: str, tmp_path: Path
) -> None:
    """Jenkins passes the deploy build's start as milliseconds (currentBuild.startTimeInMillis);
    the history's duration runs from there to the recording."""
    ws = tmp_path / "t"
    _import(run_cli, db, ws / "import", "--from", "service1-build")
    started = datetime.now(UTC) - timedelta(minutes=4)
    millis = str(int(started.timestamp() * 1000))
    recorded = _record(run_cli, db, ws, "test", "deploy-test", 1, "--started-at", millis, "--json")
    assert recorded.exit_code == 0, recorded.stderr
    stamp = json.loads(recorded.stdout)["deployment"]["started_at"]
    assert abs(datetime.fromisoformat(stamp) - started) < timedelta(milliseconds=2)
    assert _record(run_cli, db, ws, "test", "deploy-test", 2).exit_code == 0  # no start given

    shown = run_cli(["history", "--db", db, "--environment", "test", "--json"])
    assert shown.exit_code == 0, shown.stderr
    took = {d["number"]: d["duration_seconds"] for d in json.loads(shown.stdout)["deployments"]}
    assert took[2] is None
    assert 240 <= took[1] < 300
    text = run_cli(["history", "--db", db, "--environment", "test"]).stdout
    assert " in 4m" in text

    for bad in ("yesterday", "2026-11-29T10:00:00", "9" * 16):
        refused = _record(run_cli, db, ws, "test", "deploy-test", 3, "--started-at", bad)
        assert refused.exit_code == 2, (bad, refused.stdout)
        assert "started" in refused.stderr, refused.stderr
