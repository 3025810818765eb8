"""scripts/checkov_baseline.py: the lint gate that fails on any checkov finding not accepted."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.fixtures.terraform_stacks import REPO, REPO_TERRAFORM

SCRIPT = REPO / "scripts" / "checkov_baseline.py"
CHECKOV = REPO / ".venv" / "checkov" / "bin" / "checkov"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("checkov_baseline", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


baseline_gate = _load()

FINDING = {
    "check_id": "CKV_AWS_260",
    "file": "src/modules/app-cluster/security_groups.tf",
    "resource": 'module.app_cluster.aws_security_group_rule.alb_ingress["80"]',
    "name": "Ensure no security groups allow ingress from 0.0.0.0:0 to port 80",
}
ACCEPTED = {k: v for k, v in FINDING.items() if k != "name"} | {"reason": "port 80 redirects"}


def test_exactly_the_accepted_findings_pass() -> None:
    assert baseline_gate.compare([FINDING], [ACCEPTED]) == []


def test_a_new_finding_fails() -> None:
    other = FINDING | {"resource": "module.app_cluster.aws_security_group_rule.ssh"}
    (problem,) = baseline_gate.compare([FINDING, other], [ACCEPTED])
    assert (
        problem.startswith("new finding CKV_AWS_260") and "aws_security_group_rule.ssh" in problem
    )


def test_an_entry_without_a_reason_fails() -> None:
    for reason in ("", "  ", "two\nlines"):
        (problem,) = baseline_gate.compare([FINDING], [ACCEPTED | {"reason": reason}])
        assert "needs a one-line reason" in problem


def test_a_stale_entry_fails() -> None:
    (problem,) = baseline_gate.compare([], [ACCEPTED])
    assert "is no longer reported: remove it" in problem


def test_the_checked_in_baseline_gives_every_entry_a_reason() -> None:
    entries = json.loads((REPO_TERRAFORM / "checkov-baseline.json").read_text())["accepted"]
    assert entries
    for entry in entries:
        assert set(entry) == {"check_id", "file", "resource", "reason"}
        assert (REPO_TERRAFORM / entry["file"]).is_file(), entry
        assert 20 <= len(entry["reason"]) <= 200 and "\n" not in entry["reason"], entry


@pytest.mark.slow
def test_real_checkov_fails_on_an_open_ssh_port(tmp_path: Path) -> None:
    """`make lint` installs checkov in .venv/checkov; a new finding there fails the gate."""
    if not CHECKOV.is_file():
        message = f"{CHECKOV} is missing: `make lint` installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path / "terraform"
    shutil.copytree(REPO_TERRAFORM, root, ignore=shutil.ignore_patterns(".work", ".terraform*"))

    def gate() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(SCRIPT), "--checkov", str(CHECKOV), str(root)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    clean = gate()
    assert clean.returncode == 0, clean.stderr
    with (root / "src" / "modules" / "app-cluster" / "security_groups.tf").open("a") as handle:
        handle.write(
            '\nresource "aws_security_group_rule" "ssh" {\n'
            "  security_group_id = aws_security_group.instances.id\n"
            '  type              = "ingress"\n'
            '  description       = "ssh"\n'
            '  protocol          = "tcp"\n'
            "  from_port         = 22\n"
            "  to_port           = 22\n"
            '  cidr_blocks       = ["0.0.0.0/0"]\n'
            "}\n"
        )
    dirty = gate()
    assert dirty.returncode == 1
    assert "new finding" in dirty.stderr and "aws_security_group_rule.ssh" in dirty.stderr
