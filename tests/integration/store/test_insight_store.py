"""The metrics read the same ledger alike on SQLite, PostgreSQL and over HTTP: the facts a SQL
store keeps as deployments are recorded (store/facts.py, migration 0005_insight) give what the
whole history read through the store protocol gives (insight.facts_of)."""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelinelib.insight import facts_of
from pipelinelib.model import DeploymentInfo, Manifest
from pipelinelib.pipeline import query
from pipelinelib.store import facts
from pipelinelib.store.http import HttpStore
from pipelinelib.store.sql import SqlStore
from tests.conftest import CliRunner
from tests.fakes.insight_ledger import deployment_info, record_ledger, service_build
from tests.fixtures.service import StartService


class _ProtocolOnly:
    """The same store seen only through the ManifestStore protocol (no kept facts)."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name == "ledger_facts":
            raise AttributeError(name)
        return getattr(self._store, name)


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    for part in (report["overall"], *report["environments"].values()):
        for gone in part["unrestored"]:
            gone.pop("lasting_seconds")
    return report


def test_kept_facts_and_the_protocol_read_give_the_same_metrics(store_url: str) -> None:
    store = SqlStore.from_url(store_url)
    try:
        record_ledger(store)
        now = datetime.now(UTC) + timedelta(seconds=1)
        kept = query.metrics(store, window=timedelta(days=7), now=now).to_dict()
        generic = query.metrics(_ProtocolOnly(store), window=timedelta(days=7), now=now)
        beta = query.metrics(store, window=timedelta(days=7), now=now, environment="beta")
    finally:
        store.close()
    assert _comparable(kept) == _comparable(generic.to_dict())
    assert kept["overall"]["deployments"] == 8
    # test: deploy-test #5 FAILED; beta: #2 ROLLED_BACK by the rollback #3
    assert kept["overall"]["failed"] == 2
    assert kept["environments"]["beta"]["rollbacks"] == 1
    assert kept["overall"]["lead_time_samples"] > 0
    assert kept["environments"]["test"]["unrestored"][0]["environment"] == "test"
    assert beta.overall.deployments == 3 and beta.overall.failed == 1
    assert list(beta.environments) == ["beta"]


def _records_as_events(store: SqlStore) -> list[Any]:
    """The whole history through the protocol, as the generic path builds it."""
    from pipelinelib.insight import ServiceChange, event_of

    found: list[Any] = []
    before = None
    while True:
        page = store.deployments(before=before, limit=1000)
        found.extend(page.entries)
        if page.next_before is None:
            break
        before = page.next_before
    events = []
    for record in found:
        manifest = store.get_build(record.job, record.number)
        changes = tuple(
            ServiceChange(s.name, s.build, s.committed_at)
            for s in sorted(manifest.services.values(), key=lambda s: s.name)
        )
        events.append(
            event_of(record).__class__(**{**_fields(event_of(record)), "services": changes})
        )
    return events


def _fields(event: Any) -> dict[str, Any]:
    import attrs

    return attrs.asdict(event, recurse=False)


def test_a_rollback_changes_the_outcome_of_the_deployment_it_replaced(store_url: str) -> None:
    store = SqlStore.from_url(store_url)
    try:
        record_ledger(store)
        end = datetime.now(UTC) + timedelta(seconds=1)
        kept = store.ledger_facts(start=end - timedelta(days=1), end=end)
    finally:
        store.close()
    beta = {(kind, outcome): n for env, _, kind, outcome, n in kept.counts if env == "beta"}
    # deploy-beta #1 SUCCESS, #2 ROLLED_BACK (by #3, recorded after it), #3 the rollback
    assert beta == {
        ("deploy", "SUCCESS"): 1,
        ("deploy", "ROLLED_BACK"): 1,
        ("rollback", "SUCCESS"): 1,
    }
    steps = [(env, bad) for env, _, bad, _ in kept.transitions]
    assert steps == [("beta", True), ("beta", False), ("test", True)]


def test_a_rollback_after_a_failed_deployment_keeps_one_failing_stretch(store_url: str) -> None:
    """beta #1 SUCCESS, #2 FAILURE, #3 a rollback: #1 becomes ROLLED_BACK, so beta fails from #1
    (not #2) until #3; the kept transitions must say so, as the whole history judges it."""
    store = SqlStore.from_url(store_url)
    try:
        store.publish(Manifest(job="api-build", number=1, services=[service_build("api", 1)]))
        for number, result, kind in (
            (1, "SUCCESS", "deploy"),
            (2, "FAILURE", "deploy"),
            (3, "SUCCESS", "rollback"),
        ):
            store.publish(
                Manifest(
                    job="deploy-beta",
                    number=number,
                    environment="beta",
                    result=result,
                    services=[service_build("api", 1)],
                    deployment=deployment_info(kind=kind),
                )
            )
        events = _records_as_events(store)
        end = datetime.now(UTC) + timedelta(seconds=1)
        kept = store.ledger_facts(start=end - timedelta(days=1), end=end)
    finally:
        store.close()
    expected = facts_of(events, start=end - timedelta(days=1), end=end)
    assert kept.transitions == expected.transitions
    ids = {e.id: n for n, e in enumerate(sorted(events, key=lambda e: e.at), start=1)}
    assert [(ids[t[3]], t[2]) for t in kept.transitions] == [(1, True), (3, False)]


def test_replay_of_recorded_history_keeps_what_recording_kept(store_url: str) -> None:
    """Migration 0005 replays the deployments recorded before it; the result must be the facts
    the live path keeps one deployment at a time."""
    store = SqlStore.from_url(store_url)
    try:
        record_ledger(store)
        end = datetime.now(UTC) + timedelta(seconds=1)
        live = store.ledger_facts(start=end - timedelta(days=1), end=end)
        with store.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM service_changes"))
            conn.execute(sa.text("DELETE FROM deployment_facts"))
        assert store.ledger_facts(start=end - timedelta(days=1), end=end).counts == ()
        with store.engine.begin() as conn:
            facts.replay(conn)
        replayed = store.ledger_facts(start=end - timedelta(days=1), end=end)
    finally:
        store.close()
    assert replayed == live
    assert len(live.changes) > 0


# A random ledger: two environments, three services with five published builds each; each
# deployment picks builds, a result, an ECS rollout outcome and whether it is a rollback.
_deployment = st.tuples(
    st.sampled_from(["test", "beta"]),
    st.tuples(*(st.integers(1, 3) for _ in range(3))),
    st.sampled_from(["SUCCESS", "SUCCESS", "SUCCESS", "FAILURE"]),
    st.sampled_from([None, None, "COMPLETED", "FAILED", "ROLLED_BACK"]),
    st.booleans(),
)


_NAMES = ("api", "web", "worker")


@functools.cache
def _published_store() -> Path:
    """A migrated SQLite file holding builds 1-3 of each service (copied for every example:
    migrating a new file per example would take most of the test's time)."""
    path = Path(tempfile.mkdtemp(prefix="insight-facts-")) / "template.db"
    store = SqlStore.from_url(f"sqlite:///{path}")
    try:
        for name in _NAMES:
            for build in (1, 2, 3):
                entry = service_build(name, build)
                store.publish(Manifest(job=f"{name}-build", number=build, services=[entry]))
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    return path


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledger=st.lists(_deployment, min_size=1, max_size=14), split=st.integers(0, 14))
def test_kept_facts_equal_the_facts_of_the_whole_history(
    ledger: list[tuple[str, tuple[int, ...], str, str | None, bool]], split: int
) -> None:
    names = _NAMES
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store.db"
        shutil.copyfile(_published_store(), path)
        store = SqlStore.from_url(f"sqlite:///{path}")
        try:
            numbers: dict[str, int] = {}
            for env, builds, result, rollout, rollback in ledger:
                numbers[env] = numbers.get(env, 0) + 1
                info: DeploymentInfo = deployment_info(
                    kind="rollback" if rollback else "deploy",
                    rollout=None if rollout is None else {"api": rollout},
                )
                store.publish(
                    Manifest(
                        job=f"deploy-{env}",
                        number=numbers[env],
                        environment=env,
                        result=result,
                        services=[service_build(n, b) for n, b in zip(names, builds, strict=True)],
                        deployment=info,
                    )
                )
            events = _records_as_events(store)
            times = sorted(e.at for e in events)
            start = times[min(split, len(times) - 1)]
            end = times[-1] + timedelta(seconds=1)
            kept = store.ledger_facts(start=start, end=end)
        finally:
            store.close()
    expected = facts_of(events, start=start, end=end)
    assert kept.counts == expected.counts
    assert kept.transitions == expected.transitions
    assert kept.changes == expected.changes


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


def _assert_beta_paged_one_at_a_time(store: Any) -> int:
    """record_ledger's beta, one deployment a page: the rollback #3, then #2 ROLLED_BACK.
    Returns the cursor of the second page."""
    newest = query.history(store, environment="beta", limit=1)
    older = query.history(store, environment="beta", limit=1, before=newest.next_before)
    assert [(r.record.number, r.kind, r.outcome) for r in newest.rows] == [
        (3, "rollback", "SUCCESS")
    ]
    assert [(r.record.number, r.outcome) for r in older.rows] == [(2, "ROLLED_BACK")]
    assert newest.next_before is not None
    return newest.next_before


def test_a_history_page_shows_a_rollback_recorded_on_a_newer_page(store_url: str) -> None:
    """beta: #1, #2, then a rollback #3 (record_ledger). Paging one deployment at a time, #2
    is on the page after the rollback's; it still shows ROLLED_BACK (the kept outcome)."""
    store = SqlStore.from_url(store_url)
    try:
        record_ledger(store)
        _assert_beta_paged_one_at_a_time(store)
    finally:
        store.close()


def test_a_cold_report_reads_indexes_without_sorting_the_window(tmp_path: Path) -> None:
    """Every environment's counts follow ix_deployment_facts_day (no temporary B-tree for the
    GROUP BY, no row lookups) and the transitions read ix_deployment_facts_flips (SQLite's plans;
    the bench insight figures in docs/benchmarks.md depend on them)."""
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'plans.db'}")
    try:
        record_ledger(store)
        end = datetime.now(UTC) + timedelta(seconds=1)
        counts = store.explain(facts.counts_statement(end - timedelta(days=30), end, None))
        beta = store.explain(facts.counts_statement(end - timedelta(days=30), end, "beta"))
        flips = store.explain(facts.transitions_statement(end, None))
    finally:
        store.close()
    assert "COVERING INDEX ix_deployment_facts_day" in counts, counts
    assert "TEMP B-TREE" not in counts, counts
    # one environment: an index range (SQLite may prefer (environment, at) and sort its rows)
    assert "SEARCH deployment_facts USING" in beta and "SCAN" not in beta, beta
    assert "ix_deployment_facts_flips" in flips, flips


def test_metrics_against_a_service_are_the_services_own_report(
    start_service: StartService, run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pipelinelib metrics --server` asks GET /api/v1/metrics once; it never walks the
    service's deployments page by page (a 10,000-deployment ledger was hundreds of requests)."""
    service = start_service()
    record_ledger(service.store)

    def no_walking(*args: object, **kwargs: object) -> None:
        raise AssertionError("metrics read the deployments through the protocol")

    monkeypatch.setattr(HttpStore, "deployments", no_walking)
    server = ["--server", service.url, "--token", service.token]
    as_json = run_cli(["metrics", "--window", "7d", "--json", *server])
    text = run_cli(["metrics", "--window", "7d", "--environment", "beta", *server])
    remote = HttpStore(service.url, token=service.token)
    try:
        direct = remote.metrics_document(window="7d")
    finally:
        remote.close()
    assert as_json.exit_code == 0, as_json.stderr
    # the service's window ends at the next whole minute: the two may straddle one
    assert _timeless(json.loads(as_json.stdout)) == _timeless(direct)
    assert json.loads(as_json.stdout)["overall"]["deployments"] == 8
    assert text.exit_code == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[1].split()[:2] == ["scope", "deploys"]
    assert lines[2].split()[:2] == ["beta", "3"]  # the service's report for one environment


def _timeless(report: dict[str, Any]) -> dict[str, Any]:
    for part in (report["overall"], *report["environments"].values(), *report["services"].values()):
        part.pop("start")
        part.pop("end")
        part.pop("per_day")
        for gone in part["unrestored"]:
            gone.pop("lasting_seconds")
    return report


def test_a_bad_window_is_refused_before_the_service_is_asked(run_cli: CliRunner) -> None:
    from tests.fixtures.service import free_port

    result = run_cli(["metrics", "--window", "0d", "--server", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "window" in result.stderr


def test_history_through_a_service_shows_the_services_kept_outcomes(
    start_service: StartService, run_cli: CliRunner
) -> None:
    """The HTTP store reads GET /api/v1/history (outcomes judged over the service's whole
    history), so paging one deployment at a time still shows #2 ROLLED_BACK."""
    service = start_service()
    record_ledger(service.store)
    remote = HttpStore(service.url, token=service.token)
    try:
        cursor = _assert_beta_paged_one_at_a_time(remote)
    finally:
        remote.close()
    server = ["--server", service.url, "--token", service.token]
    page = ["--environment", "beta", "--limit", "1", "--before", str(cursor)]
    shown = run_cli(["history", *page, *server])
    assert shown.exit_code == 0, shown.stderr
    assert "ROLLED_BACK" in shown.stdout.splitlines()[0]
