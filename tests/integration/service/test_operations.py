"""Operations that hold: what docs/operations.md tells an operator to do, done as written."""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from pipelinelib.errors import FileAccessError
from pipelinelib.service import create_app
from pipelinelib.service.auth import TokensFile, read_tokens_file
from pipelinelib.service.metrics import METHODS
from tests.conftest import ROOT, CliRunner
from tests.fakes.manifests import build_manifest
from tests.fixtures.service import PUBLISH_TOKEN, StartService

OPERATIONS = ROOT / "docs" / "operations.md"


def _section_code(heading: str) -> str:
    """The first fenced block under ``## heading`` of docs/operations.md."""
    text = OPERATIONS.read_text()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```[a-z]*\n(.*?)```", section, re.S)
    assert match, f"no code block under {heading}"
    return match.group(1)


def test_the_documented_tokens_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text(_section_code("Tokens"))
    path.chmod(0o600)
    tokens = read_tokens_file(path)
    assert tokens == {
        "3f9c1b0e6a2d4c8f9e7b5a1d2c3e4f50": frozenset({"publish"}),
        "a8d7c6b5e4f3a2b1c0d9e8f7a6b5c4d3": frozenset({"read"}),
    }


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_tokens_file_readable_by_group_or_others_is_refused(
    tmp_path: Path, run_cli: CliRunner, mode: int
) -> None:
    path = tmp_path / "tokens"
    path.write_text(f"{PUBLISH_TOKEN} publish\n")
    path.chmod(mode)
    with pytest.raises(FileAccessError, match=f"mode {mode:04o}.*chmod 600"):
        create_app(f"sqlite:///{tmp_path / 'a.db'}", tokens_file=path)
    done = run_cli(["serve", "--tokens-file", str(path), "--db", f"sqlite:///{tmp_path / 'b.db'}"])
    assert done.exit_code == 7
    assert done.stderr == (
        f"error: tokens file {path} is readable by group or others (mode {mode:04o}); "
        f"run: chmod 600 {path}\n"
    )


def test_an_edited_tokens_file_is_picked_up_and_a_bad_edit_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tokens"
    path.write_text(f"{PUBLISH_TOKEN} publish\n")
    path.chmod(0o600)
    tokens = TokensFile(path, recheck=0)
    assert set(tokens) == {PUBLISH_TOKEN}
    new = "rotated-token-" + secrets.token_hex(8)
    path.write_text(f"{PUBLISH_TOKEN} publish\n{new} publish,read  # added\n")
    assert dict(tokens) == {PUBLISH_TOKEN: {"publish"}, new: {"publish", "read"}}
    with caplog.at_level(logging.ERROR, logger="pipelinelib.service.auth"):
        path.write_text(f"{new} publish\nshort publish\n")
        assert set(tokens) == {PUBLISH_TOKEN, new}
    assert "not reloaded, still serving the previous 2 tokens" in caplog.text
    assert "shorter than 16 characters" in caplog.text
    path.chmod(0o644)
    assert set(tokens) == {PUBLISH_TOKEN, new}


def test_the_method_label_of_metrics_is_bounded(start_service: StartService) -> None:
    service = start_service()
    session = requests.Session()
    session.get(f"{service.url}/healthz", timeout=10)
    before = len(session.get(f"{service.url}/metrics", timeout=10).content)
    for _ in range(300):
        method = "X" + secrets.token_hex(6).upper()
        assert session.request(method, f"{service.url}/healthz", timeout=10).status_code == 405
    text = session.get(f"{service.url}/metrics", timeout=10).text
    methods = set(re.findall(r'method="([^"]*)"', text))
    assert methods <= METHODS | {"OTHER"} and "OTHER" in methods
    assert len(text) - before < 4096  # one OTHER series, not 300


def _page_count(store_url: str) -> int:
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        pages: int = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    engine.dispose()
    return pages


def test_readiness_reports_a_store_whose_writes_fail(
    start_service: StartService, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'full' / 'pipelinelib.db'}"
    service = start_service(url)
    headers = {"Authorization": f"Bearer {PUBLISH_TOKEN}"}
    assert requests.get(f"{service.url}/healthz", timeout=10).status_code == 200
    store = service.store
    # Cap the database at its current size: every write that needs a page now fails with
    # SQLite's own "database or disk is full" (SQLITE_FULL), exactly as on a full disk.
    pages = _page_count(url)

    @sa.event.listens_for(store.engine, "connect")
    def _cap(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")  # type: ignore[attr-defined]

    store.engine.dispose()  # new connections, each capped
    big = build_manifest("service1-build", 1, message="x" * 60_000).to_dict()
    failed = requests.post(f"{service.url}/api/v1/builds", json=big, headers=headers, timeout=30)
    assert failed.status_code == 503
    assert "full" in failed.json()["error"]
    health = requests.get(f"{service.url}/healthz", timeout=10)
    assert health.status_code == 503
    assert health.json() == {
        "status": "unavailable",
        "error": f"writes are failing: {failed.json()['error']}",
    }

    sa.event.remove(store.engine, "connect", _cap)
    store.engine.dispose()
    ok = requests.post(f"{service.url}/api/v1/builds", json=big, headers=headers, timeout=30)
    assert ok.status_code == 201
    assert requests.get(f"{service.url}/healthz", timeout=10).status_code == 200


def test_readiness_reports_a_filesystem_without_room(
    start_service: StartService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINELIB_MIN_FREE_MB", str(1 << 40))  # more than any disk here
    service = start_service()
    health = requests.get(f"{service.url}/healthz", timeout=10)
    assert health.status_code == 503
    assert "MiB free on the filesystem of" in health.json()["error"]


def test_readiness_reports_a_read_only_database_file(
    start_service: StartService, tmp_path: Path
) -> None:
    db = tmp_path / "ro" / "pipelinelib.db"
    service = start_service(f"sqlite:///{db}")
    db.chmod(0o444)
    try:
        health = requests.get(f"{service.url}/healthz", timeout=10)
    finally:
        db.chmod(0o644)
    if health.status_code == 200:  # root ignores file modes (os.access says writable)
        import os

        assert os.geteuid() == 0
        pytest.skip("running as root: a 0444 file is still writable, nothing to report")
    assert health.status_code == 503 and "not writable" in health.json()["error"]


def test_the_documented_logging_config_is_the_one_the_image_runs() -> None:
    """docs/operations.md shows docker/gunicorn.conf.py's logconfig_dict; test_image_server.py
    runs that file under gunicorn and reads the JSON access lines it prints."""
    import ast
    import runpy

    block = _section_code("Production command")
    assert "gunicorn -c docker/gunicorn.conf.py 'pipelinelib.service:create_app()'" in block
    text = OPERATIONS.read_text()
    shown = text.split("```python\nlogconfig_dict = ", 1)[1].split("\n```", 1)[0]
    config = runpy.run_path(str(ROOT / "docker" / "gunicorn.conf.py"))
    assert ast.literal_eval(shown) == config["logconfig_dict"]
    assert config["worker_class"] == "gevent"


@pytest.mark.postgres
def test_readiness_reports_a_read_only_postgresql(start_service: StartService, pg_url: str) -> None:
    from pipelinelib.store.sql import SqlStore

    SqlStore.from_url(pg_url).close()  # the schema exists; the service below can only read it
    read_only = pg_url.replace("?options=", "?options=-cdefault_transaction_read_only%3Don%20")
    service = start_service(read_only)
    health = requests.get(f"{service.url}/healthz", timeout=10)
    assert health.status_code == 503
    assert health.json()["error"] == "the PostgreSQL session is read-only: writes would fail"
    body = build_manifest("service1-build", 1).to_dict()
    refused = requests.post(
        f"{service.url}/api/v1/builds",
        json=body,
        headers={"Authorization": f"Bearer {PUBLISH_TOKEN}"},
        timeout=10,
    )
    assert refused.status_code == 503 and "read-only" in refused.json()["error"]
