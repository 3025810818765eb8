"""The web board: environments x services, an environment's history, a promotion diff.

Server-rendered with jinja2, autoescaped (display names and commit messages are untrusted), no
JavaScript needed, readable on a phone. The renderers take ledger models and URL builders, so they
are testable without Flask; the routes only fetch from the store and call them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

import attrs
import jinja2

from pipelinelib.ledger import Board, DeploymentEntry, EnvironmentDiff


@attrs.frozen
class Urls:
    board: Callable[[], str]
    history: Callable[[str], str]
    diff: Callable[[], str]


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pipelinelib.service", "templates"),
        autoescape=True,  # every template is HTML; untrusted text must never become markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(template: str, urls: Urls, nav: Sequence[str], **context: object) -> str:
    return (
        _environment()
        .get_template(template)
        .render(
            url_for_board=urls.board,
            url_for_history=urls.history,
            url_for_diff=urls.diff,
            nav_environments=list(nav),
            **context,
        )
    )


def render_board(board: Board, urls: Urls) -> str:
    return _render("board.html", urls, [c.name for c in board.environments], board=board)


def render_history(
    environment: str, deployments: Sequence[DeploymentEntry], urls: Urls, nav: Sequence[str]
) -> str:
    return _render(
        "history.html", urls, nav, environment=environment, deployments=list(deployments)
    )


def render_diff(diff: EnvironmentDiff, urls: Urls, nav: Sequence[str]) -> str:
    return _render("diff.html", urls, nav, diff=diff)
