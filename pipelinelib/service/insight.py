"""Insight pages and routes (issue 17): history and DORA metrics over the API and on the board,
and what the board's grid adds (drift, failed and rolled-back deployments, locks, links).

Plots are SVG drawn here, on the server, from numbers only: the pages carry no script and the
board's CSP (``default-src 'none'``) stays as it is. Text in the SVG (environment and service
names) goes through the same autoescaping templates as the rest of the board.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import attrs
from flask import Blueprint, Response, current_app, request, url_for

from pipelinelib.errors import InvalidInputError
from pipelinelib.insight import (
    Drift,
    HistoryPage,
    HistoryRow,
    Metrics,
    MetricsReport,
    history_rows,
    human_duration,
    parse_since,
    parse_window,
)
from pipelinelib.model import validate_environment_name, validate_service_name
from pipelinelib.service import api
from pipelinelib.service.insight_cache import ReportCache
from pipelinelib.service.links import Links
from pipelinelib.store import ManifestStore

blueprint = Blueprint("insight", __name__)

# --- plots ---------------------------------------------------------------------------------------


@attrs.frozen
class Bar:
    x: float
    width: float
    ok_y: float
    ok_height: float
    bad_y: float
    bad_height: float
    label: str  # the <title> of the bar: "2026-11-03: 4 successful, 1 failed"


@attrs.frozen
class DailyPlot:
    """Stacked bars, one per day: successful (below) and failed or rolled back (on top)."""

    title: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    peak: int
    first_day: str
    last_day: str


PLOT_W, PLOT_H, PAD = 600, 120, 18


def daily_plot(metrics: Metrics) -> DailyPlot:
    days = metrics.per_day
    peak = max((s + f for _, s, f in days), default=0) or 1
    inner_h = PLOT_H - 2 * PAD
    step = (PLOT_W - 2 * PAD) / max(len(days), 1)
    bars = []
    for i, (day, ok, bad) in enumerate(days):
        ok_h = inner_h * ok / peak
        bad_h = inner_h * bad / peak
        base = PLOT_H - PAD
        bars.append(
            Bar(
                x=round(PAD + i * step + step * 0.1, 2),
                width=round(max(step * 0.8, 0.5), 2),
                ok_y=round(base - ok_h, 2),
                ok_height=round(ok_h, 2),
                bad_y=round(base - ok_h - bad_h, 2),
                bad_height=round(bad_h, 2),
                label=f"{day}: {ok} successful, {bad} failed or rolled back",
            )
        )
    return DailyPlot(
        metrics.scope,
        PLOT_W,
        PLOT_H,
        tuple(bars),
        peak,
        days[0][0] if days else "",
        days[-1][0] if days else "",
    )


@attrs.frozen
class HBar:
    label: str
    value: float | None
    text: str
    width: float


@attrs.frozen
class HPlot:
    title: str
    width: int
    row: int
    bars: tuple[HBar, ...]

    @property
    def height(self) -> int:
        return self.row * max(len(self.bars), 1) + 8


def hplot(title: str, items: Sequence[tuple[str, float | None, str]]) -> HPlot:
    """Horizontal bars scaled to the largest value; None draws no bar and says so."""
    top = max((v for _, v, _ in items if v is not None), default=0.0) or 1.0
    span = 360
    return HPlot(
        title,
        PLOT_W,
        26,
        tuple(HBar(label, v, text, round(span * (v or 0) / top, 2)) for label, v, text in items),
    )


# --- board additions ----------------------------------------------------------------------------


@attrs.frozen
class ColumnStatus:
    """What the board's column header adds: the newest deployment when it is not the one
    running (it failed), whether the running one is a rollback, and the lock."""

    latest: HistoryRow | None = None
    lock: Any = None
    pending: tuple[Any, ...] = ()  # open approval requests (ApprovalRequest), newest first


def startup_links() -> Links:
    """The board's link templates and refresh from the environment, checked when the service
    starts (create_app): a bad template stops the service instead of failing every page."""
    from pipelinelib import config

    return Links.from_config(config.link_templates())


def links() -> Links:
    found: Links = current_app.extensions["pipelinelib"]["links"]
    return found


def column_status(
    store: ManifestStore, names: Sequence[str], open_requests: Sequence[Any] = ()
) -> dict[str, ColumnStatus]:
    """One small page (two records) per environment: the board's cost stays per environment;
    plus the locks (one query) and ``open_requests`` (the store's ``pending_approvals()``)."""
    from pipelinelib.pipeline import query

    locks = query.active_locks(store)
    pending: dict[str, list[Any]] = {}
    for item in open_requests:
        pending.setdefault(item.environment, []).append(item)
    found: dict[str, ColumnStatus] = {}
    for name in names:
        page = query.deployments(store, environment=name, limit=2)
        rows = history_rows(page.entries)
        found[name] = ColumnStatus(
            rows[0] if rows else None, locks.get(name), tuple(pending.get(name, ()))
        )
    return found


def board_context(store: ManifestStore, current: Mapping[str, Any]) -> dict[str, object]:
    from pipelinelib.pipeline import query

    names = list(current)
    drift = query.drift(store, current, query.upstreams_of(api._ext()["environments"], names))
    open_requests = query.pending_approvals(store)
    return {
        "status": column_status(store, names, open_requests),
        # a first deployment waiting for approval has no column yet: listed above the grid
        "pending_elsewhere": [r for r in open_requests if r.environment not in names],
        "drift": {f"{env}/{svc}": d for (env, svc), d in drift.items()},
        "links": links(),
        "refresh": links().refresh,
    }


# --- routes -------------------------------------------------------------------------------------


def _history_page(store: ManifestStore) -> tuple[HistoryPage, dict[str, Any]]:
    from pipelinelib.pipeline import query
    from pipelinelib.service.ledger_api import cursor, page_limit

    filters: dict[str, Any] = {}
    environment = request.args.get("environment") or None
    service = request.args.get("service") or None
    since_raw = request.args.get("since") or None
    if environment is not None:
        filters["environment"] = validate_environment_name(environment)
    if service is not None:
        filters["service"] = validate_service_name(service)
    if since_raw is not None:
        filters["since"] = since_raw
    page = query.history(
        store,
        environment=environment,
        service=service,
        since=parse_since(since_raw),
        before=cursor(),
        limit=page_limit(),
    )
    return page, filters


def _report(store: ManifestStore) -> tuple[MetricsReport, str, str | None]:
    from pipelinelib.pipeline import query

    window_raw = request.args.get("window", "30d")
    if len(window_raw) > 20:
        raise InvalidInputError("window is too long; use e.g. 7d, 30d, 12h")
    environment = request.args.get("environment") or None
    if environment is not None:
        validate_environment_name(environment)
    window = parse_window(window_raw)
    declared = api._ext()["environments"].names
    cache = api._ext().setdefault("insight_reports", ReportCache())
    report = cache.report(
        store,
        environment=environment,
        window=window,
        declared=declared,
        compute=lambda end: query.metrics(
            store, environment=environment, window=window, now=end, declared=declared
        ),
    )
    return report, window_raw, environment


@blueprint.get("/api/v1/history")
def history_api() -> Response:
    api._authorize("read")
    page, _ = _history_page(api._store())
    return api._json(page.to_dict())


@blueprint.get("/api/v1/metrics")
def metrics_api() -> Response:
    api._authorize("read")
    report, _, _ = _report(api._store())
    return api._json(report.to_dict())


@blueprint.get("/history")
def history_board() -> Response:
    from pipelinelib.service import board

    api._authorize("read")
    store = api._store()
    page, filters = _history_page(store)
    return board._html(
        board.render_page(
            "deployments.html",
            board._nav(store),
            page=page,
            filters=filters,
            links=links(),
            older=(
                url_for("insight.history_board", before=page.next_before, **filters)
                if page.next_before is not None
                else None
            ),
        )
    )


@blueprint.get("/insight")
def metrics_board() -> Response:
    from pipelinelib.service import board

    api._authorize("read")
    store = api._store()
    report, window, environment = _report(store)
    scopes = list(report.environments.values())
    return board._html(
        board.render_page(
            "insight.html",
            board._nav(store),
            report=report,
            window=window,
            environment=environment,
            plots=[daily_plot(report.overall), *(daily_plot(m) for m in scopes)],
            lead=hplot(
                "Lead time for changes (median)",
                [(m.scope, _secs(m.lead_time), human_duration(m.lead_time)) for m in scopes],
            ),
            cfr=hplot(
                "Change failure rate",
                [(m.scope, m.change_failure_rate, _pct(m.change_failure_rate)) for m in scopes],
            ),
            human=human_duration,
            pct=_pct,
            refresh=links().refresh,
        )
    )


def _secs(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


__all__ = ["Drift", "blueprint", "board_context"]


def openapi_paths(json_response: Any, read_errors: Mapping[str, Any], limit: Any) -> dict[str, Any]:
    """The OpenAPI entries of this module's routes (merged by service/openapi.py)."""
    name = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$"}
    html = {"200": {"description": "HTML page", "content": {"text/html": {}}}, **read_errors}
    history_params = [
        {"name": "environment", "in": "query", "schema": name},
        {"name": "service", "in": "query", "schema": name},
        {
            "name": "since",
            "in": "query",
            "description": "ISO 8601 date or date-time (UTC without a zone)",
            "schema": {"type": "string", "format": "date-time"},
        },
        {
            "name": "before",
            "in": "query",
            "description": "the next_before of the previous page",
            "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
        },
        {**limit, "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}},
    ]
    metrics_params = [
        {"name": "environment", "in": "query", "schema": name},
        {
            "name": "window",
            "in": "query",
            "description": "how far back: 7d, 30d, 12h, 1h30m (at most 3660d)",
            "schema": {"type": "string", "default": "30d", "maxLength": 20},
        },
    ]
    page = {
        "type": "object",
        "required": ["deployments", "next_before"],
        "properties": {
            "deployments": {"type": "array", "items": {"type": "object"}},
            "next_before": {"type": "integer", "nullable": True},
        },
    }
    report = {
        "type": "object",
        "required": ["overall", "environments", "services"],
        "properties": {
            "definitions": {"type": "string"},
            "overall": {"type": "object"},
            "environments": {"type": "object", "additionalProperties": {"type": "object"}},
            "services": {"type": "object", "additionalProperties": {"type": "object"}},
        },
    }
    return {
        "/api/v1/history": {
            "get": {
                "summary": "Deployments newest first with outcome (SUCCESS, FAILURE, "
                "ROLLED_BACK), who, approvals, overrides, reasons (issue 17)",
                "parameters": history_params,
                "responses": {"200": json_response("a page of history", page), **read_errors},
            }
        },
        "/api/v1/metrics": {
            "get": {
                "summary": "DORA metrics over a window, overall, per environment and per "
                "service (issue 17)",
                "parameters": metrics_params,
                "responses": {"200": json_response("the metrics", report), **read_errors},
            }
        },
        "/history": {
            "get": {
                "summary": "The web board: deployments of every environment (HTML)",
                "parameters": history_params,
                "responses": html,
            }
        },
        "/insight": {
            "get": {
                "summary": "The web board: DORA metrics with SVG plots (HTML)",
                "parameters": metrics_params,
                "responses": html,
            }
        },
    }
