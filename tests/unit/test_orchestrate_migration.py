"""orchestrate for a team that still runs the seed's setup: variable checks, the legacy style,
terraform commands passed through, the old wrapper's argument forms. Against the recording fake
terraform; tests/integration/test_migration_e2e.py runs the same tree with real Terraform."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import CliRunner
from tests.fixtures.terraform_stacks import FakeTerraform

SEED_TREE = Path(__file__).resolve().parents[1] / "fixtures" / "seed_layout" / "terraform"
REGION = "ap-southeast-2"
STACK = "shop-test"


@pytest.fixture
def seed_root(tmp_path: Path) -> Path:
    root = tmp_path / "tools" / "terraform"
    shutil.copytree(SEED_TREE, root)
    return root


def legacy_import(directory: Path, **builds: int) -> Path:
    """Env files as the team's service builds wrote them: `env.KEY_BUILD=N`, nothing else."""
    directory.mkdir(parents=True, exist_ok=True)
    for service, build in builds.items():
        name = service.replace("_", "-")
        key = name.upper().replace("-", "_")
        (directory / f"{name}.env.groovy").write_text(
            f"env.{key}_SERVICE = '{name}'\nenv.{key}_BUILD={build}\n", encoding="utf-8"
        )
    return directory


def run(run_cli: CliRunner, root: Path, *args: str) -> tuple[int, str, str]:
    done = run_cli(["orchestrate", "--root", str(root), *args])
    return done.exit_code, done.stdout, done.stderr


def tf_calls(fake: FakeTerraform) -> list[list[str]]:
    return [list(c["argv"]) for c in fake.calls()]  # type: ignore[call-overload]


# --- the silent wrong deploy ---------------------------------------------------------------------


def test_import_dir_against_a_stack_without_service_builds_is_refused_before_terraform(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform, tmp_path: Path
) -> None:
    imports = legacy_import(tmp_path / "import", service_1=91, order_api=7)
    code, _, err = run(run_cli, seed_root, "apply", STACK, REGION, "--import-dir", str(imports))
    assert code == 2
    assert 'does not declare variable "service_builds"' in err
    # Both ways forward are named.
    assert "--builds-style legacy" in err
    assert 'variable "service_builds" { type = map(string) }' in err
    assert tf_calls(fake_terraform) == []
    assert not (seed_root / ".work" / REGION / STACK / "service_builds.auto.tfvars.json").exists()


def test_legacy_style_passes_each_build_as_its_own_variable(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform, tmp_path: Path
) -> None:
    imports = legacy_import(tmp_path / "import", service_1=91, order_api=7)
    code, _, err = run(
        run_cli,
        seed_root,
        "apply",
        STACK,
        REGION,
        "--import-dir",
        str(imports),
        "--builds-style",
        "legacy",
    )
    assert code == 0, err
    apply = tf_calls(fake_terraform)[-1]
    assert apply[:3] == ["apply", "-input=false", "-auto-approve"]
    assert apply[-4:] == ["-var", "order-api-build=7", "-var", "service-1-build=91"]
    work = seed_root / ".work" / REGION / STACK
    assert not (work / "service_builds.auto.tfvars.json").exists()


def test_the_stack_config_file_chooses_the_legacy_style(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform, tmp_path: Path
) -> None:
    (seed_root / "config" / REGION / STACK / "pipelinelib.toml").write_text(
        'builds_style = "legacy"\n', encoding="utf-8"
    )
    imports = legacy_import(tmp_path / "import", service_1=91, order_api=7)
    code, _, err = run(run_cli, seed_root, "plan", STACK, REGION, "--import-dir", str(imports))
    assert code == 0, err
    assert "service-1-build=91" in tf_calls(fake_terraform)[-1]


def test_a_misspelt_stack_setting_is_an_error_not_a_silent_default(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform
) -> None:
    (seed_root / "config" / REGION / STACK / "pipelinelib.toml").write_text(
        'build_style = "legacy"\n', encoding="utf-8"
    )
    code, _, err = run(run_cli, seed_root, "plan", STACK, REGION)
    assert code == 2
    assert "unknown setting(s) build_style" in err


def test_legacy_style_refuses_a_declared_build_the_import_lacks(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform, tmp_path: Path
) -> None:
    # order-api would silently stay at its default "latest".
    imports = legacy_import(tmp_path / "import", service_1=91)
    code, _, err = run(
        run_cli, seed_root, "apply", STACK, REGION, "--import-dir", str(imports),
        "--builds-style", "legacy",
    )  # fmt: skip
    assert code == 2
    assert "declares order-api-build but the import has no build for it" in err
    assert tf_calls(fake_terraform) == []


def test_legacy_style_names_the_undeclared_variable_of_an_unknown_service(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform, tmp_path: Path
) -> None:
    imports = legacy_import(tmp_path / "import", service_1=91, order_api=7, billing=3)
    code, _, err = run(
        run_cli, seed_root, "apply", STACK, REGION, "--import-dir", str(imports),
        "--builds-style", "legacy",
    )  # fmt: skip
    assert code == 2
    assert 'does not declare variable "billing-build"' in err
    assert "order-api-build, service-1-build" in err


def test_a_stack_declaring_service_builds_takes_the_map(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform, tmp_path: Path
) -> None:
    # The migrated stack: one map variable (in a .tf.json file, which is read as well).
    (seed_root / "src" / STACK / "builds.tf.json").write_text(
        json.dumps({"variable": {"service_builds": {"type": "map(string)", "default": {}}}}),
        encoding="utf-8",
    )
    imports = legacy_import(tmp_path / "import", service_1=91, order_api=7)
    code, _, err = run(run_cli, seed_root, "plan", STACK, REGION, "--import-dir", str(imports))
    assert code == 0, err
    written = seed_root / ".work" / REGION / STACK / "service_builds.auto.tfvars.json"
    assert json.loads(written.read_text()) == {
        "service_builds": {"service-1": "91", "order-api": "7"}
    }


# --- the old wrapper's argument forms -----------------------------------------------------------


def test_var_before_double_dash_works_as_the_old_wrapper_took_it(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform
) -> None:
    code, _, err = run(
        run_cli, seed_root, "apply", STACK, REGION, "-var", "service-1-build=90",
        "-var", "order-api-build=6",
    )  # fmt: skip
    assert code == 0, err
    apply = tf_calls(fake_terraform)[-1]
    assert apply[-2:] == ["-var=service-1-build=90", "-var=order-api-build=6"]


def test_an_undeclared_var_is_refused_with_both_ways_forward(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform
) -> None:
    code, _, err = run(run_cli, seed_root, "apply", STACK, REGION, "-var", "service1-build=90")
    assert code == 2
    assert 'does not declare variable "service1-build"' in err
    assert "or stop passing it" in err
    assert tf_calls(fake_terraform) == []


def test_another_terraform_option_before_double_dash_shows_the_double_dash_form(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform
) -> None:
    done = run_cli(["orchestrate", "destroy", STACK, REGION, "-force", "--root", "."])
    code, err = done.exit_code, done.stderr
    assert code == 2
    assert "No such option '-force'" in err
    assert f"pipelinelib orchestrate destroy {STACK} {REGION} --root . -- -force" in err


def test_the_empty_tf_config_placeholder_gives_way_to_the_config_folders(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform
) -> None:
    code, _, err = run(run_cli, seed_root, "init", STACK, REGION)
    assert code == 0, err
    work = seed_root / ".work" / REGION / STACK
    assert (work / "tf-config.tf").read_bytes() == (
        seed_root / "config" / REGION / STACK / "tf-config.tf"
    ).read_bytes()


def test_a_tf_config_with_settings_in_the_sources_is_a_clear_error(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform
) -> None:
    (seed_root / "src" / STACK / "tf-config.tf").write_text(
        'terraform {\n  required_version = ">= 1.0"\n}\n', encoding="utf-8"
    )
    code, _, err = run(run_cli, seed_root, "init", STACK, REGION)
    assert code == 2
    assert "is not empty" in err
    assert "silently ignored" in err


def test_root_dot_from_inside_the_terraform_folder(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform
) -> None:
    done = run_cli(["orchestrate", "plan", STACK, REGION, "--root", "."], cwd=seed_root)
    assert done.exit_code == 0, done.stderr
    assert fake_terraform.calls()[-1]["cwd"] == str(seed_root / ".work" / REGION / STACK)


# --- terraform commands passed through ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["state", STACK, REGION, "--", "list"], ["state", "list"]),
        (
            ["state", STACK, REGION, "--", "mv", "aws_alb.cluster", "module.app.aws_lb.this"],
            ["state", "mv", "aws_alb.cluster", "module.app.aws_lb.this"],
        ),
        (["show", STACK, REGION, "--", "-json"], ["show", "-json"]),
        (
            ["force-unlock", STACK, REGION, "--", "-force", "1234"],
            ["force-unlock", "-force", "1234"],
        ),
    ],
)
def test_state_commands_run_in_the_work_dir(
    run_cli: CliRunner,
    seed_root: Path,
    fake_terraform: FakeTerraform,
    args: list[str],
    expected: list[str],
) -> None:
    code, _, err = run(run_cli, seed_root, *args)
    assert code == 0, err
    call = fake_terraform.calls()[-1]
    assert call["argv"] == expected
    assert call["cwd"] == str(seed_root / ".work" / REGION / STACK)


@pytest.mark.parametrize("command", ["import", "refresh", "console"])
def test_commands_that_read_the_config_get_the_stack_variables(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform, command: str
) -> None:
    tail = ["aws_ecs_cluster.main", "shop-test"] if command == "import" else []
    code, _, err = run(run_cli, seed_root, command, STACK, REGION, "--", *tail)
    assert code == 0, err
    argv = tf_calls(fake_terraform)[-1]
    var_file = seed_root / "config" / REGION / STACK / "variables.tfvars"
    assert argv[0] == command
    assert ["-var", f"region={REGION}"] == argv[argv.index("-var") : argv.index("-var") + 2]
    assert f"-var-file={var_file}" in argv
    assert argv[len(argv) - len(tail) :] == tail


def test_state_without_a_subcommand_is_refused(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform
) -> None:
    code, _, err = run(run_cli, seed_root, "state", STACK, REGION)
    assert code == 2
    assert "state needs a subcommand" in err


@pytest.mark.parametrize(
    "tail",
    [
        ["state", "--", "mv", "a.b", "c.d"],
        ["state", "--", "rm", "a.b"],
        ["import", "--", "aws_ecs_cluster.main", "shop-live"],
        ["refresh"],
        ["force-unlock", "--", "-force", "1234"],
    ],
)
def test_state_changes_on_a_live_stack_need_confirm_live(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform, tail: list[str]
) -> None:
    shutil.copytree(seed_root / "src" / STACK, seed_root / "src" / "shop-live")
    shutil.copytree(
        seed_root / "config" / REGION / STACK, seed_root / "config" / REGION / "shop-live"
    )
    command, *rest = tail
    code, _, err = run(run_cli, seed_root, command, "shop-live", REGION, *rest)
    assert code == 2
    assert "needs --confirm-live" in err
    assert tf_calls(fake_terraform) == []
    code, _, err = run(run_cli, seed_root, command, "shop-live", REGION, "--confirm-live", *rest)
    assert code == 0, err


def test_reading_state_of_a_live_stack_needs_no_confirmation(
    run_cli: CliRunner, seed_root: Path, fake_terraform: FakeTerraform
) -> None:
    shutil.copytree(seed_root / "src" / STACK, seed_root / "src" / "shop-live")
    shutil.copytree(
        seed_root / "config" / REGION / STACK, seed_root / "config" / REGION / "shop-live"
    )
    for args in (["state", "--", "list"], ["show"]):
        code, _, err = run(run_cli, seed_root, args[0], "shop-live", REGION, *args[1:])
        assert code == 0, err
