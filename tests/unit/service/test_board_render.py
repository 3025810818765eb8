"""The board's HTML: untrusted display names and commit messages stay text."""

from __future__ import annotations

from html.parser import HTMLParser

from pipelinelib.ledger import (
    DeploymentEntry,
    DeploymentPage,
    DeploymentRecord,
    build_board,
    diff_environments,
)
from pipelinelib.model import DeploymentInfo, Manifest, ServiceBuild
from pipelinelib.service.board import Urls, render_board, render_diff, render_history

XSS = "<img src=x onerror=alert(1)>"
URLS = Urls(
    board=lambda: "/",
    history=lambda env, **query: (
        f"/environments/{env}" + "".join(f"?{k}={v}" for k, v in query.items())
    ),
    diff=lambda: "/diff",
)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Collect:
    parser = _Collect()
    parser.feed(html)
    return parser


def _deployment(message: str) -> Manifest:
    return Manifest(
        job="deploy-test",
        number=12,
        environment="test",
        display_name=message,
        services=[ServiceBuild(name="service1", build=90, commit_message=message)],
    )


def test_hostile_display_names_render_as_text_not_markup() -> None:
    board = build_board({"test": DeploymentEntry(_deployment(XSS + "\n<script>alert(2)</script>"))})
    html = render_board(board, URLS)
    parsed = _parse(html)
    assert "img" not in parsed.tags
    assert "script" not in parsed.tags
    assert XSS in "".join(parsed.text)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_history_and_diff_escape_too() -> None:
    entry = DeploymentEntry(_deployment(XSS))
    page = DeploymentPage((_record(7, XSS),))
    assert "img" not in _parse(render_history("test", page, URLS, ["test"])).tags
    diff = diff_environments("test", entry.deployment, "live", None)
    html = render_diff(diff, URLS, ["test", "live"])
    assert "img" not in _parse(html).tags
    assert XSS in "".join(_parse(html).text)


def test_empty_board_tells_how_to_fill_it() -> None:
    html = render_board(build_board({}), URLS)
    assert "No deployment has been recorded yet" in html


def _record(record_id: int, name: str) -> DeploymentRecord:
    return DeploymentRecord(
        id=record_id,
        job="deploy-test",
        number=record_id,
        environment="test",
        result="SUCCESS",
        display_name=name,
        source=None,
        url=None,
        deployment=DeploymentInfo(overrides=("service2",)),
        service_count=1000,
    )


def test_a_history_page_shows_counts_not_services_and_links_the_next_page() -> None:
    page = DeploymentPage((_record(9, "Deploy 9"), _record(8, "Deploy 8")), next_before=8)
    html = render_history("test", page, URLS, ["test"])
    text = "".join(_parse(html).text)
    assert "Deploy 9" in text and "Deploy 8" in text
    assert "1000" in text and "overrides: service2" in text
    assert 'href="/environments/test?before=8"' in html
    last = render_history("test", DeploymentPage((_record(1, "first"),)), URLS, ["test"])
    assert "before=" not in last


def _with_rollout(number: int, rollout: dict[str, str] | None, result: str = "SUCCESS") -> Manifest:
    from pipelinelib.model import DeploymentInfo

    return Manifest(
        job="deploy-live",
        number=number,
        environment="live",
        result=result,
        display_name=f"Deploy {number}",
        url=f"https://jenkins.example.com/job/deploy-live/{number}/",
        deployment=DeploymentInfo(rollout=rollout) if rollout is not None else None,
        services=[ServiceBuild(name="service1", build=90)],
    )


def test_a_deployment_s_outcome_tells_a_rollback_and_a_timeout_from_a_success() -> None:
    entries = [
        DeploymentEntry(_with_rollout(4, {"service1": "ROLLED_BACK", "service2": "COMPLETED"})),
        DeploymentEntry(_with_rollout(3, {"service1": "COMPLETED"})),
        DeploymentEntry(_with_rollout(2, None)),
        DeploymentEntry(_with_rollout(1, {"service1": "TIMED_OUT"})),
        DeploymentEntry(_with_rollout(5, None, result="FAILURE")),
    ]
    assert [e.outcome for e in entries] == [
        "ROLLED_BACK",
        "SUCCESS",
        "SUCCESS",
        "TIMED_OUT",
        "FAILURE",
    ]
