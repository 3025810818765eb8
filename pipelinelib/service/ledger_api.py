"""Ledger routes whose cost does not grow with history (issue 18).

* ``GET /api/v1/deployments?environment=&service=&since=&before=&limit=``: a page of
  deployments newest first, without their services, and the cursor of the next page.
* ``GET /api/v1/service-builds?range=SERVICE:AFTER:UPTO&…&limit=``: the builds many services
  gained between two builds, in one store query (``pipelinelib diff`` over ``--server``).
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, request

from pipelinelib.errors import InvalidInputError
from pipelinelib.model import validate_build_number, validate_environment_name
from pipelinelib.pipeline import query
from pipelinelib.service.api import MAX_LIMIT, _authorize, _json, _store

blueprint = Blueprint("ledger_api", __name__)

MAX_RANGES = 100
DEFAULT_PAGE = 50


def page_limit(default: int = DEFAULT_PAGE) -> int:
    raw = request.args.get("limit", str(default))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 5 or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be an integer between 1 and {MAX_LIMIT}")
    return int(raw)


def cursor() -> int | None:
    raw = request.args.get("before")
    return None if raw is None else validate_build_number(raw)


def parse_since(raw: str | None) -> datetime | None:
    """ISO 8601 date or date-time; without a zone it is UTC (one rule: pipelinelib.insight)."""
    from pipelinelib.insight import parse_since as parse

    return parse(raw)


@blueprint.get("/api/v1/deployments")
def deployments() -> Response:
    _authorize("read")
    environment = request.args.get("environment")
    found = query.deployments(
        _store(),
        environment=validate_environment_name(environment) if environment else None,
        service=request.args.get("service") or None,
        since=parse_since(request.args.get("since")),
        before=cursor(),
        limit=page_limit(),
    )
    return _json(found.to_dict())


@blueprint.get("/api/v1/service-builds")
def service_builds() -> Response:
    _authorize("read")
    raw = request.args.getlist("range")
    if not raw:
        raise InvalidInputError("the query needs ?range=SERVICE:AFTER:UPTO (one or more)")
    if len(raw) > MAX_RANGES:
        raise InvalidInputError(f"at most {MAX_RANGES} ranges per request")
    ranges: dict[str, tuple[int, int]] = {}
    for item in raw:
        parts = item.split(":")
        if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts[1:]):
            raise InvalidInputError(f"range must be SERVICE:AFTER:UPTO, not {item[:80]!r}")
        after, upto = int(parts[1]), int(parts[2])
        if after > 2_147_483_647 or upto > 2_147_483_647:
            raise InvalidInputError("build numbers must be at most 2147483647")
        ranges[parts[0]] = (after, upto)
    found = query.service_builds_between_many(_store(), ranges, limit=page_limit(100))
    return _json(
        {
            "services": {
                name: [{"service": b.name, **b.to_dict()} for b in builds]
                for name, builds in found.items()
            }
        }
    )
