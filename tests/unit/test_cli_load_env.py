"""load-env: deploy jobs turn imported env.groovy files into Terraform and shell inputs."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from pipelinelib.formats import groovy
from pipelinelib.model import ServiceBuild, clean_text
from tests.conftest import CliRunner
from tests.fakes.hostile import corpus


def _imports(tmp_path: Path) -> list[Path]:
    a = tmp_path / "service1.env.groovy"
    a.write_text(
        groovy.render_env_groovy(
            [ServiceBuild(name="service1", build=90, commit_message="it's $(x)")]
        )
    )
    b = tmp_path / "order-api.env.groovy"
    b.write_text(groovy.render_env_groovy([ServiceBuild(name="order-api", build=12)]))
    c = tmp_path / "legacy.env.groovy"
    c.write_text("env.SERVICE2_BUILD=7\n")
    return [a, b, c]


def test_tfvars_json_names_services_by_their_real_names(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli(["load-env", *map(str, _imports(tmp_path))])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "service_builds": {"order-api": "12", "service1": "90", "service2": "7"}
    }


def test_terraform_args_are_one_shell_word(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli(["load-env", "--format", "terraform-args", *map(str, _imports(tmp_path))])
    assert result.exit_code == 0, result.stderr
    assert shlex.split(result.stdout) == [
        '-var=service_builds={"order-api":"12","service1":"90","service2":"7"}'
    ]


def test_shell_output_evaluates_to_the_exact_values_and_runs_nothing(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    values = [clean_text(v) for v in corpus() if "\x00" not in v][:150]
    builds = [
        ServiceBuild(name=f"s{i}", build=i + 1, commit_message=v) for i, v in enumerate(values)
    ]
    path = tmp_path / "all.env.groovy"
    path.write_text(groovy.render_env_groovy(builds))
    result = run_cli(["load-env", "--format", "shell", str(path)], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    script = result.stdout + "".join(
        f'printf "%s\\0" "$S{i}_COMMIT_MSG"\n' for i in range(len(values))
    )
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, check=True)
    assert done.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1] == values
    assert not list(Path("/tmp").glob("PWNED-MARKER*"))


def test_json_prints_every_variable(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli(["load-env", "--format", "json", str(_imports(tmp_path)[0])])
    assert json.loads(result.stdout) == {
        "SERVICE1_BUILD": "90",
        "SERVICE1_COMMIT_MSG": "it's $(x)",
        "SERVICE1_SERVICE": "service1",
    }


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        ("env.A = run()", 2, "x.env.groovy:1: expected a quoted string or a number"),
        ("env.S_BUILD = 'ninety'", 2, "S_BUILD must be a build number"),
    ],
)
def test_bad_files_are_clear_errors(
    run_cli: CliRunner, tmp_path: Path, content: str, code: int, message: str
) -> None:
    path = tmp_path / "x.env.groovy"
    path.write_text(content)
    result = run_cli(["load-env", str(path)])
    assert result.exit_code == code
    assert message in result.stderr


def test_conflicting_values_across_files_are_refused(run_cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "a.env.groovy").write_text("env.S_BUILD=1\n")
    (tmp_path / "b.env.groovy").write_text("env.S_BUILD=2\n")
    result = run_cli(["load-env", str(tmp_path / "a.env.groovy"), str(tmp_path / "b.env.groovy")])
    assert result.exit_code == 2
    assert "S_BUILD is '1'" in result.stderr


def test_missing_file(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli(["load-env", str(tmp_path / "nope.env.groovy")])
    assert result.exit_code == 7
    assert "no such file" in result.stderr


def test_shell_exports_only_service_variables_of_a_hostile_file(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "service1.env.groovy"
    path.write_text(
        "env.SERVICE1_BUILD = '90'\n"
        "env.SERVICE1_SERVICE = 'service1'\n"
        "env.PATH = '/tmp/evil:/usr/bin'\n"
        "env.LD_PRELOAD = '/tmp/evil.so'\n"
        "env.BASH_ENV = '/tmp/evil.sh'\n"
        "env.ORPHAN_IMAGE = 'x:1'\n"
    )
    result = run_cli(["load-env", "--format", "shell", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "export SERVICE1_BUILD=90\nexport SERVICE1_SERVICE=service1\n"
    assert "BASH_ENV, LD_PRELOAD, ORPHAN_IMAGE, PATH" in result.stderr


@pytest.mark.parametrize(
    "build", ["99999999999999999999", "2147483648", "0", "00000000000000000000000000000001"]
)
@pytest.mark.parametrize("fmt", ["shell", "tfvars-json", "terraform-args", "json"])
def test_build_numbers_out_of_range_are_refused_in_every_format(
    run_cli: CliRunner, tmp_path: Path, build: str, fmt: str
) -> None:
    path = tmp_path / "service1.env.groovy"
    path.write_text(f"env.SERVICE1_BUILD = {build}\n")
    result = run_cli(["load-env", "--format", fmt, str(path)])
    if fmt == "json":  # json prints the file's variables as text: nothing is evaluated
        assert result.exit_code == 0
        return
    assert result.exit_code == 2, result.stdout
    assert "SERVICE1_BUILD" in result.stderr


def test_shell_values_are_checked_like_the_model(run_cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "service1.env.groovy"
    path.write_text("env.SERVICE1_BUILD = '9'\nenv.SERVICE1_IMAGE = '$(reboot)'\n")
    result = run_cli(["load-env", "--format", "shell", str(path)])
    assert result.exit_code == 2
    assert "invalid image" in result.stderr


def test_shell_commit_messages_fit_one_environment_variable(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    from pipelinelib.textfit import MAX_ARG_STRLEN

    path = tmp_path / "service1.env.groovy"  # a legacy, hand-written file may hold anything
    path.write_text("env.SERVICE1_BUILD = 9\nenv.SERVICE1_COMMIT_MSG = '" + "x" * 200_000 + "'\n")
    result = run_cli(["load-env", "--format", "shell", str(path)], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    done = subprocess.run(  # eval'd as documented; env(1) is exec'd with the variable
        ["bash", "-s"],
        input=(result.stdout + 'env | grep "^SERVICE1_COMMIT_MSG=" | wc -c\n').encode(),
        capture_output=True,
        check=True,
    )
    assert int(done.stdout) <= MAX_ARG_STRLEN
    assert int(done.stdout) > MAX_ARG_STRLEN - 200


@pytest.mark.parametrize(
    ("file_name", "content", "service"),
    [
        ("order-api.env.groovy", "env.ORDER_API_BUILD=41\n", "order-api"),
        ("service-1.env.groovy", "env.SERVICE1_BUILD=41\n", "service-1"),
        ("order_api.env.groovy", "env.ORDER_API_BUILD=41\n", "order_api"),
        ("a-b-c.env.groovy", "env.A_B_C_BUILD=41\n", "a-b-c"),
        ("a-b-c.env.groovy", "env.ABC_BUILD=41\n", "a-b-c"),
        ("order-api.env.groovy", "env.BILLING_BUILD=41\n", "billing"),  # key is not the file
        ("imports.env.groovy", "env.ORDER_API_BUILD=41\n", "order_api"),
        # an explicit _SERVICE always wins over the file name
        ("order-api.env.groovy", "env.ORDER_API_BUILD=41\nenv.ORDER_API_SERVICE='x-y'\n", "x-y"),
    ],
)
def test_legacy_files_are_named_by_their_file_name_when_the_key_matches(
    run_cli: CliRunner, tmp_path: Path, file_name: str, content: str, service: str
) -> None:
    path = tmp_path / file_name
    path.write_text(content)
    result = run_cli(["load-env", str(path)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"service_builds": {service: "41"}}
