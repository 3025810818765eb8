"""The HTTP API (CONTRACT.md, plus two documented additions in docs/api.md).

Every input is untrusted: bodies are read up to a limit (chunked ones too), decoded strictly and
validated by the models; every failure is a JSON ``{"error": ...}`` with a 4xx status.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.routing import PathConverter

from pipelinelib.errors import (
    InvalidInputError,
    PayloadTooLargeError,
    PipelinelibError,
)
from pipelinelib.formats import strict_json
from pipelinelib.model import (
    MAX_TEXT,
    Manifest,
    validate_build_number,
    validate_environment_name,
    validate_job_name,
    validate_service_name,
)
from pipelinelib.pipeline import publish as publish_verbs
from pipelinelib.pipeline import query
from pipelinelib.store import ManifestStore

blueprint = Blueprint("api", __name__)
MAX_LIMIT = 1000
_RESULTS = ("SUCCESS", "UNSTABLE", "FAILURE", "ABORTED", "NOT_BUILT")


class JobConverter(PathConverter):
    """A Jenkins full name with folders (``team/service1-build``); validated in the view."""

    regex = r"[^/][\s\S]*?"


def register_converters(app: Flask) -> None:
    app.url_map.converters["job"] = JobConverter


# The converter must exist before the blueprint's rules are bound; Flask binds on registration.
def _record_converter(state: Any) -> None:
    state.app.url_map.converters["job"] = JobConverter


blueprint.record_once(_record_converter)


def _ext() -> dict[str, Any]:
    ext: dict[str, Any] = current_app.extensions["pipelinelib"]
    return ext


def _store() -> ManifestStore:
    store: ManifestStore = _ext()["store"]
    return store


def _authorize(scope: str) -> None:
    _ext()["auth"].check(request.headers.get("Authorization"), scope)


_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def dumps(data: Any) -> str:
    """JSON with no raw ``<``, ``>`` or ``&``: inert even if something renders it as HTML."""
    return json.dumps(data, ensure_ascii=True).translate(_HTML_SAFE) + "\n"


def _json(data: Any, status: int = 200) -> Response:
    return Response(dumps(data), status=status, mimetype="application/json")


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type="text/plain; charset=utf-8")


def _limit(default: str = "100") -> int:
    raw = request.args.get("limit", default)
    if not raw.isascii() or not raw.isdigit() or len(raw) > 5 or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be an integer between 1 and {MAX_LIMIT}")
    return int(raw)


def _number(raw: str) -> int:
    return validate_build_number(raw)


def _read_body() -> bytes:
    """At most ``max_body`` bytes, whatever Content-Length says (or doesn't, when chunked)."""
    limit: int = _ext()["max_body"]
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLargeError(f"request body is larger than {limit} bytes")
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"request body is larger than {limit} bytes")
    return data


def _json_body() -> Any:
    mimetype = request.mimetype
    if mimetype and mimetype != "application/json":
        raise InvalidInputError(f"expected Content-Type application/json, not {mimetype}")
    data = _read_body()
    if not data.strip():
        raise InvalidInputError("request body is empty; expected a JSON object")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"request body is not UTF-8 (byte {exc.start})") from exc

    return strict_json.loads(text, "request body")


# --- operations --------------------------------------------------------------------------------


@blueprint.get("/healthz")
def healthz() -> Response:
    """Ready when the store answers and can take a write (pipelinelib.service.health)."""
    problem = _ext()["health"].check(_store())
    if problem is not None:
        return _json({"status": "unavailable", "error": problem}, 503)
    return _json({"status": "ok"})


@blueprint.get("/metrics")
def metrics() -> Response:
    from pipelinelib.service.metrics import CONTENT_TYPE

    return Response(_ext()["metrics"].render(), content_type=CONTENT_TYPE)


@blueprint.get("/api/v1/openapi.json")
def openapi() -> Response:
    from pipelinelib.service.openapi import document

    return _json(document())


# --- builds ------------------------------------------------------------------------------------


@blueprint.post("/api/v1/builds")
def publish() -> Response:
    counter = _ext()["metrics"].publishes
    try:
        _authorize("publish")
    except PipelinelibError:
        counter.labels("refused").inc()
        raise
    try:
        manifest = Manifest.from_dict(_json_body())
    except InvalidInputError:
        counter.labels("invalid").inc()
        raise
    if request.args.get("check") == "true":  # record-deployment --check: nothing is recorded
        would_create = publish_verbs.check_build(_store(), manifest)
        return _json({"would_create": would_create, "manifest": manifest.to_dict()})
    try:
        created = publish_verbs.register_build(_store(), manifest)
    except PipelinelibError as exc:
        counter.labels("conflict" if exc.http_status == 409 else "error").inc()
        raise
    counter.labels("created" if created else "identical").inc()
    response = _json(manifest.to_dict(), 201 if created else 200)
    # Job names may hold any Unicode; a header is Latin-1, so the path is percent-encoded.
    job_path = quote(manifest.job, safe="/")
    response.headers["Location"] = f"/api/v1/jobs/{job_path}/builds/{manifest.number}"
    return response


@blueprint.get("/api/v1/jobs/<job:job>/builds")
def list_builds(job: str) -> Response:
    _authorize("read")
    validate_job_name(job)
    result: str | None = request.args.get("result", "SUCCESS")
    if result in ("", "ANY", "any", "*"):
        result = None
    elif result not in _RESULTS:
        raise InvalidInputError(f"result must be one of {', '.join(_RESULTS)} or ANY")
    builds = query.job_builds(_store(), job, result=result, limit=_limit())
    return _json({"builds": [m.to_dict() for m in builds]})


@blueprint.get("/api/v1/jobs/<job:job>/builds/<number>")
def get_build(job: str, number: str) -> Response:
    _authorize("read")
    return _json(query.get_build(_store(), validate_job_name(job), _number(number)).to_dict())


@blueprint.get("/api/v1/jobs/<job:job>/builds/<number>/env.groovy")
def env_groovy(job: str, number: str) -> Response:
    _authorize("read")
    job, build = validate_job_name(job), _number(number)
    return _text(query.env_groovy(_store(), job, build, request.args.get("service")))


@blueprint.put("/api/v1/jobs/<job:job>/builds/<number>/display-name")
def set_display_name(job: str, number: str) -> Response:
    _authorize("publish")
    validate_job_name(job)
    build = _number(number)
    body = _json_body()
    if not isinstance(body, dict) or set(body) != {"display_name"}:
        raise InvalidInputError('expected {"display_name": "..."}')
    name = body["display_name"]
    if not isinstance(name, str):
        raise InvalidInputError("display_name must be a string")
    if len(name) > MAX_TEXT:
        raise InvalidInputError(f"display_name is longer than {MAX_TEXT} characters")
    return _json(publish_verbs.record_display_name(_store(), job, build, name).to_dict())


def _choices_body(store: ManifestStore, job: str, limit: int) -> tuple[str, str]:
    """Body and ETag; a SqlStore's job generation keys the per-process cache (choices_cache)."""
    from pipelinelib.service.choices_cache import render

    generation = query.job_generation(store, job)
    if generation is None:
        return render(query.choice_lines(store, job, limit=limit))
    cache = _ext()["choices_cache"]
    return cache.get(job, limit, generation, lambda: query.choice_lines(store, job, limit=limit))  # type: ignore[no-any-return]


@blueprint.get("/api/v1/jobs/<job:job>/choices")
def choices(job: str) -> Response:
    _authorize("read")
    validate_job_name(job)
    store = _store()
    limit = _limit()
    body, etag = _choices_body(store, job, limit)
    response = _text(body)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    response.make_conditional(request)
    return response


@blueprint.get("/api/v1/services/<service>/builds/<build>")
def service_build(service: str, build: str) -> Response:
    _authorize("read")
    found = query.service_build(_store(), validate_service_name(service), _number(build))
    return _json({"service": found.name, **found.to_dict()})


@blueprint.get("/api/v1/services/<service>/builds")
def service_builds(service: str) -> Response:
    """``?after=N&upto=M``: the service's published builds with N < build <= M, newest first."""
    _authorize("read")
    after = request.args.get("after", "0")
    upto = request.args.get("upto", "")
    low = 0 if after == "0" else _number(after)
    found = query.service_builds_between(
        _store(), validate_service_name(service), low, _number(upto), limit=_limit()
    )
    return _json({"builds": [{"service": b.name, **b.to_dict()} for b in found]})


# --- environments ------------------------------------------------------------------------------


@blueprint.get("/api/v1/environments")
def environments() -> Response:
    _authorize("read")
    current = query.environments(_store())
    return _json({"environments": {env: m.to_dict() for env, m in current.items()}})


@blueprint.get("/api/v1/environments/<env>/history")
def history(env: str) -> Response:
    _authorize("read")
    validate_environment_name(env)
    from pipelinelib.service.ledger_api import cursor

    found, next_before = query.environment_history(
        _store(), env, before=cursor(), limit=_limit(default="100")
    )
    return _json({"deployments": [m.to_dict() for m in found], "next_before": next_before})
