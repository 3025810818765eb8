"""publish-artifact --legacy-key: old deploy jobs keep reading the build under the old key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelinelib import pipeline
from pipelinelib.formats import groovy
from tests.conftest import CliRunner

IMAGE = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service-1:91"


def publish(run_cli: CliRunner, tmp_path: Path, *extra: str) -> tuple[int, str]:
    done = run_cli(
        ["publish-artifact", "--service", "service-1", "--build", "91", "--job", "service-1",
         "--image", IMAGE, "--commit", "5f1c0ffee", "--message", "Fix 'it'", "--no-register",
         "--no-resolve-digest", "--output-dir", str(tmp_path / "output"), *extra]
    )  # fmt: skip
    return done.exit_code, done.stderr


def test_aliases_carry_every_variable_and_read_back_as_one_service(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    code, err = publish(run_cli, tmp_path, "--legacy-key", "SERVICE1", "--legacy-key", "SVC1")
    assert code == 0, err
    env_file = tmp_path / "output" / "service-1.env.groovy"
    variables = groovy.parse_env_groovy(env_file.read_text())
    for key in ("SERVICE_1", "SERVICE1", "SVC1"):
        assert variables[f"{key}_BUILD"] == "91"
        assert variables[f"{key}_IMAGE"] == IMAGE
        assert variables[f"{key}_COMMIT_MSG"] == "Fix 'it'"
        assert variables[f"{key}_SERVICE"] == "service-1"
    # The reader sees one service, not three.
    assert pipeline.service_builds(variables) == {"service-1": "91"}
    assert [s.name for s in pipeline.services_from_env(variables)] == ["service-1"]


def test_without_legacy_keys_only_the_service_key_is_written(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    code, err = publish(run_cli, tmp_path)
    assert code == 0, err
    variables = groovy.parse_env_groovy((tmp_path / "output" / "service-1.env.groovy").read_text())
    assert {k.rsplit("_", 1)[0] for k in variables if k.endswith("_BUILD")} == {"SERVICE_1"}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("service1", "use A-Z, 0-9 and '_'"),
        ("SERVICE1; id", "use A-Z, 0-9 and '_'"),
        ("SERVICE_1", "is service-1's own key already"),
    ],
)
def test_bad_legacy_keys_are_refused_before_anything_is_written(
    run_cli: CliRunner, tmp_path: Path, key: str, message: str
) -> None:
    code, err = publish(run_cli, tmp_path, "--legacy-key", key)
    assert code == 2
    assert message in err
    assert not (tmp_path / "output").exists()
