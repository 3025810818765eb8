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
EDGES = [
    PACKAGE / "cli.py",
    PACKAGE / "cli_control.py",
    *sorted((PACKAGE / "service").glob("*.py")),
]


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


# --- issue 11: every HTTP route goes through a verb of pipelinelib.pipeline -----------------------

STORE_SOURCES = {
    PACKAGE / "store" / "__init__.py": "ManifestStore",
    PACKAGE / "store" / "sql.py": "SqlStore",
}


def store_methods() -> frozenset[str]:
    """The public methods of the store protocol and of the SQL store, read from their source."""
    names: set[str] = set()
    for path, class_name in STORE_SOURCES.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef) and node.name == class_name:
                names |= {
                    item.name
                    for item in node.body
                    if isinstance(item, ast.FunctionDef) and not item.name.startswith("_")
                }
    return frozenset(names)


def is_route_module(tree: ast.Module) -> bool:
    """A module that defines a Flask Blueprint (``Blueprint(...)`` anywhere in it)."""
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Blueprint"
        for node in ast.walk(tree)
    )


def verb_modules(tree: ast.Module) -> set[str]:
    """The local names a module binds to modules of pipelinelib.pipeline (``from
    pipelinelib.pipeline import query``, ``import pipelinelib.pipeline.query as q``)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "pipelinelib.pipeline":
            bound |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            bound |= {
                alias.asname
                for alias in node.names
                if alias.asname and alias.name.startswith("pipelinelib.pipeline.")
            }
    return bound


def direct_store_calls(path: Path) -> list[str]:
    """In a route module, every call of a store method (``store.publish(...)``,
    ``_store().deployments(...)``) and every ``getattr(x, "a store method")``, unless the
    receiver is a pipeline verb module (``query.deployments(...)`` is the way through)."""
    tree = ast.parse(path.read_text(), str(path))
    if not is_route_module(tree):
        return []
    methods, verbs = store_methods(), verb_modules(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in methods:
            if not (isinstance(func.value, ast.Name) and func.value.id in verbs):
                found.append((node.lineno, f"calls the store's {func.attr}()"))
        elif (
            isinstance(func, ast.Name)
            and func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in methods
        ):
            found.append((node.lineno, f"looks up the store's {node.args[1].value}"))
    return [f"{path.name}:{line} {what}" for line, what in sorted(found)]


SERVICE_MODULES = sorted((PACKAGE / "service").glob("*.py"))


def test_the_store_methods_are_read_from_the_store_source() -> None:
    methods = store_methods()
    assert {"publish", "deployments", "acquire_lock", "job_generation"} <= methods
    assert "_session" not in methods


def test_routes_exist_where_the_check_looks() -> None:
    routes = [p.name for p in SERVICE_MODULES if is_route_module(ast.parse(p.read_text(), str(p)))]
    assert {"api.py", "board.py", "control.py", "insight.py", "ledger_api.py"} <= set(routes)


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=lambda p: p.name)
def test_routes_reach_the_store_only_through_pipeline_verbs(path: Path) -> None:
    assert direct_store_calls(path) == []


def test_the_check_sees_a_route_that_calls_the_store(tmp_path: Path) -> None:
    sample = tmp_path / "routes.py"
    sample.write_text(
        "from flask import Blueprint\n"
        "from pipelinelib.pipeline import query\n"
        "import pipelinelib.pipeline.promote as p\n"
        "blueprint = Blueprint('x', __name__)\n"
        "def builds(store):\n"
        "    query.list_builds(store, 'job')\n"
        "    p.acquire_lock(store, 'qa', holder='me')\n"
        "    store.list_builds('job')\n"
        "    api._store().deployments(limit=2)\n"
        "    check = getattr(store, 'check_publish', None)\n"
        "    other.publish(manifest)\n"
    )
    assert direct_store_calls(sample) == [
        "routes.py:8 calls the store's list_builds()",
        "routes.py:9 calls the store's deployments()",
        "routes.py:10 looks up the store's check_publish",
        "routes.py:11 calls the store's publish()",
    ]
    helper = tmp_path / "helper.py"  # no Blueprint: not a route module
    helper.write_text("def ping(store):\n    store.ping()\n")
    assert direct_store_calls(helper) == []
