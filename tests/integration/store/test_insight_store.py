"""The metrics read the same ledger alike on SQLite, PostgreSQL and over HTTP: the SQL store's
lean read (store/sql_insight.py) gives what the paginated records give."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pipelinelib.pipeline import query
from pipelinelib.store.http import HttpStore
from pipelinelib.store.sql import SqlStore
from tests.fakes.insight_ledger import record_ledger
from tests.fixtures.service import StartService


class _WithoutLeanRead:
    """The same store seen only through the ManifestStore protocol."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name == "deployment_events":
            raise AttributeError(name)
        return getattr(self._store, name)


def test_lean_read_and_protocol_read_give_the_same_metrics(store_url: str) -> None:
    store = SqlStore.from_url(store_url)
    try:
        record_ledger(store)
        lean = query.metrics(store, window=timedelta(days=7)).to_dict()
        generic = query.metrics(_WithoutLeanRead(store), window=timedelta(days=7)).to_dict()  # type: ignore[arg-type]
    finally:
        store.close()
    for report in (lean, generic):
        for part in (report["overall"], *report["environments"].values()):
            part.pop("start"), part.pop("end")
            for gone in part["unrestored"]:
                gone.pop("lasting_seconds")
        for part in report["services"].values():
            part.pop("start"), part.pop("end")
    assert lean == generic
    assert lean["overall"]["deployments"] == 8
    assert lean["overall"]["failed"] == 2
    assert lean["overall"]["lead_time_samples"] > 0


def test_metrics_over_the_service(start_service: StartService) -> None:
    service = start_service()
    record_ledger(service.store)
    remote = HttpStore(service.url, token=service.token)
    try:
        report = query.metrics(remote, window=timedelta(days=7))
    finally:
        remote.close()
    assert report.overall.deployments == 8
    assert report.environments["beta"].rollbacks == 1
