"""The ledger's read queries on the SQL store, written to stay flat as history grows.

* :func:`builds_between_many`: the commits a promotion brings for every upgraded service in ONE
  query: the ranges travel as one JSON parameter (SQLite ``json_each``, PostgreSQL
  ``jsonb_to_recordset``) joined to the ``ix_build_services_published`` index, which holds the
  build jobs' own rows apart from the deployment rows that copy the same build.
* :func:`deployments`: a page of deployments newest first from ``builds.summary`` (the manifest
  without its services), keyed by the ``(environment, id)`` index; the cursor is the id.

Used by :class:`pipelinelib.store.sql.SqlStore` (migration ``0004_ledger_indexes``) and by
:mod:`pipelinelib.store.sqlite_reader`, so this module imports no SQLAlchemy: the statements are
plain SQL text with ``:named`` parameters, which both SQLAlchemy and :mod:`sqlite3` accept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pipelinelib.errors import InvalidInputError
from pipelinelib.ledger import DeploymentPage, DeploymentRecord
from pipelinelib.model import (
    DeploymentInfo,
    Manifest,
    ServiceBuild,
    SourceRef,
    validate_build_number,
    validate_environment_name,
    validate_service_name,
)

_BETWEEN_SQLITE = """
    SELECT service, service_build, manifest FROM (
      SELECT bs.service AS service, bs.service_build AS service_build, b.manifest AS manifest,
             b.id AS build_id,
             DENSE_RANK() OVER (PARTITION BY bs.service ORDER BY bs.service_build DESC) AS nth
      FROM json_each(:ranges) AS r
      JOIN build_services AS bs
        ON bs.service = json_extract(r.value, '$.service')
       AND bs.is_deployment = :no
       AND bs.service_build > json_extract(r.value, '$.after')
       AND bs.service_build <= json_extract(r.value, '$.upto')
      JOIN builds AS b ON b.id = bs.build_id
      WHERE b.result = 'SUCCESS'
    ) AS found
    WHERE nth <= :limit
    ORDER BY service, service_build DESC, build_id
    """
_BETWEEN_POSTGRESQL = """
    SELECT service, service_build, manifest FROM (
      SELECT bs.service AS service, bs.service_build AS service_build, b.manifest AS manifest,
             b.id AS build_id,
             DENSE_RANK() OVER (PARTITION BY bs.service ORDER BY bs.service_build DESC) AS nth
      FROM jsonb_to_recordset(CAST(:ranges AS jsonb)) AS r(service text, after integer, upto integer)
      JOIN build_services AS bs
        ON bs.service = r.service
       AND bs.is_deployment = :no
       AND bs.service_build > r.after
       AND bs.service_build <= r.upto
      JOIN builds AS b ON b.id = bs.build_id
      WHERE b.result = 'SUCCESS'
    ) AS found
    WHERE nth <= :limit
    ORDER BY service, service_build DESC, build_id
    """


# A loose index scan: each step seeks the next environment name in ix_builds_environment_id,
# then the newest successful id of each in ix_builds_environment_result_id. Cost: a few seeks per
# environment, whatever the number of deployments (a GROUP BY reads every one of them).
NEWEST_PER_ENVIRONMENT = """
    WITH RECURSIVE envs(name) AS (
      SELECT MIN(environment) FROM builds WHERE environment IS NOT NULL
      UNION ALL
      SELECT (SELECT MIN(b.environment) FROM builds AS b WHERE b.environment > envs.name)
      FROM envs WHERE envs.name IS NOT NULL
    )
    SELECT (SELECT MAX(b.id) FROM builds AS b
            WHERE b.environment = envs.name AND b.result = 'SUCCESS') AS id
    FROM envs WHERE envs.name IS NOT NULL
    """


# The same walk, names only (the board's navigation): no manifest is read.
ENVIRONMENT_NAMES = """
    WITH RECURSIVE envs(name) AS (
      SELECT MIN(environment) FROM builds WHERE environment IS NOT NULL
      UNION ALL
      SELECT (SELECT MIN(b.environment) FROM builds AS b WHERE b.environment > envs.name)
      FROM envs WHERE envs.name IS NOT NULL
    )
    SELECT name FROM envs WHERE name IS NOT NULL
"""


def between_statement(dialect: str) -> str:
    return _BETWEEN_SQLITE if dialect == "sqlite" else _BETWEEN_POSTGRESQL


def between_params(ranges: Mapping[str, tuple[int, int]], limit: int) -> dict[str, Any]:
    """Validated ranges as the statement's parameters; InvalidInputError on a bad name/number."""
    rows = []
    for service, (after, upto) in sorted(ranges.items()):
        validate_service_name(service)
        for value in (after, upto):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInputError(f"build range of {service} must be integers >= 0")
        rows.append({"service": service, "after": after, "upto": upto})
    return {"ranges": json.dumps(rows), "no": False, "limit": limit}


def between_result(
    ranges: Mapping[str, tuple[int, int]], rows: Iterable[Any]
) -> dict[str, list[ServiceBuild]]:
    """Decode the rows (service, service_build, manifest) of :func:`between_statement`."""
    found: dict[str, dict[int, ServiceBuild]] = {name: {} for name in ranges}
    for service, build, text in rows:
        builds = found[service]
        if build not in builds:  # the earliest publish of a build is the build job's own
            builds[build] = ServiceBuild.from_dict(service, json.loads(text)["services"][service])
    return {name: list(builds.values()) for name, builds in found.items()}


def check_cursor(before: int | None) -> int | None:
    if before is None:
        return None
    return validate_build_number(before)


def check_since(since: datetime | None) -> datetime | None:
    if since is not None and (not isinstance(since, datetime) or since.tzinfo is None):
        raise InvalidInputError("since must be a timezone-aware datetime")
    return since


def check_filters(environment: str | None, service: str | None) -> None:
    if environment is not None:
        validate_environment_name(environment)
    if service is not None:
        validate_service_name(service)


def summary_of(data: dict[str, Any]) -> tuple[str, int]:
    """``builds.summary`` and ``builds.service_count`` of a manifest's ``to_dict()``."""
    rest = {key: value for key, value in data.items() if key != "services"}
    text = json.dumps(rest, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return text, len(data.get("services") or {})


def record(row: Any, display_name: str | None, recorded_at: datetime | None) -> DeploymentRecord:
    """A :class:`DeploymentRecord` from a row of id, summary, service_count (+ service_build)."""
    data = json.loads(row.summary)
    source = data.get("source")
    deployment = data.get("deployment")
    return DeploymentRecord(
        id=row.id,
        job=data["job"],
        number=data["number"],
        environment=data["environment"],
        result=data.get("result", "SUCCESS"),
        display_name=display_name if display_name is not None else data.get("display_name"),
        source=SourceRef(source["job"], source["number"]) if source else None,
        url=data.get("url"),
        deployment=DeploymentInfo.from_dict(deployment) if deployment else None,
        service_count=row.service_count or 0,
        recorded_at=recorded_at,
        service_build=getattr(row, "service_build", None),
    )


def page(records: list[DeploymentRecord], limit: int) -> DeploymentPage:
    """``limit + 1`` rows were read: the extra one only says there is a next page."""
    if len(records) > limit:
        return DeploymentPage(tuple(records[:limit]), records[limit - 1].id)
    return DeploymentPage(tuple(records), None)


# Environments: the rows of these ids, as SqlStore.environment_entries and the reader read them.
ENVIRONMENT_ROWS = """
    SELECT b.environment, b.manifest, b.created_at, d.name
    FROM builds AS b LEFT OUTER JOIN display_names AS d ON d.build_id = b.id
    WHERE b.id IN ({ids}) ORDER BY b.environment
"""


def utc(value: datetime | str | None) -> datetime | None:
    """SQLite hands back naive datetimes (or text, through sqlite3); every time stored is UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def stored_name(stored: str) -> str:
    """Display names set after publish are stored as JSON strings: NUL-safe everywhere."""
    value = json.loads(stored)
    return value if isinstance(value, str) else str(value)


def manifest_of(text: str, name: str | None) -> Manifest:
    """A stored manifest with the display name set after publish, if any."""
    import attrs

    manifest = Manifest.from_dict(json.loads(text))
    display_name = stored_name(name) if name is not None else None
    if display_name is not None and display_name != manifest.display_name:
        manifest = attrs.evolve(manifest, display_name=display_name)
    return manifest
