"""Promotion control over HTTP: the environments file, locks, approval requests, approvals.

Identities come from the token (``identity=NAME`` in the tokens file), never from the body,
except ``requested_by``: Jenkins records a request on behalf of the person who started the
deploy build, and the request keeps the token's identity beside it (``requested_via``) so
neither can approve it. Every failure is a JSON ``{"error": ...}`` with a 4xx status.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from pipelinelib.errors import InvalidInputError, PermissionDeniedError
from pipelinelib.model import validate_build_number, validate_environment_name, validate_job_name
from pipelinelib.pipeline import promote, query
from pipelinelib.service import api

blueprint = Blueprint("control", __name__)


def _identity() -> str | None:
    auth = api._ext()["auth"]
    identity: str | None = auth.identity(request.headers.get("Authorization"))
    return identity


def _object(allowed: set[str], required: frozenset[str] = frozenset()) -> dict[str, Any]:
    body = api._json_body()
    if not isinstance(body, dict):
        raise InvalidInputError("expected a JSON object")
    unknown = set(body) - allowed
    if unknown:
        raise InvalidInputError(f"unknown fields: {sorted(unknown)}")
    missing = required - set(body)
    if missing:
        raise InvalidInputError(f"missing fields: {sorted(missing)}")
    return body


def _build_ref(body: dict[str, Any]) -> tuple[str, int]:
    job, number = body["job"], body["number"]
    if not isinstance(job, str):
        raise InvalidInputError("job must be a string")
    if isinstance(number, bool) or not isinstance(number, int):
        raise InvalidInputError("number must be an integer")
    return validate_job_name(job), validate_build_number(number)


def _optional_text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInputError(f"{key} must be a string")
    return value


@blueprint.get("/api/v1/environments/config")
def environments_config() -> Response:
    api._authorize("read")
    return api._json(api._ext()["environments"].to_dict())


@blueprint.get("/api/v1/locks")
def locks() -> Response:
    api._authorize("read")
    return api._json({"locks": [lock.to_dict() for lock in query.locks(api._store())]})


@blueprint.get("/api/v1/approval-requests")
def pending_approvals() -> Response:
    """Open approval requests (deployment not recorded yet), newest first; ``?limit=`` 1..100."""
    api._authorize("read")
    raw = request.args.get("limit", "100")
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 100):
        raise InvalidInputError("limit must be a whole number from 1 to 100")
    found = query.pending_approvals(api._store(), int(raw))
    return api._json({"approval_requests": [r.to_dict() for r in found]})


@blueprint.post("/api/v1/environments/<env>/lock")
def lock(env: str) -> Response:
    api._authorize("publish")
    validate_environment_name(env)
    body = _object({"holder", "reason", "ttl_seconds"}, frozenset({"reason"}))
    holder = _optional_text(body, "holder") or _identity()
    if holder is None:
        raise InvalidInputError("no holder: give one, or use a token with an identity")
    reason = _optional_text(body, "reason") or ""
    ttl = body.get("ttl_seconds", 7200)
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise InvalidInputError("ttl_seconds must be a number")
    taken = promote.acquire_lock(api._store(), env, holder=holder, reason=reason, ttl=float(ttl))
    return api._json(taken.to_dict(), 201)


@blueprint.post("/api/v1/environments/<env>/unlock")
def unlock(env: str) -> Response:
    api._authorize("publish")
    validate_environment_name(env)
    body = _object({"holder", "force"})
    holder = _optional_text(body, "holder") or _identity()
    if holder is None:
        raise InvalidInputError("no holder: give one, or use a token with an identity")
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise InvalidInputError("force must be true or false")
    released = promote.release_lock(api._store(), env, holder=holder, force=force)
    return api._json(released.to_dict())


@blueprint.post("/api/v1/environments/<env>/approval-requests")
def request_approval(env: str) -> Response:
    api._authorize("publish")
    validate_environment_name(env)
    body = _object({"job", "number", "requested_by"}, frozenset({"job", "number"}))
    job, number = _build_ref(body)
    via = _identity()
    requested_by = _optional_text(body, "requested_by") or via
    if requested_by is None:
        raise InvalidInputError("no requester: give requested_by or use a token with an identity")
    found = promote.request_approval(
        api._store(), env, job, number, requested_by=requested_by, requested_via=via
    )
    return api._json(found.to_dict(), 201)


@blueprint.post("/api/v1/environments/<env>/approvals")
def approve(env: str) -> Response:
    api._authorize("approve")
    validate_environment_name(env)
    body = _object({"job", "number", "comment"}, frozenset({"job", "number"}))
    job, number = _build_ref(body)
    approver = _identity()
    if approver is None:
        raise PermissionDeniedError(
            "approvals need a token with an identity (identity=NAME in the tokens file)"
        )
    found = promote.approve(
        api._store(), env, job, number, approver=approver, comment=_optional_text(body, "comment")
    )
    return api._json(found.to_dict(), 201)


@blueprint.get("/api/v1/environments/<env>/approvals")
def approvals(env: str) -> Response:
    api._authorize("read")
    validate_environment_name(env)
    job = request.args.get("job")
    number = request.args.get("number")
    if not job or not number:
        raise InvalidInputError("the query needs ?job=JOB&number=N")
    found = query.approval_request(
        api._store(), env, validate_job_name(job), validate_build_number(number)
    )
    return api._json(found.to_dict())
