"""Job names: every name Jenkins makes is accepted everywhere; what is never a name is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipelinelib.errors import InvalidNameError
from pipelinelib.model import validate_job_name
from tests.conftest import CliRunner

ACCEPTED = [
    "service1-build",
    "team/service1-build",
    "team/service1/feature%2Flogin",  # multibranch: NameEncoder turns '/' into %2F
    "team/service1/bug%23123",  # '#' -> %23
    "team/service1/what%3F",  # '?' -> %3F
    "team/svc/100%25",  # '%' -> %25
    "org/repo/%2E",  # a branch named '.'
    "team/svc/feature%2Fa:b;c&d|e<f>",  # NameEncoder keeps these
    "Team Folder/order api",  # spaces inside
    "équipe/服务/сервис/🚀",  # any Unicode letter or symbol
    'it\'s "quoted"',  # checkGoodName allows quotes
    "x" * 255,
]

REFUSED = [
    ("", "must not be empty"),
    ("a\ud800b", "lone surrogate"),
    ("team/\udfff", "lone surrogate"),
    ("svc\u202egnp.exe", "U+202E"),  # right-to-left override
    ("svc\u2066x\u2069", "U+2066"),  # bidi isolate
    ("s\u200bvc", "U+200B"),  # zero-width space
    ("s\u200dvc", "U+200D"),  # zero-width joiner
    ("\ufeffsvc", "U+FEFF"),  # BOM
    ("s\u2028vc", "U+2028"),  # line separator
    ("a\nb", "U+000A"),
    ("a\x00b", "U+0000"),
    ("a%zz", "'%' is only allowed as an escape"),
    ("a%", "'%' is only allowed as an escape"),
    ("a?b", "'?'"),
    ("a:b", "':'"),  # checkGoodName refuses ':' in a name typed by a person
    ("a#b", "'#'"),
    ("team/%2Fa?b", "'?'"),  # never raw, even in an encoded branch name
    ("a\\b", "'\\\\'"),
    ("a//b", "folder segments"),
    ("team/../x", "folder segments"),
    (" team", "white space"),
    ("x" * 256, "longer than 255"),
]


@pytest.mark.parametrize("name", ACCEPTED)
def test_names_jenkins_makes_are_accepted(name: str) -> None:
    assert validate_job_name(name) == name


@pytest.mark.parametrize(("name", "message"), REFUSED)
def test_what_is_never_a_name_is_refused_clearly(name: str, message: str) -> None:
    with pytest.raises(InvalidNameError, match="job name") as caught:
        validate_job_name(name)
    assert message in str(caught.value)
    str(caught.value).encode("utf-8")  # the message itself is printable and encodable


def test_a_multibranch_build_publishes(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli(
        [
            "publish-artifact",
            "--service=service1",
            "--commit=5f1c0de",
            "--message=Fix login",
            f"--db=sqlite:///{tmp_path}/s.db",
            f"--output-dir={tmp_path / 'output'}",
        ],
        cwd=tmp_path,
        env={"JOB_NAME": "team/service1/feature%2Flogin", "BUILD_NUMBER": "4"},
    )
    assert result.exit_code == 0, result.stderr
    listed = run_cli(
        ["list-builds", "--job=team/service1/feature%2Flogin", f"--db=sqlite:///{tmp_path}/s.db"]
    )
    assert listed.stdout == "4-Fix login\n"


@pytest.mark.parametrize("job", ["a\ud800b", "svc\u202e"])
def test_a_refused_name_leaves_no_artifacts_and_no_record(
    run_cli: CliRunner, tmp_path: Path, job: str
) -> None:
    result = run_cli(
        [
            "publish-artifact",
            "--service=service1",
            "--build=4",
            f"--job={job}",
            "--commit=5f1c0de",
            "--message=Fix login",
            f"--db=sqlite:///{tmp_path}/s.db",
            f"--output-dir={tmp_path / 'output'}",
        ],
        cwd=tmp_path,
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid job name")
    assert not (tmp_path / "output").exists()
    if (tmp_path / "s.db").exists():
        with sqlite3.connect(tmp_path / "s.db") as db:
            assert db.execute("SELECT count(*) FROM builds").fetchone() == (0,)
