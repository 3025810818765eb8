"""The import direction of DESIGN.md: the CLI and the service reach AWS, Jenkins, Terraform and
the SQL store only through the verbs of :mod:`pipelinelib.pipeline` (and the store protocol)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pipelinelib"
FORBIDDEN = (
    "pipelinelib.aws",
    "pipelinelib.jenkins",
    "pipelinelib.orchestrate",
    "pipelinelib.store.sql",
)
EDGES = [PACKAGE / "cli.py", *sorted((PACKAGE / "service").glob("*.py"))]


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, at any depth (inside functions and TYPE_CHECKING too)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def forbidden_imports(path: Path) -> list[str]:
    return [
        f"{path.name}:{line} imports {name}"
        for line, name in imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]


@pytest.mark.parametrize("path", EDGES, ids=lambda p: p.name)
def test_cli_and_service_import_no_peer_directly(path: Path) -> None:
    assert forbidden_imports(path) == []


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "cli.py"
    sample.write_text(
        "def cmd():\n"
        "    from pipelinelib import aws\n"
        "    from pipelinelib.store.sql import SqlStore\n"
        "    import pipelinelib.orchestrate\n"
        "    from pipelinelib.jenkins.client import JenkinsClient\n"
        "    from pipelinelib.store import open_store\n"
    )
    assert forbidden_imports(sample) == [
        "cli.py:2 imports pipelinelib.aws",
        "cli.py:3 imports pipelinelib.store.sql",
        "cli.py:3 imports pipelinelib.store.sql.SqlStore",
        "cli.py:4 imports pipelinelib.orchestrate",
        "cli.py:5 imports pipelinelib.jenkins.client",
        "cli.py:5 imports pipelinelib.jenkins.client.JenkinsClient",
    ]
