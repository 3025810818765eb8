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
from flask import Blueprint, Response, request, url_for

from pipelinelib.errors import InvalidInputError
from pipelinelib.ledger import (
    Board,
    DeploymentEntry,
    EnvironmentDiff,
    build_board,
    order_environments,
)
from pipelinelib.model import validate_environment_name
from pipelinelib.pipeline import query
from pipelinelib.service import api
from pipelinelib.store import ManifestStore


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


# --- routes ------------------------------------------------------------------------------------

blueprint = Blueprint("board", __name__)

# Inline styles only, no script, no external anything: a hostile display name that escaped the
# template still could not run or load a thing.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"


def _html(body: str) -> Response:
    response = Response(body, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _urls() -> Urls:
    return Urls(
        board=lambda: url_for("board.index"),
        history=lambda env: url_for("board.environment", env=env),
        diff=lambda: url_for("board.diff"),
    )


def _current(store: ManifestStore) -> dict[str, DeploymentEntry]:
    return dict(store.environment_entries())


@blueprint.get("/")
def index() -> Response:
    api._authorize("read")
    return _html(render_board(build_board(_current(api._store())), _urls()))


@blueprint.get("/environments/<env>")
def environment(env: str) -> Response:
    api._authorize("read")
    validate_environment_name(env)
    store = api._store()
    deployments = list(store.history_entries(env, limit=100))
    nav = order_environments(_current(store))
    return _html(render_history(env, deployments, _urls(), nav))


@blueprint.get("/diff")
def diff() -> Response:
    api._authorize("read")
    names = {}
    for key in ("from", "to"):
        value = request.args.get(key)
        if not value:
            raise InvalidInputError(f"the query needs ?from=ENV&to=ENV (missing {key!r})")
        names[key] = validate_environment_name(value)
    store = api._store()
    result = query.diff(store, names["from"], names["to"])
    return _html(render_diff(result, _urls(), order_environments(store.environments())))
