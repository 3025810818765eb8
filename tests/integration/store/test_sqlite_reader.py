"""The stdlib read path of `status` and `diff` answers exactly what the SQL store answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelinelib.errors import InvalidInputError
from pipelinelib.store.sql import SqlStore
from pipelinelib.store.sqlite_reader import SqliteReader, open_for_reading, sqlite_path
from tests.fakes.hostile import corpus
from tests.fakes.manifests import deploy_manifest, published_build, service_build


def _filled(url: str) -> SqlStore:
    store = SqlStore.from_url(url)
    messages = list(corpus())[:6]
    entries = {
        (service, build): service_build(service, build, messages[build - 1])
        for service in ("service1", "service2")
        for build in range(1, 7)
    }
    for entry in entries.values():
        store.publish(published_build(entry))
    for n, env in enumerate(("test", "beta", "test", "live", "test", "beta"), start=1):
        services = [entries[("service1", n)], entries[("service2", 1 + n % 3)]]
        store.publish(deploy_manifest(f"deploy-{env}", n, env, services))
    store.publish(
        deploy_manifest("deploy-test", 7, "test", [entries[("service1", 6)]], result="FAILURE")
    )
    store.set_display_name("deploy-beta", 6, "renamed <b>beta</b>")
    return store


def test_reader_answers_like_the_sql_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    full = _filled(url)
    reader = open_for_reading(url)
    try:
        assert isinstance(reader, SqliteReader)
        assert reader.environment_entries() == full.environment_entries()
        assert reader.environments() == full.environments()
        ranges = {"service1": (1, 6), "service2": (0, 3), "service9": (1, 2)}
        assert reader.service_builds_between_many(
            ranges, limit=2
        ) == full.service_builds_between_many(ranges, limit=2)
        assert reader.service_builds_between_many({}) == {}
        with pytest.raises(InvalidInputError, match="invalid service name"):
            reader.service_builds_between_many({"Bad": (1, 2)})
        # Every other method of the protocol is the SQL store's.
        assert reader.get_build("deploy-beta", 6) == full.get_build("deploy-beta", 6)
    finally:
        reader.close()
        full.close()


def test_a_missing_or_older_store_goes_through_the_sql_store(tmp_path: Path) -> None:
    fresh = f"sqlite:///{tmp_path / 'new' / 'store.db'}"
    store = open_for_reading(fresh)
    try:
        assert isinstance(store, SqlStore)  # created and migrated, as before
        assert store.environments() == {}
    finally:
        store.close()
    older = f"sqlite:///{tmp_path / 'old.db'}"
    old = SqlStore.from_url(older, migrate=False)
    old.migrate("0002")
    old.close()
    store = open_for_reading(older)
    try:
        assert isinstance(store, SqlStore)
        assert store.revision() != "0002"  # migrated on the way
    finally:
        store.close()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///rel/p.db", Path("rel/p.db")),
        ("sqlite:////abs/p.db", Path("/abs/p.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///p.db?mode=ro", None),
        ("postgresql://u@h/db", None),
    ],
)
def test_only_plain_sqlite_file_urls_take_the_light_path(url: str, path: Path | None) -> None:
    assert sqlite_path(url) == path
