"""The web board: environments x services, an environment's history, a promotion diff.

Server-rendered with jinja2, autoescaped (display names and commit messages are untrusted), no
JavaScript needed, readable on a phone. The renderers take ledger models and URL builders, so they
are testable without Flask; the routes only fetch from the store and call them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import attrs
import jinja2
from flask import Blueprint, Response, request, url_for

from pipelinelib.errors import InvalidInputError
from pipelinelib.ledger import (
    Board,
    DeploymentEntry,
    DeploymentPage,
    EnvironmentDiff,
    build_board,
)
from pipelinelib.model import validate_environment_name
from pipelinelib.pipeline import query
from pipelinelib.service import api
from pipelinelib.service.links import Links
from pipelinelib.store import ManifestStore


@attrs.frozen
class Urls:
    board: Callable[[], str]
    history: Callable[..., str]
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
    context.setdefault("refresh", 0)  # seconds of <meta http-equiv="refresh">; 0: none
    if context.get("links") is None:  # no templates: link the recorded http(s) BUILD_URL only
        context["links"] = Links()
    return (
        _environment()
        .get_template(template)
        .render(
            url_for_board=urls.board,
            url_for_history=urls.history,
            url_for_diff=urls.diff,
            url_for_page=_page_url,
            nav_environments=list(nav),
            **context,
        )
    )


def _page_url(endpoint: str, **params: Any) -> str:
    """Links to service/insight.py's pages; outside a request (renderer tests) a plain path."""
    from flask import has_request_context

    if has_request_context():
        return url_for(endpoint, **params)
    return "/" + endpoint.split(".")[-1]


def render_board(board: Board, urls: Urls, **insight: object) -> str:
    """``insight``: the grid's additions (service/insight.py ``board_context``): ``status``,
    ``pending_elsewhere``, ``drift``, ``links``, ``refresh``; without them the plain grid."""
    extra = {"status": {}, "pending_elsewhere": [], "drift": {}, **insight}
    return _render("board.html", urls, [c.name for c in board.environments], board=board, **extra)


def render_page(template: str, nav: Sequence[str], **context: object) -> str:
    """A page of service/insight.py with the board's navigation."""
    return _render(template, _urls(), nav, **context)


def render_history(
    environment: str,
    page: DeploymentPage,
    urls: Urls,
    nav: Sequence[str],
    links: object = None,
) -> str:
    """One page of an environment's deployments (what the page shows, never the whole
    history), with a link to the next, older page. Each row says what the deployment came to
    (SUCCESS, FAILURE, ROLLED_BACK: :func:`pipelinelib.insight.history_rows`)."""
    from pipelinelib.insight import history_rows

    return _render(
        "history.html",
        urls,
        nav,
        environment=environment,
        rows=list(history_rows(page.entries)),
        next_before=page.next_before,
        links=links,
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
        history=lambda env, **params: url_for("board.environment", env=env, **params),
        diff=lambda: url_for("board.diff"),
    )


def _current(store: ManifestStore) -> dict[str, DeploymentEntry]:
    return query.environment_entries(store)


def _nav(store: ManifestStore) -> list[str]:
    """The environments for the navigation; a SqlStore names them without parsing manifests."""
    return query.environment_names(store, _declared())


def _declared() -> list[str]:
    """The promotion order of the service's environments file (empty without one)."""
    return list(api._ext()["environments"].names)


@blueprint.get("/")
def index() -> Response:
    from pipelinelib.service.insight import board_context

    api._authorize("read")
    store = api._store()
    current = _current(store)
    return _html(
        render_board(build_board(current, _declared()), _urls(), **board_context(store, current))
    )


@blueprint.get("/environments/<env>")
def environment(env: str) -> Response:
    api._authorize("read")
    validate_environment_name(env)
    from pipelinelib.service.ledger_api import cursor, page_limit

    store = api._store()
    page = query.deployments(store, environment=env, before=cursor(), limit=page_limit())
    from pipelinelib.service.insight import links

    return _html(render_history(env, page, _urls(), _nav(store), links()))


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
    result = query.diff(store, names["from"], names["to"], _declared())
    return _html(render_diff(result, _urls(), _nav(store)))
