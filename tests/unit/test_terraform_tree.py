"""Cross-references of terraform/ read with python-hcl2, without running Terraform.

One root (src/appcluster) serves every environment; every input a root or module passes to a
module is declared there and every required one is passed; every ``var.x`` is declared where it
is used; every environment has a config folder with both files whose tfvars set only variables
the root declares and every required one; every service has every required field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

from pipelinelib import orchestrate
from tests.fixtures.terraform_stacks import FIXTURE_ROOT, REPO_TERRAFORM

SRC = REPO_TERRAFORM / "src"
CONFIG = REPO_TERRAFORM / "config"
ENVIRONMENTS = ["test", "beta", "staging", "live", "sandbox"]
REGION = "ap-southeast-2"
MANAGED = {"region", "service_builds", "service_images"}  # orchestrate sets these
META_ARGUMENTS = {"source", "version", "providers", "count", "for_each", "depends_on"}
VAR_RE = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")
COMMENT_RE = re.compile(r"(?m)^\s*(#|//).*$")


def load_tfvars(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return {k: v for k, v in hcl2.load(handle).items() if not k.startswith("__")}


def unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def load_dir(directory: Path) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(directory.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            docs.append(hcl2.load(handle))
    assert docs, f"no .tf files in {directory}"
    return docs


def blocks(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for doc in docs:
        for entry in doc.get(kind, []):
            for label, body in entry.items():
                name = unquote(label)
                assert name not in found, f"{kind} {name} declared twice"
                found[name] = body
    return found


def variables(directory: Path) -> dict[str, dict[str, Any]]:
    return blocks(load_dir(directory), "variable")


def required(declared: dict[str, dict[str, Any]]) -> set[str]:
    return {name for name, body in declared.items() if "default" not in body}


def used_vars(directory: Path) -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.tf")))
    return set(VAR_RE.findall(COMMENT_RE.sub("", text)))


def object_fields(type_expression: str) -> dict[str, bool]:
    """Field name -> required (not ``optional(...)``) of a ``map(object({...}))`` type."""
    inner = type_expression[type_expression.index("object({") + len("object({") :]
    return {
        name: not optional
        for name, optional in re.findall(r"\b([a-z_]+)\s*=\s*(optional\()?", inner)
        if name not in {"string", "number"}
    }


ROOT = SRC / "appcluster"
STACKS = sorted(p for p in SRC.iterdir() if p.is_dir() and p.name != "modules")
MODULES = sorted(p for p in (SRC / "modules").iterdir() if p.is_dir())


def test_one_root_serves_the_five_environments() -> None:
    assert ROOT in STACKS and not [p for p in STACKS if p.name.startswith("appcluster-")]
    assert {"app-cluster", "container-definitions"} <= {p.name for p in MODULES}
    configured = sorted(
        p.name for p in (CONFIG / REGION).iterdir() if p.name.startswith("appcluster-")
    )
    assert configured == sorted(f"appcluster-{e}" for e in ENVIRONMENTS)
    for environment in ENVIRONMENTS:
        stack = orchestrate.resolve_stack(REPO_TERRAFORM, f"appcluster-{environment}", REGION)
        assert stack.source_dir == ROOT and stack.source_rule == "family appcluster"


@pytest.mark.parametrize("module", [*MODULES, *STACKS], ids=lambda p: p.name)
def test_every_var_used_is_declared(module: Path) -> None:
    missing = used_vars(module) - set(variables(module))
    assert not missing, f"{module.name} uses undeclared variables {sorted(missing)}"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_every_module_variable_is_used(module: Path) -> None:
    unused = set(variables(module)) - used_vars(module)
    assert not unused, f"{module.name} declares unused variables {sorted(unused)}"


@pytest.mark.parametrize(
    ("caller", "expected"),
    [(ROOT, {"app_cluster"}), (SRC / "modules" / "app-cluster", {"container_definitions"})],
    ids=lambda v: v.name if isinstance(v, Path) else "",
)
def test_module_calls_match_the_modules(caller: Path, expected: set[str]) -> None:
    stack = caller
    calls = blocks(load_dir(stack), "module")
    assert set(calls) == expected
    for name, body in calls.items():
        source = unquote(body["source"])
        assert re.fullmatch(r"\.\./(modules/)?[a-z0-9-]+", source), source
        module_dir = stack / source
        assert module_dir.resolve().parent == (SRC / "modules").resolve()
        declared = variables(module_dir)
        passed = {k for k in body if k not in META_ARGUMENTS and not k.startswith("__")}
        assert passed <= set(declared), (
            f"{stack.name}: {name} gets undeclared {passed - set(declared)}"
        )
        assert required(declared) <= passed, (
            f"{stack.name}: {name} misses {required(declared) - passed}"
        )


@pytest.mark.parametrize("stack", STACKS, ids=lambda p: p.name)
def test_stack_declares_the_contract_variables(stack: Path) -> None:
    declared = variables(stack)
    assert declared["region"]["type"] == "${string}" or unquote(declared["region"]["type"]) in (
        "string",
        "${string}",
    )
    managed = ("service_builds", "service_images") if stack == ROOT else ("service_builds",)
    for name in managed:
        assert "map(string)" in declared[name]["type"]
        assert "default" in declared[name]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_config_folder_and_tfvars(environment: str) -> None:
    stack = ROOT
    config = CONFIG / REGION / f"appcluster-{environment}"
    assert (config / "tf-config.tf").is_file() and (config / "variables.tfvars").is_file()
    with (config / "tf-config.tf").open() as handle:
        backend = hcl2.load(handle)["terraform"][0]["backend"][0]
    s3 = backend['"s3"'] if '"s3"' in backend else backend["s3"]
    assert unquote(s3["dynamodb_table"])
    assert unquote(s3["key"]) == f"{REGION}/appcluster-{environment}/terraform.tfstate"
    assert s3["encrypt"] is True
    values = load_tfvars(config / "variables.tfvars")
    declared = variables(stack)
    assert set(values) <= set(declared) - MANAGED, set(values) - set(declared)
    assert required(declared) - MANAGED <= set(values)
    assert unquote(values["environment_name"]) == environment
    assert unquote(values["cluster_name"]) == f"appcluster-{environment}"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_service_has_every_field(environment: str) -> None:
    fields = object_fields(variables(ROOT)["services"]["type"])
    for module in MODULES:
        assert object_fields(variables(module)["services"]["type"]) == fields, module.name
    assert fields["image_repository"] and not fields["secrets"]
    required_fields = {name for name, is_required in fields.items() if is_required}
    services = load_tfvars(CONFIG / REGION / f"appcluster-{environment}" / "variables.tfvars")[
        "services"
    ]
    assert services
    priorities = []
    for name, service in services.items():
        assert re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", name)
        assert required_fields <= set(service) <= set(fields), f"{environment}/{name}"
        assert service["min_count"] <= service["desired_count"] <= service["max_count"]
        assert all(value != "" for value in service.get("environment", {}).values())
        priorities.append(service["priority"])
    assert len(priorities) == len(set(priorities)), "listener rule priorities must be unique"


def test_staging_uses_the_live_database_with_its_own_name() -> None:
    def tfvars(env: str) -> dict[str, Any]:
        values = load_tfvars(CONFIG / REGION / f"appcluster-{env}" / "variables.tfvars")
        return {k: unquote(v) for k, v in values.items()}

    staging, live = tfvars("staging"), tfvars("live")
    assert staging["database_endpoint"] == live["database_endpoint"]
    assert staging["dns_name"] != live["dns_name"]
    others = [tfvars(e)["database_endpoint"] for e in ("test", "beta", "sandbox")]
    assert live["database_endpoint"] not in others
    names = [tfvars(e)["dns_name"] for e in ENVIRONMENTS]
    assert len(set(names)) == len(names)


def test_service_has_circuit_breaker_with_rollback() -> None:
    docs = load_dir(SRC / "modules" / "app-cluster")
    resources = [
        body
        for doc in docs
        for entry in doc.get("resource", [])
        for kind, named in entry.items()
        if unquote(kind) == "aws_ecs_service"
        for label, body in named.items()
        if unquote(label) == "service"
    ]
    (service,) = resources
    breaker = service["deployment_circuit_breaker"][0]
    assert breaker["enable"] is True and breaker["rollback"] is True
    assert service["for_each"] == "${var.services}"


def test_no_deprecated_template_file_anywhere() -> None:
    for path in [*REPO_TERRAFORM.rglob("*.tf"), *FIXTURE_ROOT.rglob("*.tf")]:
        text = path.read_text(encoding="utf-8")
        assert "template_file" not in text, path
        code = COMMENT_RE.sub("", text).replace('"', " ")
        assert not re.search(r"(?m)^\s*[a-z]+-[a-z-]+\s*=", code), f"{path}: kebab-case name"


def test_fixture_stack_follows_the_conventions() -> None:
    assert not blocks(load_dir(FIXTURE_ROOT / "src" / "render"), "provider")
    for stack in ("render-test", "render-live"):
        config = FIXTURE_ROOT / "config" / REGION / stack
        assert {p.name for p in config.iterdir()} == {"tf-config.tf", "variables.tfvars"}
        resolved = orchestrate.resolve_stack(FIXTURE_ROOT, stack, REGION)
        assert resolved.source_dir == FIXTURE_ROOT / "src" / "render"


def test_live_and_staging_keep_deletion_protection() -> None:
    for environment in ENVIRONMENTS:
        values = load_tfvars(CONFIG / REGION / f"appcluster-{environment}" / "variables.tfvars")
        protected = values.get("deletion_protection", True)
        assert protected is (environment in ("live", "staging")), environment


def test_every_secret_is_an_arn_of_its_own_account() -> None:
    for environment in ENVIRONMENTS:
        config = CONFIG / REGION / f"appcluster-{environment}"
        values = load_tfvars(config / "variables.tfvars")
        account = unquote(values["task_role_arn"]).split(":")[4]
        for name, service in values["services"].items():
            for key, arn in service.get("secrets", {}).items():
                parts = unquote(arn).split(":")
                assert parts[2] in ("ssm", "secretsmanager"), f"{environment}/{name}/{key}"
                assert parts[3] == REGION and parts[4] == account, f"{environment}/{name}/{key}"
