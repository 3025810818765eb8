"""Fixtures shared by the whole suite: the CLI in-process, and drivers of the real tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import pytest

from pipelinelib.cli import main

# Shared fixtures of each area live in tests/fixtures/<area>.py; list the module here.
pytest_plugins = [
    "tests.fixtures.tools",
    "tests.fixtures.terraform_stacks",
    "tests.fixtures.jenkins",
    "tests.fixtures.aws",
    "tests.fixtures.service",
    "tests.fixtures.image",
]

TESTS = Path(__file__).parent
ROOT = TESTS.parent
JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"


@attrs.frozen
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


CliRunner = Callable[..., CliResult]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Run ``pipelinelib ARGS`` in-process through the real entry point (error handling included)."""

    def run(
        args: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> CliResult:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:  # pragma: no cover - main always exits
            code = 0
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(autouse=True)
def _no_jenkins_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit a Jenkins or pipelinelib configuration from the machine running them."""
    for name in list(os.environ):
        if name.startswith("PIPELINELIB_") or name in {
            "JOB_NAME",
            "BUILD_NUMBER",
            "BUILD_URL",
            "JENKINS_URL",
            "JENKINS_USER",
            "JENKINS_API_TOKEN",
        }:
            monkeypatch.delenv(name, raising=False)


def _require_tool(name: str, why: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = (
            f"{name} is not installed ({why}); `make test` installs it via scripts/install-tools.sh"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@attrs.frozen
class Groovy:
    """The real Groovy 2.4.21 interpreter, started once per batch (start-up costs ~0.6 s)."""

    executable: str
    env: dict[str, str]

    def run(
        self, script: Path, *args: str, cwd: Path, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.executable, str(script), *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            check=False,
        )

    def load_env_files(self, paths: Sequence[Path], cwd: Path) -> dict[Path, dict[str, str]]:
        """Evaluate each env.groovy with ``env`` bound to a map; return every file's variables."""
        listing = cwd / "files.txt"
        listing.write_text("".join(f"{p}\n" for p in paths), encoding="utf-8")
        done = self.run(TESTS / "groovy" / "load_env_files.groovy", str(listing), cwd=cwd)
        assert done.returncode == 0, done.stderr
        result: dict[Path, dict[str, str]] = {Path(p): {} for p in paths}
        for line in done.stdout.splitlines():
            path, key, payload = line.split("\t", 2)
            if key == "!ERROR":
                raise AssertionError(f"groovy could not load {path}: {payload}")
            units = bytes.fromhex(payload)
            result[Path(path)][key] = units.decode("utf-16-be", "surrogatepass")
        return result


@pytest.fixture(scope="session")
def groovy() -> Groovy:
    executable = _require_tool("groovy", "the real Groovy 2.4.21 that Jenkins runs")
    env = dict(os.environ)
    if Path(JAVA_HOME).is_dir():
        env["JAVA_HOME"] = JAVA_HOME
    version = subprocess.run(
        [executable, "--version"], env=env, capture_output=True, text=True, check=False
    )
    assert "Groovy Version: 2.4" in version.stdout, version.stdout + version.stderr
    return Groovy(executable, env)


@pytest.fixture
def git_repo(tmp_path: Path) -> Callable[[str], Path]:
    """A real git repository with one commit whose message the test chooses."""

    def make(message: str, name: str = "workspace") -> Path:
        repo = tmp_path / name
        repo.mkdir()
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Dev",
            "GIT_AUTHOR_EMAIL": "dev@example.com",
            "GIT_COMMITTER_NAME": "Dev",
            "GIT_COMMITTER_EMAIL": "dev@example.com",
        }
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
        (repo / "app.txt").write_text("v1\n")
        subprocess.run(["git", "add", "app.txt"], cwd=repo, check=True, env=env)
        subprocess.run(
            ["git", "commit", "-q", "--cleanup=verbatim", "-F", "-"],
            cwd=repo,
            check=True,
            env=env,
            input=message.encode("utf-8", "surrogateescape"),
        )
        return repo

    return make


PYTHON = sys.executable
