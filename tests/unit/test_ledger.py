"""The ledger's answers: what a promotion changes, and in which order environments show."""

from __future__ import annotations

from pipelinelib.ledger import DeploymentEntry, build_board, diff_environments, order_environments
from pipelinelib.model import Manifest, ServiceBuild


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


def test_environments_follow_the_pipeline_order_then_the_alphabet() -> None:
    assert order_environments(["live", "zeta", "test", "alpha", "staging", "beta"]) == [
        "test",
        "beta",
        "staging",
        "live",
        "alpha",
        "zeta",
    ]


def test_diff_names_each_kind_of_change() -> None:
    test = _deploy("test", 12, service1=95, service2=40, service3=7)
    live = _deploy("live", 4, service1=90, service2=40, service4=3)
    asked: list[tuple[str, int, int]] = []

    def between(service: str, low: int, high: int) -> list[ServiceBuild]:
        asked.append((service, low, high))
        return [
            ServiceBuild(name=service, build=b, commit_message=f"change {b}")
            for b in range(high, low, -1)
        ]

    diff = diff_environments("test", test, "live", live, between)
    kinds = {c.service: c.change for c in diff.services}
    assert kinds == {
        "service1": "upgrade",
        "service2": "same",
        "service3": "added",
        "service4": "removed",
    }
    assert asked == [("service1", 90, 95)]
    service1 = diff.services[0]
    assert [c.build for c in service1.commits] == [95, 94, 93, 92, 91]
    assert not diff.is_noop
    assert diff.to_dict()["changes"] == 3


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
        }
    )
    assert [c.name for c in board.environments] == ["test", "live"]
    assert board.services == ("service1", "service2")
