"""orchestrate: the planned commands, the work dir and every refusal, against a recording fake."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from pipelinelib import orchestrate
from pipelinelib.errors import (
    ConfirmationRequiredError,
    InvalidInputError,
    InvalidNameError,
    NotFoundError,
)
from tests.conftest import CliRunner
from tests.fakes.hostile import MARKER
from tests.fixtures.terraform_stacks import FakeTerraform, snapshot

REGION = "ap-southeast-2"


def write_env(directory: Path, service: str, build: str, key: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    key = key or service.upper().replace("-", "_")
    path = directory / f"{service}.env.groovy"
    path.write_text(
        f"env.{key}_SERVICE = '{service}'\nenv.{key}_BUILD = '{build}'\n", encoding="utf-8"
    )
    return path


def orchestrate_args(root: Path, *args: str) -> list[str]:
    return ["orchestrate", *args, "--root", str(root)]


# --- the commands each CMD runs ---------------------------------------------------------------


def test_plan_runs_get_then_plan_with_region_and_var_file(
    run_cli: CliRunner, stack_root: Path, fake_terraform: FakeTerraform
) -> None:
    done = run_cli(orchestrate_args(stack_root, "plan", "render-test", REGION))
    assert done.exit_code == 0, done.stderr
    calls = fake_terraform.calls()
    work = stack_root / ".work" / REGION / "render-test"
    config = stack_root / "config" / REGION / "render-test"
    assert [c["argv"] for c in calls] == [
        ["get"],
        [
            "plan",
            "-input=false",
            "-var",
            f"region={REGION}",
            f"-var-file={config}/variables.tfvars",
        ],
    ]
    assert {c["cwd"] for c in calls} == {str(work)}
    assert {c["TF_IN_AUTOMATION"] for c in calls} == {"1"}
    assert {c["TF_INPUT"] for c in calls} == {"0"}


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("init", [["init", "-input=false"]]),
        ("apply", [["get"], ["apply", "-input=false", "-auto-approve", "VARS"]]),
        # The stack declares `destroying`: a destroy needs no builds.
        ("destroy", [["get"], ["destroy", "-input=false", "-auto-approve", "VARS", "DESTROYING"]]),
        ("plan-destroy", [["get"], ["plan", "-destroy", "-input=false", "VARS", "DESTROYING"]]),
        ("output", [["output"]]),
        ("validate", [["get"], ["validate"]]),
    ],
)
def test_each_command(
    command: str,
    expected: list[list[str]],
    run_cli: CliRunner,
    stack_root: Path,
    fake_terraform: FakeTerraform,
) -> None:
    done = run_cli(orchestrate_args(stack_root, command, "render-test", REGION))
    assert done.exit_code == 0, done.stderr
    var_file = f"-var-file={stack_root}/config/{REGION}/render-test/variables.tfvars"
    want = []
    for argv in expected:
        if argv[-1] == "DESTROYING":
            argv = [*argv[:-1], "-var", "destroying=true"]
        if "VARS" in argv:
            at = argv.index("VARS")
            argv = [*argv[:at], "-var", f"region={REGION}", var_file, *argv[at + 1 :]]
        want.append(argv)
    assert [c["argv"] for c in fake_terraform.calls()] == want


def test_extra_args_after_double_dash_are_separate_argv_items(
    run_cli: CliRunner, stack_root: Path, fake_terraform: FakeTerraform
) -> None:
    done = run_cli(
        [
            *orchestrate_args(stack_root, "plan", "render-test", REGION),
            "--",
            "-var",
            "default_build=latest",
            "-target=module.container_definitions",
            "-lock-timeout=60s",
        ]
    )
    assert done.exit_code == 0, done.stderr
    argv = fake_terraform.calls()[-1]["argv"]
    assert isinstance(argv, list)
    assert argv[-4:] == [
        "-var",
        "default_build=latest",
        "-target=module.container_definitions",
        "-lock-timeout=60s",
    ]


def test_terraform_exit_code_and_output_pass_through(
    stack_root: Path, fake_terraform: FakeTerraform
) -> None:
    env = {**os.environ, "FAKE_TERRAFORM_EXIT": "3"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelinelib",
            *orchestrate_args(stack_root, "init", "render-test", REGION),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 3
    assert "fake terraform init" in done.stdout
    assert "fake terraform stderr line" in done.stderr
    assert done.stderr.splitlines()[-1].startswith("error: terraform init of render-test failed")
    assert "exit code 3" in done.stderr


def test_library_streams_output_lines(stack_root: Path, fake_terraform: FakeTerraform) -> None:
    planned = orchestrate.plan_orchestration(
        "plan", "render-test", REGION, root=stack_root, terraform=str(fake_terraform.path)
    )
    lines: list[str] = []
    orchestrate.execute(planned, output=lines.append)
    assert "fake terraform plan\n" in lines
    assert "fake terraform stderr line\n" in lines


# --- the work dir -------------------------------------------------------------------------------


def test_work_dir_is_assembled_and_sources_untouched(
    run_cli: CliRunner, stack_root: Path, fake_terraform: FakeTerraform, tmp_path: Path
) -> None:
    before = snapshot(stack_root)
    imports = tmp_path / "import"
    write_env(imports, "service1", "90")
    write_env(imports, "order-api", "7")
    done = run_cli(
        orchestrate_args(stack_root, "plan", "render-test", REGION, "--import-dir", str(imports))
    )
    assert done.exit_code == 0, done.stderr
    assert snapshot(stack_root) == before
    work = stack_root / ".work" / REGION / "render-test"
    assert (work / "main.tf").read_bytes() == (stack_root / "src/render/main.tf").read_bytes()
    assert (work / "tf-config.tf").read_bytes() == (
        stack_root / "config" / REGION / "render-test" / "tf-config.tf"
    ).read_bytes()
    modules = work.parent / "modules"
    assert modules.is_symlink()
    assert (modules / "container-definitions" / "main.tf").is_file()
    assert json.loads((work / orchestrate.BUILDS_FILE).read_text()) == {
        "service_builds": {"order-api": "7", "service1": "90"}
    }


def test_stale_files_and_builds_are_removed_on_the_next_run(
    stack_root: Path, fake_terraform: FakeTerraform, tmp_path: Path
) -> None:
    extra = stack_root / "src" / "render" / "extra.tf"
    extra.write_text("# extra\n")
    imports = tmp_path / "import"
    write_env(imports, "service1", "90")
    first = orchestrate.plan_orchestration(
        "plan",
        "render-test",
        REGION,
        root=stack_root,
        service_builds={"service1": "90"},
        terraform=str(fake_terraform.path),
    )
    orchestrate.execute(first)
    work = first.stack.work_dir
    (work / "terraform.tfstate").write_text("{}")  # terraform's own files stay
    assert (work / "extra.tf").exists() and (work / orchestrate.BUILDS_FILE).exists()
    extra.unlink()
    second = orchestrate.plan_orchestration(
        "plan", "render-test", REGION, root=stack_root, terraform=str(fake_terraform.path)
    )
    orchestrate.execute(second)
    assert not (work / "extra.tf").exists()
    assert not (work / orchestrate.BUILDS_FILE).exists()
    assert (work / "terraform.tfstate").exists()


def test_hostile_import_dir_path_is_data_not_shell(
    run_cli: CliRunner, stack_root: Path, fake_terraform: FakeTerraform, tmp_path: Path
) -> None:
    imports = tmp_path / f"imp 'q' \"d\" $(touch {MARKER}) `x`; y"
    write_env(imports, "service1", "90")
    done = run_cli(
        orchestrate_args(stack_root, "plan", "render-test", REGION, "--import-dir", str(imports)),
        cwd=tmp_path,
    )
    assert done.exit_code == 0, done.stderr
    assert not (tmp_path / MARKER).exists()
    work = stack_root / ".work" / REGION / "render-test"
    builds = json.loads((work / orchestrate.BUILDS_FILE).read_text())
    assert builds == {"service_builds": {"service1": "90"}}
    assert all(str(imports) not in " ".join(c["argv"]) for c in fake_terraform.calls())  # type: ignore[arg-type]


# --- dry run and docker -------------------------------------------------------------------------


def test_dry_run_prints_exact_commands_and_runs_nothing(
    run_cli: CliRunner, stack_root: Path, fake_terraform: FakeTerraform
) -> None:
    before = snapshot(stack_root)
    done = run_cli(
        [
            *orchestrate_args(stack_root, "apply", "render-test", REGION, "--dry-run"),
            "--",
            "-var",
            "default_build=latest",
        ]
    )
    assert done.exit_code == 0, done.stderr
    assert fake_terraform.calls() == []
    assert not (stack_root / ".work").exists()
    assert snapshot(stack_root) == before
    commands = [line for line in done.stdout.splitlines() if not line.startswith("#")]
    work = stack_root / ".work" / REGION / "render-test"
    var_file = stack_root / "config" / REGION / "render-test" / "variables.tfvars"
    prefix = f"cd {shlex.quote(str(work))} && TF_INPUT=0 TF_IN_AUTOMATION=1 "
    assert commands == [
        prefix + shlex.join([str(fake_terraform.path), "get"]),
        prefix
        + shlex.join(
            [
                str(fake_terraform.path),
                "apply",
                "-input=false",
                "-auto-approve",
                "-var",
                f"region={REGION}",
                f"-var-file={var_file}",
                "-var",
                "default_build=latest",
            ]
        ),
    ]


def test_dry_run_quotes_a_root_with_spaces(
    run_cli: CliRunner, stack_root: Path, fake_terraform: FakeTerraform, tmp_path: Path
) -> None:
    spaced = tmp_path / "my tf 'root'"
    stack_root.rename(spaced)
    done = run_cli(orchestrate_args(spaced, "plan", "render-test", REGION, "--dry-run"))
    assert done.exit_code == 0, done.stderr
    last = done.stdout.splitlines()[-1]
    _, _, command = last.partition(" && ")
    argv = shlex.split(command)
    assert argv[-1] == f"-var-file={spaced}/config/{REGION}/render-test/variables.tfvars"


def test_docker_runner_builds_the_equivalent_docker_run(stack_root: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".ssh").mkdir()
    (home / ".ssh" / "bastion.pem").write_text("key")
    planned = orchestrate.plan_orchestration(
        "apply",
        "render-test",
        REGION,
        root=stack_root,
        runner="docker",
        service_builds={"service1": "90"},
        home=home,
        user="1000:1000",
        extra_args=["-lock-timeout=60s"],
    )
    work = stack_root / ".work" / REGION / "render-test"
    config = stack_root / "config" / REGION / "render-test"
    argv = list(planned.commands[-1].argv)
    assert argv[:5] == ["docker", "run", "--rm", "--user", "1000:1000"]
    mounts = [argv[i + 1] for i, a in enumerate(argv) if a == "-v"]
    assert mounts == [
        f"{work}:/src",
        f"{stack_root}/src/modules:/modules:ro",
        f"{config}/variables.tfvars:/src/variables.tfvars:ro",
        f"{config}/tf-config.tf:/src/tf-config.tf:ro",
        f"{home}/.aws:/home/terraform/.aws:ro",
        f"{home}/.ssh/bastion.pem:/private-key:ro",
    ]
    envs = [argv[i + 1] for i, a in enumerate(argv) if a == "-e"]
    assert "AWS_SECRET_ACCESS_KEY" in envs and "AWS_ACCESS_KEY_ID" in envs
    assert all("=" not in e for e in envs if e.startswith("AWS_"))  # names only, never values
    image = argv.index(orchestrate.DOCKER_IMAGE)
    assert orchestrate.DOCKER_IMAGE.startswith("hashicorp/terraform:1.")
    assert argv[image + 1 :] == [
        "apply",
        "-input=false",
        "-auto-approve",
        "-var",
        f"region={REGION}",
        "-var-file=/src/variables.tfvars",
        "-lock-timeout=60s",
    ]
    assert argv[argv.index("-w") + 1] == "/src"
    assert [c.argv[-1] for c in planned.commands] == ["get", "-lock-timeout=60s"]


def test_docker_dry_run_uses_the_callers_uid(
    run_cli: CliRunner, stack_root: Path, fake_terraform: FakeTerraform
) -> None:
    done = run_cli(
        orchestrate_args(
            stack_root, "plan", "render-test", REGION, "--runner", "docker", "--dry-run"
        )
    )
    assert done.exit_code == 0, done.stderr
    assert f"--user {os.getuid()}:{os.getgid()}" in done.stdout
    assert fake_terraform.calls() == []


# --- refusals: a clear error and terraform never invoked ------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["deploy", "render-test", REGION], 2, "unknown command 'deploy'"),
        (["plan", "nosuch", REGION], 3, "unknown stack 'nosuch'"),
        (["plan", "render-test", "us-east-1"], 3, "unknown region 'us-east-1'"),
        (["plan", "render-test", "eu-west-1"], 3, "has no config for eu-west-1"),
        (["plan", "render-test"], 3, "without a region"),
        (["plan", "../render-test", REGION], 2, "invalid stack name"),
        (["plan", "render-test/../x", REGION], 2, "invalid stack name"),
        (["plan", ".work", REGION], 2, "invalid stack name"),
        (["plan", "modules", REGION], 2, "'modules' is the module folder"),
        (["plan", "render-test", "../ap-southeast-2"], 2, "invalid region"),
        (
            ["apply", "render-live", REGION],
            2,
            "render-live is a live stack: apply needs --confirm-live",
        ),
        (["destroy", "render-live", REGION], 2, "needs --confirm-live"),
        (["apply", "render-live", REGION, "--dry-run"], 2, "needs --confirm-live"),
        (["apply", "render-live", REGION, "--runner", "docker"], 2, "needs --confirm-live"),
    ],
)
def test_bad_input_is_refused_before_terraform(
    args: list[str],
    code: int,
    message: str,
    run_cli: CliRunner,
    stack_root: Path,
    fake_terraform: FakeTerraform,
) -> None:
    done = run_cli(orchestrate_args(stack_root, *args))
    assert done.exit_code == code, done.stderr
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert done.stderr.count("\n") == 1
    assert fake_terraform.calls() == []
    assert not (stack_root / ".work").exists()


def test_errors_list_what_exists(
    run_cli: CliRunner, stack_root: Path, fake_terraform: FakeTerraform
) -> None:
    stack = run_cli(orchestrate_args(stack_root, "plan", "nosuch", REGION)).stderr
    assert "has render (" in stack and "modules" not in stack.split("has")[-1]
    region = run_cli(orchestrate_args(stack_root, "plan", "render-test", "xx-nowhere-1")).stderr
    assert "has ap-southeast-2, eu-west-1" in region


def test_missing_config_file_is_named(
    run_cli: CliRunner, stack_root: Path, fake_terraform: FakeTerraform
) -> None:
    (stack_root / "config" / REGION / "render-test" / "variables.tfvars").unlink()
    done = run_cli(orchestrate_args(stack_root, "plan", "render-test", REGION))
    assert done.exit_code == 3
    assert "missing: variables.tfvars" in done.stderr
    assert fake_terraform.calls() == []


def test_live_stack_applies_with_confirmation(
    run_cli: CliRunner, stack_root: Path, fake_terraform: FakeTerraform
) -> None:
    done = run_cli(orchestrate_args(stack_root, "apply", "render-live", REGION, "--confirm-live"))
    assert done.exit_code == 0, done.stderr
    assert fake_terraform.calls()[-1]["argv"][:3] == ["apply", "-input=false", "-auto-approve"]  # type: ignore[index]
    plan = run_cli(orchestrate_args(stack_root, "plan-destroy", "render-live", REGION))
    assert plan.exit_code == 0, plan.stderr


def test_confirmation_is_checked_before_the_library_touches_files(tmp_path: Path) -> None:
    with pytest.raises(ConfirmationRequiredError) as info:
        orchestrate.plan_orchestration("destroy", "x-live", REGION, root=tmp_path / "missing")
    assert info.value.exit_code == 2


HOSTILE_VARS = [
    "name=it's",
    'name="quoted"',
    "name=two words",
    f"name=$(touch {MARKER})",
    f"name=`touch {MARKER}`",
    "name=a;b",
    "name=line\nbreak",
    "name=${var.x}",
]


@pytest.mark.parametrize("assignment", HOSTILE_VARS)
def test_hostile_var_values_are_refused(
    assignment: str,
    run_cli: CliRunner,
    stack_root: Path,
    fake_terraform: FakeTerraform,
    tmp_path: Path,
) -> None:
    for form in (["-var", assignment], [f"-var={assignment}"]):
        done = run_cli(
            [*orchestrate_args(stack_root, "plan", "render-test", REGION), "--", *form],
            cwd=tmp_path,
        )
        assert done.exit_code == 2, done.stderr
        assert "put the value in variables.tfvars" in done.stderr
    assert fake_terraform.calls() == []
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-var", "region=us-east-1"], "set by orchestrate"),
        (["-var=service_builds={}"], "set by orchestrate"),
        (["-var", "novalue"], "expects NAME=VALUE"),
        (["-var", "bad name=1"], "expects NAME=VALUE"),
        (["-var"], "needs a NAME=VALUE"),
    ],
)
def test_malformed_vars_are_refused(
    args: list[str], message: str, stack_root: Path, fake_terraform: FakeTerraform
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        orchestrate.plan_orchestration(
            "plan", "render-test", REGION, root=stack_root, extra_args=args
        )
    assert fake_terraform.calls() == []


@pytest.mark.parametrize(
    "build",
    ["90' + 'x", "9 0", "$(touch " + MARKER + ")", "90\\", "`id`"],
)
def test_hostile_builds_in_import_dir_are_refused(
    build: str,
    run_cli: CliRunner,
    stack_root: Path,
    fake_terraform: FakeTerraform,
    tmp_path: Path,
) -> None:
    imports = tmp_path / "import"
    imports.mkdir()
    value = build.replace("\\", "\\\\").replace("'", "\\'")
    (imports / "service1.env.groovy").write_text(
        f"env.SERVICE1_SERVICE = 'service1'\nenv.SERVICE1_BUILD = '{value}'\n"
    )
    done = run_cli(
        orchestrate_args(stack_root, "plan", "render-test", REGION, "--import-dir", str(imports)),
        cwd=tmp_path,
    )
    assert done.exit_code == 2, done.stderr
    assert "SERVICE1_BUILD must be a build number" in done.stderr
    assert fake_terraform.calls() == []
    assert not (tmp_path / MARKER).exists()


def test_missing_or_empty_import_dir(
    run_cli: CliRunner, stack_root: Path, fake_terraform: FakeTerraform, tmp_path: Path
) -> None:
    missing = run_cli(
        orchestrate_args(
            stack_root, "plan", "render-test", REGION, "--import-dir", str(tmp_path / "$(nope)")
        )
    )
    assert missing.exit_code == 3 and "does not exist" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = run_cli(
        orchestrate_args(
            stack_root, "plan", "render-test", REGION, "--import-dir", str(tmp_path / "empty")
        )
    )
    assert empty.exit_code == 3 and "no manifest.json and no *.env.groovy files" in empty.stderr
    assert fake_terraform.calls() == []


def test_terraform_binary_must_exist(
    run_cli: CliRunner, stack_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    done = run_cli(orchestrate_args(stack_root, "plan", "render-test", REGION))
    assert done.exit_code == 3
    assert "terraform is not installed" in done.stderr
    monkeypatch.setenv("PIPELINELIB_TERRAFORM", str(tmp_path / "nope"))
    done = run_cli(orchestrate_args(stack_root, "plan", "render-test", REGION))
    assert done.exit_code == 3 and "PIPELINELIB_TERRAFORM" in done.stderr


def test_terraform_found_on_path(
    run_cli: CliRunner,
    stack_root: Path,
    fake_terraform: FakeTerraform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PIPELINELIB_TERRAFORM")
    monkeypatch.setenv(
        "PATH", f"{fake_terraform.path.parent}:{Path(sys.executable).parent}:/usr/bin:/bin"
    )
    done = run_cli(orchestrate_args(stack_root, "init", "render-test", REGION))
    assert done.exit_code == 0, done.stderr
    assert fake_terraform.calls()[0]["argv"] == ["init", "-input=false"]


def test_stack_without_region_uses_config_stack(
    stack_root: Path, fake_terraform: FakeTerraform
) -> None:
    (stack_root / "config" / "render-test").mkdir()
    for name in ("tf-config.tf", "variables.tfvars"):
        (stack_root / "config" / "render-test" / name).write_text("\n")
    planned = orchestrate.plan_orchestration(
        "plan", "render-test", root=stack_root, terraform=str(fake_terraform.path)
    )
    assert planned.stack.work_dir == stack_root / ".work" / "_noregion" / "render-test"
    assert not any(a.startswith("region=") for a in planned.commands[-1].argv)


def test_stack_names_are_validated() -> None:
    for bad in ["", "..", "../x", "a/b", "-rf", "x" * 101, "a b", "a\nb", ".hidden"]:
        with pytest.raises(InvalidNameError):
            orchestrate.validate_stack_name(bad)
    assert orchestrate.validate_stack_name("appcluster-live") == "appcluster-live"


def test_unknown_root(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        orchestrate.resolve_stack(tmp_path / "none", "s", REGION)


def test_relative_var_file_is_made_absolute_for_the_work_dir(
    run_cli: CliRunner, stack_root: Path, fake_terraform: FakeTerraform, tmp_path: Path
) -> None:
    (tmp_path / "extra vars.tfvars").write_text("x = 1\n")
    done = run_cli(
        [
            *orchestrate_args(stack_root, "plan", "render-test", REGION),
            "--",
            "-var-file=extra vars.tfvars",
            "-var-file",
            "sub/other.tfvars",
        ],
        cwd=tmp_path,
    )
    assert done.exit_code == 0, done.stderr
    argv = fake_terraform.calls()[-1]["argv"]
    assert isinstance(argv, list)
    assert argv[-3:] == [
        f"-var-file={tmp_path}/extra vars.tfvars",
        "-var-file",
        f"{tmp_path}/sub/other.tfvars",
    ]


def test_docker_runner_refuses_extra_var_files(stack_root: Path) -> None:
    with pytest.raises(InvalidInputError, match="not mounted"):
        orchestrate.plan_orchestration(
            "plan",
            "render-test",
            REGION,
            root=stack_root,
            runner="docker",
            extra_args=["-var-file=x.tfvars"],
        )


def test_state_left_in_sources_never_reaches_the_work_dir(
    stack_root: Path, fake_terraform: FakeTerraform
) -> None:
    source = stack_root / "src" / "render"
    (source / "terraform.tfstate").write_text('{"old": "state"}')
    (source / ".terraform").mkdir()
    (source / ".terraform" / "junk").write_text("x")
    planned = orchestrate.plan_orchestration(
        "plan", "render-test", REGION, root=stack_root, terraform=str(fake_terraform.path)
    )
    assert set(planned.files) == {"main.tf", "tf-config.tf"}
    (source / orchestrate.BUILDS_FILE).write_text("{}")
    with pytest.raises(InvalidInputError, match="generated by --import-dir"):
        orchestrate.plan_orchestration("plan", "render-test", REGION, root=stack_root)


def test_orchestrate_dry_run_loads_no_heavy_library(stack_root: Path) -> None:
    heavy = ["sqlalchemy", "flask", "boto3", "botocore", "jenkins", "requests"]
    code = (
        "import sys\n"
        "from pipelinelib.cli import main\n"
        "try:\n"
        f"    main(['orchestrate', 'plan', 'render-test', {REGION!r}, '--root', {str(stack_root)!r},"
        " '--dry-run'])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == ""


def test_library_validates_builds_it_is_given(stack_root: Path) -> None:
    for builds in ({"service1": "9 0"}, {"service1": "$(x)"}, {"../x": "1"}, {"s": ""}):
        with pytest.raises(InvalidInputError):
            orchestrate.plan_orchestration(
                "plan", "render-test", REGION, root=stack_root, service_builds=builds
            )


def test_unknown_command_is_refused_before_the_import_dir_is_read(
    run_cli: CliRunner, stack_root: Path, fake_terraform: FakeTerraform, tmp_path: Path
) -> None:
    done = run_cli(
        orchestrate_args(
            stack_root, "deploy", "render-test", REGION, "--import-dir", str(tmp_path / "none")
        )
    )
    assert done.exit_code == 2 and "unknown command 'deploy'" in done.stderr
    live = run_cli(
        orchestrate_args(
            stack_root, "apply", "render-live", REGION, "--import-dir", str(tmp_path / "none")
        )
    )
    assert live.exit_code == 2 and "--confirm-live" in live.stderr
    assert fake_terraform.calls() == []


def test_docker_refuses_paths_it_cannot_mount(stack_root: Path, tmp_path: Path) -> None:
    odd = tmp_path / "a:b"
    stack_root.rename(odd)
    with pytest.raises(InvalidInputError, match="cannot mount"):
        orchestrate.plan_orchestration("plan", "render-test", REGION, root=odd, runner="docker")


@pytest.mark.parametrize(
    "planted",
    [
        "main.tf",  # the field report: .work/<region>/<stack>/main.tf -> elsewhere
        orchestrate.BUILDS_FILE,
        "tf-config.tf",
        ".pipelinelib.lock",
        ".pipelinelib-files.json",
    ],
)
def test_a_symlink_planted_in_the_work_dir_is_replaced_never_written_through(
    stack_root: Path, fake_terraform: FakeTerraform, tmp_path: Path, planted: str
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    work = stack_root / ".work" / REGION / "render-test"
    work.mkdir(parents=True)
    (work / planted).symlink_to(victim)
    planned = orchestrate.plan_orchestration(
        "plan",
        "render-test",
        REGION,
        root=stack_root,
        service_builds={"service1": "90"},
        terraform=str(fake_terraform.path),
    )
    orchestrate.execute(planned)
    assert victim.read_text() == "precious\n"
    assert not (work / planted).is_symlink()
    assert (work / "main.tf").read_bytes() == planned.files["main.tf"].read_bytes()


@pytest.mark.parametrize("level", ["stack", "region"])
def test_a_symlinked_work_dir_is_replaced_by_a_real_one(
    stack_root: Path, fake_terraform: FakeTerraform, tmp_path: Path, level: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    region_dir = stack_root / ".work" / REGION
    if level == "stack":
        region_dir.mkdir(parents=True)
        (region_dir / "render-test").symlink_to(elsewhere, target_is_directory=True)
    else:
        (stack_root / ".work").mkdir()
        region_dir.symlink_to(elsewhere, target_is_directory=True)
    planned = orchestrate.plan_orchestration(
        "plan", "render-test", REGION, root=stack_root, terraform=str(fake_terraform.path)
    )
    orchestrate.execute(planned)
    assert list(elsewhere.iterdir()) == []
    assert not region_dir.is_symlink()
    assert (region_dir / "render-test" / "main.tf").is_file()


# --- where a stack's sources come from ----------------------------------------------------------


def _config(root: Path, stack: str, region: str = REGION) -> Path:
    config = root / "config" / region / stack
    config.mkdir(parents=True)
    (config / "tf-config.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    (config / "variables.tfvars").write_text('cluster_name = "x"\n')
    return config


def test_environments_of_a_family_share_one_root(stack_root: Path) -> None:
    for stack in ("render-test", "render-live"):
        resolved = orchestrate.resolve_stack(stack_root, stack, REGION)
        assert resolved.source_dir == stack_root / "src" / "render"
        assert resolved.source_rule == "family render"
        assert resolved.work_dir == stack_root / ".work" / REGION / stack
    assert orchestrate.resolve_stack(stack_root, "render-live", REGION).is_live


def test_adding_an_environment_is_a_config_folder(stack_root: Path, run_cli: CliRunner) -> None:
    _config(stack_root, "render-qa-eu")  # the longest family prefix with a folder wins
    done = run_cli(orchestrate_args(stack_root, "plan", "render-qa-eu", REGION, "--dry-run"))
    assert done.exit_code == 0, done.stderr
    assert f"# stack render-qa-eu: sources {stack_root}/src/render (family render)" in done.stdout
    assert f"# copy {stack_root}/src/render/main.tf -> main.tf" in done.stdout


def test_own_folder_beats_the_family(stack_root: Path) -> None:
    own = stack_root / "src" / "render-test"
    own.mkdir()
    (own / "main.tf").write_text("")
    resolved = orchestrate.resolve_stack(stack_root, "render-test", REGION)
    assert (resolved.source_dir, resolved.source_rule) == (own, "own folder")


def test_a_source_line_names_the_root(stack_root: Path) -> None:
    config = _config(stack_root, "blue")
    (config / "source").write_text("# the render root, whatever the stack is called\nrender\n")
    resolved = orchestrate.resolve_stack(stack_root, "blue", REGION)
    assert resolved.source_dir == stack_root / "src" / "render"
    assert resolved.source_rule == f"named in {config / 'source'}"


@pytest.mark.parametrize(
    ("line", "error", "message"),
    [
        ("../render", InvalidInputError, "must hold one line naming a folder"),
        ("/etc", InvalidInputError, "must hold one line naming a folder"),
        ("modules", InvalidInputError, "must hold one line naming a folder"),
        ("render\nother", InvalidInputError, "must hold one line naming a folder"),
        ("", InvalidInputError, "must hold one line naming a folder"),
        ("nosuch", NotFoundError, "names 'nosuch', but"),
    ],
)
def test_a_bad_source_line_is_refused(
    stack_root: Path, line: str, error: type[Exception], message: str
) -> None:
    (_config(stack_root, "blue") / "source").write_text(line)
    with pytest.raises(error, match=message):
        orchestrate.resolve_stack(stack_root, "blue", REGION)


def test_a_stack_without_sources_lists_the_roots(stack_root: Path) -> None:
    _config(stack_root, "other-test")
    with pytest.raises(NotFoundError, match=r"unknown stack 'other-test': .* has render \("):
        orchestrate.resolve_stack(stack_root, "other-test", REGION)


def test_modules_is_never_a_family(stack_root: Path) -> None:
    _config(stack_root, "modules-test")
    with pytest.raises(NotFoundError, match="unknown stack 'modules-test'"):
        orchestrate.resolve_stack(stack_root, "modules-test", REGION)


# --- images by digest ---------------------------------------------------------------------------

REPO = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com"
DIGEST = "sha256:" + "0f" * 32


def test_manifest_with_digests_renders_repository_at_digest() -> None:
    from pipelinelib.model import ServiceBuild

    refs = orchestrate.image_refs(
        [
            ServiceBuild(name="service1", build=90, image=f"{REPO}/service1:90", digest=DIGEST),
            ServiceBuild(name="order-api", build=7, image=f"{REPO}/team/order-api:7"),
            ServiceBuild(name="legacy", build=3),  # no image recorded: the stack uses its own
            ServiceBuild(name="pinned", build=4, image=f"localhost:5000/pinned:4@{DIGEST}"),
            ServiceBuild(name="untagged", build=5, image="docker.io/library/nginx"),
        ]
    )
    assert refs == {
        "service1": f"{REPO}/service1@{DIGEST}",
        "order-api": f"{REPO}/team/order-api:7",
        "pinned": f"localhost:5000/pinned@{DIGEST}",
        "untagged": "docker.io/library/nginx:5",
    }


def test_conflicting_or_foreign_digests_are_refused() -> None:
    from pipelinelib.model import ServiceBuild

    other = "sha256:" + "1e" * 32
    with pytest.raises(InvalidInputError, match="run verify-images"):
        orchestrate.image_refs(
            [ServiceBuild(name="s", build=1, image=f"{REPO}/s:1@{other}", digest=DIGEST)]
        )
    with pytest.raises(InvalidInputError, match="ECS pins sha256 digests"):
        orchestrate.image_refs(
            [ServiceBuild(name="s", build=1, image=f"{REPO}/s:1", digest="sha512:" + "ab" * 64)]
        )


def _import_manifest(directory: Path, services: dict[str, dict[str, object]]) -> None:
    from pipelinelib.formats import groovy
    from pipelinelib.formats import manifest as manifest_json
    from pipelinelib.model import Manifest, ServiceBuild

    builds = [ServiceBuild.from_dict(name, data) for name, data in services.items()]
    directory.mkdir(parents=True, exist_ok=True)
    for build in builds:
        (directory / f"{build.name}.env.groovy").write_text(groovy.render_env_groovy([build]))
    manifest = Manifest(job="deploy-test", number=12, environment="test", services=builds)
    (directory / "manifest.json").write_text(manifest_json.dumps(manifest))


def _declare_images(stack_root: Path) -> None:
    with (stack_root / "src" / "render" / "main.tf").open("a") as handle:
        handle.write('\nvariable "service_images" {\n  type    = map(string)\n  default = {}\n}\n')


def test_import_dir_images_reach_stacks_that_declare_them(
    stack_root: Path, fake_terraform: FakeTerraform, run_cli: CliRunner, tmp_path: Path
) -> None:
    imports = tmp_path / "import"
    _import_manifest(
        imports,
        {
            "service1": {"build": 90, "image": f"{REPO}/service1:90", "digest": DIGEST},
            "order-api": {"build": 7, "image": f"{REPO}/order-api:7"},
        },
    )
    work = stack_root / ".work" / REGION / "render-test"
    args = orchestrate_args(stack_root, "plan", "render-test", REGION, "--import-dir", str(imports))
    done = run_cli(args)
    assert done.exit_code == 0, done.stderr
    assert not (work / orchestrate.IMAGES_FILE).exists()  # render does not declare it (yet)
    _declare_images(stack_root)
    assert run_cli(args).exit_code == 0
    written = json.loads((work / orchestrate.IMAGES_FILE).read_text())
    assert written == {
        "service_images": {
            "order-api": f"{REPO}/order-api:7",
            "service1": f"{REPO}/service1@{DIGEST}",
        }
    }
    assert json.loads((work / orchestrate.BUILDS_FILE).read_text())["service_builds"] == {
        "order-api": "7",
        "service1": "90",
    }
    # A run without --import-dir never applies old images.
    assert run_cli(orchestrate_args(stack_root, "plan", "render-test", REGION)).exit_code == 0
    assert not (work / orchestrate.IMAGES_FILE).exists()


def test_library_validates_images_it_is_given(stack_root: Path) -> None:
    _declare_images(stack_root)
    for images in ({"service1": "repo:tag; rm -rf /"}, {"service1": "repo"}, {"../x": "r:1"}):
        with pytest.raises(InvalidInputError):
            orchestrate.plan_orchestration(
                "plan", "render-test", REGION, root=stack_root, service_images=images, dry_run=True
            )


def test_service_images_cannot_be_passed_as_a_var(stack_root: Path) -> None:
    with pytest.raises(InvalidInputError, match="set by orchestrate"):
        orchestrate.check_extra_args(["-var", "service_images={}"])


def test_docker_image_is_configurable(stack_root: Path, run_cli: CliRunner) -> None:
    args = orchestrate_args(stack_root, "plan", "render-test", REGION, "--runner", "docker")
    default = run_cli([*args, "--dry-run"])
    assert " hashicorp/terraform:1.11.4 plan " in default.stdout
    chosen = run_cli(
        [*args, "--dry-run"],
        env={"PIPELINELIB_TERRAFORM_IMAGE": "registry.example.com/tools/terraform:1.9.8"},
    )
    assert " registry.example.com/tools/terraform:1.9.8 plan " in chosen.stdout
    bad = run_cli([*args, "--dry-run", "--terraform-image", "x y; rm"])
    assert bad.exit_code == 2 and "is not a docker image reference" in bad.stderr
