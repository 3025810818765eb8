"""`pipelinelib store export` / `store import`: moving a whole store between SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from pipelinelib import demo
from pipelinelib.errors import ConflictError, InvalidInputError
from pipelinelib.store.sql import SqlStore, metadata
from pipelinelib.store.transfer import export_store, import_store
from tests.conftest import CliRunner
from tests.fakes.manifests import build_manifest

ENVIRONMENTS = ("test", "beta", "staging", "live")
JOBS = ("service1-build", "service2-build", "deploy-test", "deploy-beta", "deploy-staging")


def _answers(run_cli: CliRunner, url: str) -> dict[str, Any]:
    """What users ask a store: status --json, every choices list, every environment's history."""
    status = run_cli(["status", "--json", "--db", url])
    assert status.exit_code == 0, status.stderr
    answers: dict[str, Any] = {"status": json.loads(status.stdout)}
    for job in JOBS:
        listed = run_cli(["list-builds", "--job", job, "--format", "choices", "--db", url])
        assert listed.exit_code == 0, listed.stderr
        answers[f"choices {job}"] = listed.stdout
    store = SqlStore.from_url(url)
    try:
        for env in ENVIRONMENTS:
            answers[f"history {env}"] = [m.to_dict() for m in store.history(env)]
    finally:
        store.close()
    return answers


@pytest.mark.postgres
def test_the_demo_store_round_trips_sqlite_postgresql_sqlite(
    run_cli: CliRunner, tmp_path: Path, pg_url: str
) -> None:
    db = demo.run(tmp_path / "demo", echo=lambda *_: None)
    sqlite_url = f"sqlite:///{db}"
    source = SqlStore.from_url(sqlite_url)
    source.set_display_name("deploy-test", 1, "Tested by QA\nsecond line")
    source.close()
    before = _answers(run_cli, sqlite_url)
    assert before["status"]["environments"].keys() == set(ENVIRONMENTS)
    assert before["choices deploy-test"].splitlines()[-1] == "1-Tested by QA"

    first = tmp_path / "from-sqlite.jsonl"
    assert run_cli(["store", "export", str(first), "--db", sqlite_url]).exit_code == 0
    done = run_cli(["store", "import", str(first), "--db", pg_url])
    assert done.exit_code == 0, done.stderr
    assert _answers(run_cli, pg_url) == before

    second = tmp_path / "from-postgresql.jsonl"
    assert run_cli(["store", "export", str(second), "--db", pg_url]).exit_code == 0
    back = f"sqlite:///{tmp_path / 'back' / 'pipelinelib.db'}"
    assert run_cli(["store", "import", str(second), "--db", back]).exit_code == 0
    assert _answers(run_cli, back) == before
    # The export itself is engine-independent: the same bytes from either store.
    assert first.read_bytes() == second.read_bytes()

    # The moved store keeps working: new ids continue after the imported ones.
    # (A build number past every one the demo publishes, so this is a new record.)
    newest = max(m.number for m in SqlStore.from_url(sqlite_url).list_builds("service1-build"))
    target = SqlStore.from_url(pg_url)
    try:
        assert target.publish(build_manifest("service1-build", newest + 1)) is True
        assert target.list_builds("service1-build", limit=1)[0].number == newest + 1
    finally:
        target.close()


def test_every_table_travels_and_the_header_names_format_and_revision(tmp_path: Path) -> None:
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'a.db'}")
    store.publish(build_manifest("service1-build", 1))
    store.set_display_name("service1-build", 1, "Named")
    out = io.StringIO()
    result = export_store(store, out)
    store.close()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["format"] == "pipelinelib-store" and lines[0]["version"] == 1
    assert lines[0]["revision"] == result.revision is not None
    assert lines[0]["tables"] == [t.name for t in metadata.sorted_tables]
    assert lines[-1] == {"end": True, "rows": len(lines) - 2}
    assert {line["table"] for line in lines[1:-1]} == set(lines[0]["tables"])


def _export(url: str) -> str:
    store = SqlStore.from_url(url)
    try:
        out = io.StringIO()
        export_store(store, out)
        return out.getvalue()
    finally:
        store.close()


def _rows(url: str) -> str:
    """A store's whole content (its export), to prove an import changed nothing."""
    return _export(url)


@pytest.fixture
def exported(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    store = SqlStore.from_url(url)
    for number in (1, 2, 3):
        store.publish(build_manifest("service1-build", number))
    store.close()
    return _export(url)


def test_importing_the_same_export_twice_changes_nothing(tmp_path: Path, exported: str) -> None:
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        first = import_store(store, exported.splitlines())
        assert first.rows["builds"] == 3 and first.rows["build_services"] == 3
        again = import_store(store, exported.splitlines())
        assert again.total == 0 and again.skipped["builds"] == 3
    finally:
        store.close()


def test_a_conflicting_record_refuses_the_whole_import(store_url: str, exported: str) -> None:
    store = SqlStore.from_url(store_url)
    try:
        # The target already recorded service1-build #2 with other content (another store's).
        store.publish(build_manifest("service1-build", 2, message="Something else entirely"))
        before = _rows(store_url)
        with pytest.raises(ConflictError, match="nothing was imported"):
            import_store(store, exported.splitlines())
        assert _rows(store_url) == before
    finally:
        store.close()


def test_a_cut_short_export_is_refused_and_changes_nothing(tmp_path: Path, exported: str) -> None:
    url = f"sqlite:///{tmp_path / 'target.db'}"
    store = SqlStore.from_url(url)
    try:
        before = _rows(url)
        lines = exported.splitlines()
        with pytest.raises(InvalidInputError, match="incomplete"):
            import_store(store, lines[:-1])
        with pytest.raises(InvalidInputError, match="incomplete"):
            import_store(store, [*lines[:2], lines[-1]])
        assert _rows(url) == before
    finally:
        store.close()


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "empty"),
        (['{"table": "builds", "row": {}}'], "not a pipelinelib store export"),
        (['{"format": "pipelinelib-store", "version": 99}'], "version 99"),
        (['{"format": "pipelinelib-store", "version": 1, "revision": "9999"}'], "newer"),
        (
            ['{"format": "pipelinelib-store", "version": 1}', '{"table": "users", "row": {}}'],
            "unknown table",
        ),
        (
            [
                '{"format": "pipelinelib-store", "version": 1}',
                '{"table": "builds", "row": {"evil": 1}}',
            ],
            "no column evil",
        ),
        (['{"format": "pipelinelib-store", "version": 1}', "not json"], "not JSON"),
    ],
)
def test_input_that_is_not_an_export_is_refused(
    tmp_path: Path, lines: list[str], message: str
) -> None:
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        with pytest.raises(InvalidInputError, match=message):
            import_store(store, lines)
    finally:
        store.close()


def test_cli_export_to_stdout_and_import_errors_are_one_line(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    SqlStore.from_url(url).close()
    done = run_cli(["store", "export", "--db", url])
    assert done.exit_code == 0 and done.stdout.startswith('{"format":"pipelinelib-store"')
    (tmp_path / "bad.jsonl").write_text("hello\n")
    failed = run_cli(["store", "import", str(tmp_path / "bad.jsonl"), "--db", url])
    assert failed.exit_code == 2
    assert failed.stderr.startswith("error: ") and failed.stderr.count("\n") == 1
