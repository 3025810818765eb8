"""The ManifestStore protocol, the same on SQLite, PostgreSQL and over HTTP."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from pipelinelib.errors import ConflictError, InvalidInputError, NotFoundError
from pipelinelib.model import Choice, Manifest, SourceRef, clean_text, subject_of
from pipelinelib.store import ManifestStore
from tests.fakes.hostile import corpus
from tests.fakes.manifests import build_manifest, deploy_manifest, published_build, service_build


def test_implements_the_protocol(any_store: Any) -> None:
    assert isinstance(any_store, ManifestStore)


def test_publish_is_idempotent_and_immutable(any_store: ManifestStore) -> None:
    manifest = build_manifest("team/service1-build", 90)
    assert any_store.publish(manifest) is True
    assert any_store.publish(manifest) is False
    changed = attrs.evolve(manifest, url="https://elsewhere/")
    with pytest.raises(ConflictError, match=r"team/service1-build #90 is already recorded"):
        any_store.publish(changed)
    assert any_store.get_build("team/service1-build", 90) == manifest


def test_unknown_build_is_not_found(any_store: ManifestStore) -> None:
    with pytest.raises(NotFoundError, match="no build nope #3"):
        any_store.get_build("nope", 3)


def test_newest_successful_first_with_limit(any_store: ManifestStore) -> None:
    for number in range(1, 13):
        result = "FAILURE" if number % 3 == 0 else "SUCCESS"
        any_store.publish(build_manifest("j", number, result=result))
    assert [m.number for m in any_store.list_builds("j", limit=5)] == [11, 10, 8, 7, 5]
    assert [m.number for m in any_store.list_builds("j", result=None, limit=3)] == [12, 11, 10]
    assert [m.number for m in any_store.list_builds("j", result="FAILURE")] == [12, 9, 6, 3]
    assert any_store.choices("j", limit=2) == [
        Choice(11, "Change 11 of service1"),
        Choice(10, "Change 10 of service1"),
    ]
    assert any_store.list_builds("other-job") == []
    assert any_store.choices("other-job") == []


def test_choices_show_the_first_line_without_control_characters(any_store: ManifestStore) -> None:
    any_store.publish(build_manifest("j", 1, display_name="Fix\x1b[31m login\r\n\nBody"))
    any_store.publish(build_manifest("j", 2, display_name="  \n  "))
    assert [str(c) for c in any_store.choices("j")] == ["2-#2", "1-Fix[31m login"]


def test_display_name_set_later_shows_in_listings_but_manifest_hash_is_unchanged(
    any_store: ManifestStore,
) -> None:
    manifest = build_manifest("team/app", 7, display_name="old name")
    any_store.publish(manifest)
    any_store.set_display_name("team/app", 7, "<script>alert(1)</script> new\nsecond line")
    assert any_store.choices("team/app") == [Choice(7, "<script>alert(1)</script> new")]
    listed = any_store.get_build("team/app", 7)
    assert listed.display_name == "<script>alert(1)</script> new\nsecond line"
    assert listed.services == manifest.services
    # The content is immutable: replaying the original is still identical, not a conflict.
    assert any_store.publish(manifest) is False
    with pytest.raises(NotFoundError):
        any_store.set_display_name("team/app", 8, "x")


def test_find_service_build_returns_the_build_jobs_publish(any_store: ManifestStore) -> None:
    original = build_manifest("service1-build", 95, message="Fix login\n\nDetails")
    any_store.publish(original)
    any_store.publish(deploy_manifest("deploy-test", 3, "test", [original.services["service1"]]))
    assert any_store.find_service_build("service1", 95) == original.services["service1"]
    with pytest.raises(NotFoundError, match="no successful build 96 of service service1"):
        any_store.find_service_build("service1", 96)
    any_store.publish(build_manifest("service1-build", 97, result="FAILURE"))
    with pytest.raises(NotFoundError):
        any_store.find_service_build("service1", 97)


def test_environments_and_history(any_store: ManifestStore) -> None:
    s1 = [service_build("service1", 1)]
    s2 = [service_build("service1", 2)]
    any_store.publish(published_build(s1[0]))
    any_store.publish(published_build(s2[0]))
    any_store.publish(deploy_manifest("deploy-test", 1, "test", s1))
    any_store.publish(
        deploy_manifest("deploy-beta", 1, "beta", s1, source=SourceRef("deploy-test", 1))
    )
    any_store.publish(deploy_manifest("deploy-test", 2, "test", s2))
    any_store.publish(deploy_manifest("deploy-test", 3, "test", s1, result="FAILURE"))
    envs = any_store.environments()
    assert sorted(envs) == ["beta", "test"]
    assert envs["test"].number == 2
    assert envs["beta"].source == SourceRef("deploy-test", 1)
    assert [m.number for m in any_store.history("test")] == [3, 2, 1]
    assert [m.number for m in any_store.history("test", limit=1)] == [3]
    assert any_store.history("live") == []


def test_hostile_text_round_trips_exactly(any_store: ManifestStore) -> None:
    values = [v for v in corpus() if len(v) < 10_000][:120]
    for number, text in enumerate(values, 1):
        manifest = build_manifest("hostile", number, message=text, display_name=text)
        any_store.publish(manifest)
        assert any_store.get_build("hostile", number) == manifest
        assert any_store.publish(manifest) is False
    expected = [Choice(n, subject_of(clean_text(v), n)) for n, v in enumerate(values, 1)]
    assert any_store.choices("hostile", limit=1000) == expected[::-1]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.list_builds("j", limit=0), "limit must be"),
        (lambda s: s.list_builds("../etc"), "invalid job name"),
        (lambda s: s.get_build("j", 0), "between 1 and"),
        (lambda s: s.history("Bad Env"), "invalid environment name"),
        (lambda s: s.find_service_build("Bad", 1), "invalid service name"),
    ],
)
def test_bad_arguments_are_invalid_input(any_store: ManifestStore, call: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        call(any_store)


def test_manifest_equality_survives_round_trip_with_nul(any_store: ManifestStore) -> None:
    manifest = Manifest(
        job="j",
        number=1,
        display_name="nul \x00 inside",
        services=[service_build("service1", 1, "a\x00b")],
    )
    any_store.publish(manifest)
    assert any_store.get_build("j", 1) == manifest


# --- promotion control: the same on every store (docs/promotion.md) ---------------------------


def test_locks_have_one_holder_and_say_who(any_store: ManifestStore) -> None:
    from pipelinelib.errors import LockedError

    taken = any_store.acquire_lock("live", holder="deploy-live#3", reason="deploy-live #3")
    assert (taken.environment, taken.holder, taken.expired) == ("live", "deploy-live#3", False)
    again = any_store.acquire_lock("live", holder="deploy-live#3", reason="extended", ttl=600)
    assert again.reason == "extended"  # the holder extends its own lock
    with pytest.raises(LockedError, match=r"live is locked by deploy-live#3 until .*: extended"):
        any_store.acquire_lock("live", holder="ann", reason="maintenance")
    assert [(lk.environment, lk.holder) for lk in any_store.locks()] == [("live", "deploy-live#3")]
    with pytest.raises(LockedError):
        any_store.release_lock("live", holder="ann")
    assert any_store.release_lock("live", holder="deploy-live#3").holder == "deploy-live#3"
    assert any_store.locks() == []
    with pytest.raises(NotFoundError, match="live is not locked"):
        any_store.release_lock("live", holder="deploy-live#3")


def test_approval_requests_are_idempotent_and_keep_their_requester(
    any_store: ManifestStore,
) -> None:
    with pytest.raises(NotFoundError, match="no approval request"):
        any_store.approval_request("live", "deploy-live", 4)
    first = any_store.request_approval("live", "deploy-live", 4, requested_by="dev")
    assert (first.requested_by, first.approvals) == ("dev", ())
    assert any_store.request_approval("live", "deploy-live", 4, requested_by="dev") == first
    with pytest.raises(ConflictError, match="requested by dev"):
        any_store.request_approval("live", "deploy-live", 4, requested_by="eve")
    from pipelinelib.errors import PermissionDeniedError
    from pipelinelib.store.http import HttpStore

    if isinstance(any_store, HttpStore):
        # Over HTTP the approver is the token's identity, never an argument:
        # tests/integration/service/test_promotion_api.py.
        return

    with pytest.raises(PermissionDeniedError, match="approving your own request"):
        any_store.approve("live", "deploy-live", 4, approver="dev")
    approved = any_store.approve("live", "deploy-live", 4, approver="lead", comment="ok")
    assert [(a.by, a.comment) for a in approved.approvals] == [("lead", "ok")]
    assert any_store.approval_request("live", "deploy-live", 4) == approved


JENKINS_MADE_NAMES = [
    "team/service1/feature%2Flogin",  # multibranch branch feature/login (NameEncoder)
    "team/service1/PR-12",
    "Team Folder/order api build",  # spaces inside names
    "équipe/服务/сервис",  # Unicode
    'team/svc/fix%2Fit\'s "quoted"',
    "team/svc/100%25 done",  # a branch named '100% done'
    "team/svc/rel%2F1.2:hotfix;a&b",  # NameEncoder keeps ':;&' of a branch name
]


@pytest.mark.parametrize("job", JENKINS_MADE_NAMES)
def test_every_job_name_jenkins_makes_is_stored_and_listed(
    any_store: ManifestStore, job: str
) -> None:
    any_store.publish(build_manifest(job, 3))
    assert [m.number for m in any_store.list_builds(job)] == [3]
    assert [c.number for c in any_store.choices(job)] == [3]
    assert any_store.get_build(job, 3).job == job


@pytest.mark.parametrize("job", ["a\ud800b", "team/\udc00", "svc\u202e", "s\u200bvc", "\ufeffsvc"])
def test_names_no_one_can_type_are_refused_on_every_store(
    any_store: ManifestStore, job: str
) -> None:
    with pytest.raises(InvalidInputError, match="invalid job name"):
        any_store.list_builds(job)
    with pytest.raises(InvalidInputError, match="invalid job name"):
        any_store.get_build(job, 1)


def test_pending_approvals_list_open_requests_until_the_deployment_is_recorded(
    any_store: ManifestStore,
) -> None:
    assert any_store.pending_approvals() == []
    s1 = [service_build("service1", 1)]
    any_store.publish(published_build(s1[0]))
    any_store.request_approval("test", "deploy-test", 1, requested_by="dev")
    any_store.request_approval("live", "deploy-live", 4, requested_by="ops")
    listed = any_store.pending_approvals()
    assert [(r.environment, r.job, r.number, r.requested_by) for r in listed] == [
        ("live", "deploy-live", 4, "ops"),
        ("test", "deploy-test", 1, "dev"),
    ]
    assert [r.job for r in any_store.pending_approvals(limit=1)] == ["deploy-live"]
    # Recording deploy-test #1 to test closes its request; the same build number of another
    # job or environment does not.
    any_store.publish(deploy_manifest("deploy-test", 1, "test", s1))
    assert [(r.environment, r.job) for r in any_store.pending_approvals()] == [
        ("live", "deploy-live")
    ]
