"""Start-up is part of the interface: the CLI must not import heavy libraries it may not need."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["sqlalchemy", "flask", "boto3", "botocore", "jenkins", "requests", "alembic", "psycopg"]


def test_importing_the_cli_loads_no_heavy_library() -> None:
    code = f"import sys, pipelinelib.cli\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def _modules_after_publish(tmp_path: object) -> set[str]:
    """Every module loaded by a fresh process that ran ``publish-artifact --no-register``."""
    code = (
        "import sys\n"
        "from pipelinelib.cli import main\n"
        "try:\n"
        "    main(['publish-artifact', '--service', 's', '--build', '1', '--job', 'j', '--commit', 'a'*40,"
        f" '--message', 'm', '--no-register', '--output-dir', {str(tmp_path)!r}])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "print(','.join(sorted(sys.modules)), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stderr.strip().split(","))


def test_file_only_commands_load_no_heavy_library(tmp_path: object) -> None:
    assert not set(HEAVY) & _modules_after_publish(tmp_path)


def test_publish_artifact_loads_only_its_own_verbs(tmp_path: object) -> None:
    """pipelinelib.pipeline loads its verbs on first use: publishing an artifact in a build job
    (docs/benchmarks.md "CLI start-up", at most 4x `python -c pass`) does not import the deploy
    verbs, the store or the AWS code."""
    loaded = _modules_after_publish(tmp_path)
    assert "pipelinelib.formats.groovy" in loaded  # it did write env.groovy
    unwanted = {
        "pipelinelib.aws",
        "pipelinelib.aws.ecs",
        "pipelinelib.pipeline.deploy",
        "pipelinelib.pipeline.promote",
        "pipelinelib.pipeline.query",
        "pipelinelib.store.sql",
    }
    assert not loaded & unwanted, sorted(loaded & unwanted)


def _current_store(tmp_path: object) -> str:
    from pathlib import Path

    from pipelinelib.store.sql import SqlStore
    from tests.fakes.manifests import deploy_manifest, published_build, service_build

    url = f"sqlite:///{Path(str(tmp_path)) / 'store' / 'pipelinelib.db'}"
    store = SqlStore.from_url(url)
    for build in (1, 2):
        store.publish(published_build(service_build("service1", build)))
    store.publish(deploy_manifest("deploy-live", 1, "live", [service_build("service1", 1)]))
    store.publish(deploy_manifest("deploy-test", 1, "test", [service_build("service1", 2)]))
    store.close()
    return url


def test_status_and_diff_on_a_current_local_store_load_no_heavy_library(tmp_path: object) -> None:
    """Store commands that only read a local SQLite store start without SQLAlchemy or Alembic."""
    url = _current_store(tmp_path)
    for argv in (["status"], ["diff", "test", "live"]):
        code = (
            "import sys\n"
            "from pipelinelib.cli import main\n"
            "try:\n"
            f"    main({[*argv, '--db', url]!r})\n"
            "except SystemExit as e:\n"
            "    assert e.code == 0, e.code\n"
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert done.stderr.strip() == "", argv
        assert "service1" in done.stdout
