"""publish-artifact as a Jenkins service build job runs it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from pipelinelib.formats import groovy
from tests.conftest import CliRunner

IMAGE = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1:90"
DIGEST = "sha256:" + "ab" * 32


def test_writes_env_groovy_and_manifest_from_jenkins_environment_and_git(
    run_cli: CliRunner, git_repo: Callable[[str], Path]
) -> None:
    repo = git_repo("Fix 'quoted' login ${not interpolated}\n\nDetails")
    result = run_cli(
        [
            "publish-artifact",
            "--service",
            "service1",
            "--image",
            IMAGE,
            "--digest",
            DIGEST,
            "--no-register",
        ],
        cwd=repo,
        env={
            "BUILD_NUMBER": "90",
            "JOB_NAME": "team/service1-build",
            "BUILD_URL": "https://ci/job/90/",
        },
    )
    assert result.exit_code == 0, result.stderr
    env = groovy.parse_env_groovy((repo / "output" / "service1.env.groovy").read_text())
    assert env["SERVICE1_BUILD"] == "90"
    assert env["SERVICE1_IMAGE"] == IMAGE
    assert env["SERVICE1_DIGEST"] == DIGEST
    assert len(env["SERVICE1_COMMIT"]) == 40
    assert env["SERVICE1_COMMIT_MSG"] == "Fix 'quoted' login ${not interpolated}\n\nDetails"
    manifest = json.loads((repo / "output" / "service1.manifest.json").read_text())
    # The commit's time as git records it (the start of the lead time for changes), in UTC.
    committed = subprocess.run(
        ["git", "log", "-1", "--format=%cI"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    commit_time = manifest["services"]["service1"].pop("commit_time")
    assert datetime.fromisoformat(commit_time) == datetime.fromisoformat(committed)
    assert commit_time.endswith("Z")
    assert manifest == {
        "job": "team/service1-build",
        "number": 90,
        "display_name": "Fix 'quoted' login ${not interpolated}\n\nDetails",
        "result": "SUCCESS",
        "environment": None,
        "source": None,
        "url": "https://ci/job/90/",
        "services": {
            "service1": {
                "build": 90,
                "image": IMAGE,
                "digest": DIGEST,
                "commit": env["SERVICE1_COMMIT"],
                "commit_message": env["SERVICE1_COMMIT_MSG"],
            }
        },
    }
    assert "wrote output/service1.env.groovy" in result.stdout


def test_flags_beat_the_environment(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli(
        [
            "publish-artifact",
            "--service",
            "s",
            "--build",
            "7",
            "--job",
            "j",
            "--commit",
            "a" * 40,
            "--message",
            "m",
            "--no-register",
            "--output-dir",
            str(tmp_path / "o"),
            "--json",
        ],
        env={"BUILD_NUMBER": "90", "JOB_NAME": "other"},
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["job"], data["number"]) == ("j", 7)


def test_a_commit_message_with_invalid_utf8_is_published_not_refused(
    run_cli: CliRunner, git_repo: Callable[[str], Path]
) -> None:
    # surrogateescape: the raw byte 0xff reaches git. git re-encodes the log for output; whatever
    # bytes it prints, invalid UTF-8 among them becomes U+FFFD and the publish succeeds.
    repo = git_repo("bad \udcff byte")
    result = run_cli(
        ["publish-artifact", "--service", "s", "--build", "1", "--job", "j", "--no-register"],
        cwd=repo,
    )
    assert result.exit_code == 0, result.stderr
    printed = (
        subprocess.run(
            ["git", "log", "-1", "--no-merges", "--format=%B"],
            cwd=repo,
            capture_output=True,
            check=True,
        )
        .stdout.decode("utf-8", "replace")
        .strip()
    )
    env = groovy.parse_env_groovy((repo / "output" / "s.env.groovy").read_text())
    assert env["S_COMMIT_MSG"] == printed
    assert env["S_COMMIT_MSG"].startswith("bad ") and env["S_COMMIT_MSG"].endswith(" byte")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--service", "Service_1", "--build", "1"], 2, "invalid service name 'Service_1'"),
        (["--service", "../etc", "--build", "1"], 2, "invalid service name"),
        (["--service", "s", "--build", "ninety"], 2, "build number must be a positive integer"),
        (["--service", "s", "--build", "0"], 2, "between 1 and 2147483647"),
        (["--service", "s", "--build", "99999999999"], 2, "larger than 2147483647"),
        (["--service", "s"], 2, "no build number: pass --build or set BUILD_NUMBER"),
        (["--service", "s", "--build", "1", "--digest", "md5"], 2, "invalid digest"),
        (["--build", "1"], 2, "Missing option '--service'"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_code(
    run_cli: CliRunner, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result = run_cli(
        [
            "publish-artifact",
            "--job",
            "j",
            "--commit",
            "a" * 40,
            "--message",
            "m",
            "--no-register",
            *args,
        ],
        cwd=tmp_path,
    )
    assert result.exit_code == code
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "output").exists()


def test_unwritable_output_directory_is_a_clear_error(run_cli: CliRunner, tmp_path: Path) -> None:
    blocker = tmp_path / "output"
    blocker.write_text("a file where the directory should be")
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
            "--no-register",
            "--output-dir",
            str(blocker / "sub"),
        ],
    )
    assert result.exit_code == 7
    assert result.stderr.startswith("error: cannot create directory")


def test_outside_a_git_repository_without_commit_and_message(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    result = run_cli(
        ["publish-artifact", "--service", "s", "--build", "1", "--job", "j", "--no-register"],
        cwd=tmp_path,
        env={"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)},
    )
    assert result.exit_code == 6
    assert "not a git repository" in result.stderr
    assert "pass --commit and --message" in result.stderr


def test_set_display_name_print_is_the_trimmed_commit_message(
    run_cli: CliRunner, git_repo: Callable[[str], Path]
) -> None:
    repo = git_repo("\n  Fix login\n\nBody  \n\n")
    result = run_cli(["set-display-name", "--print"], cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Fix login\n\nBody\n"
