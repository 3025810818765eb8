"""What a stack declares, read with python-hcl2 from the files a team really has."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelinelib import stackvars
from pipelinelib.errors import ArtifactFormatError, InvalidInputError


def stack(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    found = {}
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        found[rel] = path
    return found


def test_quoted_and_bare_labels_tf_json_and_defaults(tmp_path: Path) -> None:
    files = stack(
        tmp_path,
        {
            "variables.tf": "variable environment-name {\n  type = string\n}\n"
            'variable "service1-build" {\n  type = string\n  default = "latest"\n}\n',
            "builds.tf.json": json.dumps({"variable": {"service_builds": {"default": {}}}}),
            # Module variables are not the stack's: only top-level files count.
            "modules/x/variables.tf": 'variable "inner" {}\n',
            "README.md": 'variable "not_terraform" {}\n',
        },
    )
    declared = stackvars.declared_variables(files)
    assert {n: (v.file, v.has_default) for n, v in declared.items()} == {
        "environment-name": ("variables.tf", False),
        "service1-build": ("variables.tf", True),
        "service_builds": ("builds.tf.json", True),
    }


def test_a_variable_named_in_a_comment_or_string_is_not_declared(tmp_path: Path) -> None:
    # What a regular expression would get wrong.
    files = stack(
        tmp_path,
        {
            "main.tf": '# variable "service_builds" { type = map(string) }\n'
            'locals {\n  note = "variable \\"service_builds\\" {}"\n}\n'
        },
    )
    assert stackvars.declared_variables(files) == {}


def test_a_file_terraform_cannot_parse_is_named(tmp_path: Path) -> None:
    files = stack(tmp_path, {"broken.tf": 'variable "x" {\n'})
    with pytest.raises(ArtifactFormatError, match=r"broken\.tf: cannot read it as Terraform"):
        stackvars.declared_variables(files)


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [("", True), ("\n\n", True), ("# filled in by the config folder\n", True),
     ('terraform {\n  backend "s3" {}\n}\n', False), ("not { hcl", False)],
)  # fmt: skip
def test_placeholder_files(tmp_path: Path, text: str, placeholder: bool) -> None:
    path = tmp_path / "tf-config.tf"
    path.write_text(text)
    assert stackvars.is_placeholder(path) is placeholder


def test_settings_file(tmp_path: Path) -> None:
    assert stackvars.read_stack_settings(tmp_path) == {}
    (tmp_path / "pipelinelib.toml").write_text('builds_style = "legacy"\n')
    assert stackvars.read_stack_settings(tmp_path) == {"builds_style": "legacy"}
    (tmp_path / "pipelinelib.toml").write_text('builds_style = "maps"\n')
    with pytest.raises(ArtifactFormatError, match="builds_style must be one of map, legacy"):
        stackvars.read_stack_settings(tmp_path)
    (tmp_path / "pipelinelib.toml").write_text("builds_style = \n")
    with pytest.raises(ArtifactFormatError, match="not valid TOML"):
        stackvars.read_stack_settings(tmp_path)


def test_check_names_the_variable_and_where_it_comes_from() -> None:
    declared = {"region": stackvars.Variable("region", "variables.tf", False)}
    with pytest.raises(InvalidInputError) as caught:
        stackvars.check_passed_variables(
            "appcluster-test",
            declared,
            {"region": "REGION", "service_builds": "--import-dir"},
            builds_style="map",
        )
    message = str(caught.value)
    assert message.startswith('stack appcluster-test does not declare variable "service_builds"')
    assert "which --import-dir passes" in message
