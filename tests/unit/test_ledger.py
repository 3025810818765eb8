"""The ledger's answers: what a promotion changes, and in which order environments show."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from pipelinelib.errors import DeploymentRefusedError, NotFoundError
from pipelinelib.ledger import (
    DeploymentEntry,
    build_board,
    check_deployment,
    diff_environments,
    order_environments,
)
from pipelinelib.model import DeploymentInfo, Manifest, ServiceBuild, SourceRef


def _deploy(env: str, number: int, **builds: int) -> Manifest:
    return Manifest(
        job=f"deploy-{env}",
        number=number,
        environment=env,
        display_name=f"deploy {number}",
        services=[
            ServiceBuild(name=name.replace("_", "-"), build=b, image=f"r/{name}:{b}")
            for name, b in builds.items()
        ],
    )


DECLARED = ("test", "beta", "staging", "live", "sandbox")  # as pipelinelib.toml declares them


def test_environments_follow_the_pipeline_order_then_the_alphabet() -> None:
    names = ["live", "zeta", "test", "alpha", "staging", "beta"]
    assert order_environments(names) == sorted(names)  # no environments file: the alphabet
    assert order_environments(names, DECLARED) == [
        "test",
        "beta",
        "staging",
        "live",
        "alpha",
        "zeta",
    ]


def test_diff_names_each_kind_of_change_and_asks_the_store_once() -> None:
    test = _deploy("test", 12, service1=95, service2=40, service3=7, service5=20)
    live = _deploy("live", 4, service1=90, service2=40, service4=3, service5=18)
    asked: list[dict[str, tuple[int, int]]] = []

    def between(ranges: Mapping[str, tuple[int, int]]) -> dict[str, list[ServiceBuild]]:
        asked.append(dict(ranges))
        return {
            service: [
                ServiceBuild(name=service, build=b, commit_message=f"change {b}")
                for b in range(high, low, -1)
            ]
            for service, (low, high) in ranges.items()
        }

    diff = diff_environments("test", test, "live", live, between)
    kinds = {c.service: c.change for c in diff.services}
    assert kinds == {
        "service1": "upgrade",
        "service2": "same",
        "service3": "added",
        "service4": "removed",
        "service5": "upgrade",
    }
    # One call for every upgraded service: a diff of 1,000 services is one store query.
    assert asked == [{"service1": (90, 95), "service5": (18, 20)}]
    service1 = diff.services[0]
    assert [c.build for c in service1.commits] == [95, 94, 93, 92, 91]
    assert [c.build for c in diff.services[4].commits] == [20, 19]
    assert diff.services[1].commits == ()
    assert not diff.is_noop
    assert diff.to_dict()["changes"] == 4


def test_a_diff_without_upgrades_does_not_ask_the_store() -> None:
    def between(ranges: Mapping[str, tuple[int, int]]) -> dict[str, list[ServiceBuild]]:
        raise AssertionError(f"asked for {ranges}")

    test = _deploy("test", 12, service1=90)
    diff = diff_environments("test", test, "live", _deploy("live", 3, service1=95), between)
    assert [c.change for c in diff.services] == ["downgrade"]


def test_promoting_an_environment_onto_itself_is_a_noop() -> None:
    test = _deploy("test", 12, service1=95)
    diff = diff_environments("test", test, "beta", _deploy("beta", 3, service1=95))
    assert diff.is_noop
    assert diff.services[0].change == "same"


def test_board_lists_every_service_of_every_environment() -> None:
    board = build_board(
        {
            "live": DeploymentEntry(_deploy("live", 4, service1=90)),
            "test": DeploymentEntry(_deploy("test", 12, service1=95, service2=40)),
        },
        DECLARED,
    )
    assert [c.name for c in board.environments] == ["test", "live"]
    assert board.services == ("service1", "service2")


# --- check_deployment: a deployment is exactly what its source produced ----------------------

PUBLISHED = {
    ("service1", b): ServiceBuild(name="service1", build=b, image=f"r/service1:{b}")
    for b in (90, 95)
} | {("service2", 40): ServiceBuild(name="service2", build=40, image="r/service2:40")}


def _find(service: str, build: int) -> ServiceBuild:
    try:
        return PUBLISHED[(service, build)]
    except KeyError:
        raise NotFoundError(f"{service} {build}") from None


def _source(result: str = "SUCCESS") -> Manifest:
    return Manifest(
        job="deploy-test",
        number=12,
        environment="test",
        result=result,
        services=[PUBLISHED[("service1", 90)], PUBLISHED[("service2", 40)]],
    )


def _promotion(services: list[ServiceBuild], overrides: tuple[str, ...] = ()) -> Manifest:
    return Manifest(
        job="deploy-beta",
        number=3,
        environment="beta",
        source=SourceRef("deploy-test", 12),
        deployment=DeploymentInfo(overrides=overrides),
        services=services,
    )


def _get(source: Manifest) -> Callable[[str, int], Manifest]:
    def get(job: str, number: int) -> Manifest:
        if (job, number) == (source.job, source.number):
            return source
        raise NotFoundError("unknown")

    return get


def test_an_unchanged_promotion_is_accepted() -> None:
    check_deployment(_promotion(list(_source().services.values())), _get(_source()), _find)


def test_a_declared_override_of_a_published_build_is_accepted() -> None:
    services = [PUBLISHED[("service1", 95)], PUBLISHED[("service2", 40)]]
    check_deployment(_promotion(services, ("service1",)), _get(_source()), _find)


@pytest.mark.parametrize(
    ("services", "overrides", "message"),
    [
        (
            [PUBLISHED[("service1", 95)], PUBLISHED[("service2", 40)]],
            (),
            "differs from deploy-test #12",
        ),
        ([PUBLISHED[("service1", 90)]], (), "service service2 of deploy-test #12 is missing"),
        (
            [
                PUBLISHED[("service1", 90)],
                PUBLISHED[("service2", 40)],
                ServiceBuild(name="service3", build=1),
            ],
            (),
            "service3 is not in deploy-test #12",
        ),
        (
            [
                ServiceBuild(name="service1", build=96, image="r/service1:96"),
                PUBLISHED[("service2", 40)],
            ],
            ("service1",),
            "service1 build 96 was never published",
        ),
        (
            [
                ServiceBuild(name="service1", build=95, image="evil/service1:95"),
                PUBLISHED[("service2", 40)],
            ],
            ("service1",),
            "differs from what its build job published",
        ),
    ],
)
def test_a_changed_promotion_is_refused(
    services: list[ServiceBuild], overrides: tuple[str, ...], message: str
) -> None:
    with pytest.raises(DeploymentRefusedError, match=message):
        check_deployment(_promotion(services, overrides), _get(_source()), _find)


def test_promoting_a_failed_build_is_refused() -> None:
    source = _source("FAILURE")
    with pytest.raises(DeploymentRefusedError, match="is FAILURE; only successful builds"):
        check_deployment(_promotion(list(source.services.values())), _get(source), _find)


def test_a_deployment_whose_source_is_missing_is_refused() -> None:
    with pytest.raises(DeploymentRefusedError, match="source deploy-test #12 is not recorded"):
        check_deployment(
            _promotion(list(_source().services.values())),
            lambda j, n: _get(_source())("x", 0),
            _find,
        )


def test_a_deployment_of_service_builds_needs_each_to_be_published() -> None:
    ok = Manifest(
        job="deploy-test", number=1, environment="test", services=[PUBLISHED[("service1", 90)]]
    )
    check_deployment(ok, _get(_source()), _find)
    bad = Manifest(
        job="deploy-test",
        number=2,
        environment="test",
        services=[ServiceBuild(name="service1", build=91)],
    )
    with pytest.raises(DeploymentRefusedError, match="service1 build 91 was never published"):
        check_deployment(bad, _get(_source()), _find)
