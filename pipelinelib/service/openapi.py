"""The OpenAPI 3.0 document of every route (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pipelinelib import __version__

_NAME = "^[a-z0-9][a-z0-9_-]{0,62}$"
_ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_JOB = {
    "name": "job",
    "in": "path",
    "required": True,
    "description": "Jenkins full name; folders are separated by '/'",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
_NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
}
_LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
}
_READ_ERRORS = {
    "400": _error("invalid name, number or query parameter"),
    "401": _error("a token is required (only when reads are protected)"),
    "403": _error("the token may not read"),
    "404": _error("unknown job, build, service or environment"),
    "503": _error("the store is unavailable"),
}
_WRITE_ERRORS = {
    "400": _error("invalid JSON or manifest"),
    "401": _error("missing or unknown token"),
    "403": _error("the token lacks the publish scope, or writes are disabled"),
    "413": _error("the body is larger than the limit (1 MiB by default)"),
    "503": _error("the store is unavailable"),
}
_BUILDS = {
    "type": "object",
    "required": ["builds"],
    "properties": {"builds": {"type": "array", "items": {"$ref": "#/components/schemas/Manifest"}}},
}
_MANIFEST_REF = {"$ref": "#/components/schemas/Manifest"}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    nullable_text = {"type": "string", "nullable": True, "maxLength": 65536}
    service_build = {
        "type": "object",
        "additionalProperties": False,
        "required": ["build"],
        "properties": {
            "build": {"type": "integer", "minimum": 1, "maximum": 2147483647},
            "image": {"type": "string", "nullable": True},
            "digest": {"type": "string", "nullable": True},
            "commit": {"type": "string", "nullable": True, "pattern": "^[0-9a-f]{7,64}$"},
            "commit_message": nullable_text,
            "commit_time": {
                "type": "string",
                "format": "date-time",
                "description": "RFC 3339, when the commit was made (issue 17; optional)",
            },
        },
    }
    approval = {
        "type": "object",
        "additionalProperties": False,
        "required": ["by", "at"],
        "properties": {
            "by": {"type": "string"},
            "at": {"type": "string"},
            "comment": {"type": "string", "nullable": True},
        },
    }
    manifest = {
        "type": "object",
        "additionalProperties": False,
        "required": ["job", "number", "services"],
        "properties": {
            "job": {"type": "string", "minLength": 1, "maxLength": 255},
            "number": {"type": "integer", "minimum": 1, "maximum": 2147483647},
            "display_name": nullable_text,
            "result": {
                "type": "string",
                "enum": ["SUCCESS", "UNSTABLE", "FAILURE", "ABORTED", "NOT_BUILT"],
            },
            "environment": {"type": "string", "nullable": True, "pattern": _NAME},
            "source": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "required": ["job", "number"],
                "properties": {
                    "job": {"type": "string"},
                    "number": {"type": "integer", "minimum": 1},
                },
            },
            "url": {"type": "string", "nullable": True, "maxLength": 2048},
            "services": {"type": "object", "additionalProperties": service_build},
            "deployment": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "description": "what a deploy build adds (addition to CONTRACT)",
                "properties": {
                    "deployed_by": {"type": "string", "nullable": True, "maxLength": 255},
                    "overrides": {"type": "array", "items": {"type": "string", "pattern": _NAME}},
                    "kind": {"type": "string", "enum": ["deploy", "rollback"]},
                    "reason": {"type": "string", "nullable": True, "maxLength": 1000},
                    "requested_by": {"type": "string", "nullable": True, "maxLength": 255},
                    "approvals": {"type": "array", "items": approval},
                    "skip_order": {"type": "string", "nullable": True, "maxLength": 1000},
                    "override_freeze": {"type": "string", "nullable": True, "maxLength": 1000},
                    "lock": {"type": "string", "nullable": True, "maxLength": 300},
                    "started_at": {
                        "type": "string",
                        "nullable": True,
                        "format": "date-time",
                        "maxLength": 64,
                        "description": "when the deploy build started (RFC 3339 with an offset)",
                    },
                    "rollout": {
                        "type": "object",
                        "nullable": True,
                        "additionalProperties": {
                            "type": "string",
                            "enum": [
                                "COMPLETED",
                                "UNCHANGED",
                                "FAILED",
                                "ROLLED_BACK",
                                "TIMED_OUT",
                                "IN_PROGRESS",
                            ],
                        },
                    },
                },
            },
        },
    }
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "pipelinelib manifest service",
            "version": __version__,
            "description": "Every build's manifest, choices for Jenkins parameters, and the "
            "environments ledger. Writes need 'Authorization: Bearer <token>' with the "
            'publish scope. Every error is a JSON object {"error": message}.',
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
                "Manifest": manifest,
                "ServiceBuild": service_build,
            },
        },
        "paths": {
            "/healthz": {
                "get": {
                    "summary": "The store answers",
                    "responses": {
                        "200": _json("healthy", {"type": "object"}),
                        "503": _json("the store does not answer", {"type": "object"}),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "responses": {
                        "200": {
                            "description": "text exposition format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": _json("OpenAPI 3.0", {"type": "object"})},
                }
            },
            "/": {
                "get": {
                    "summary": "The web page",
                    "responses": {
                        "200": {
                            "description": "HTML",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/api/v1/builds": {
                "post": {
                    "summary": "Record a build's manifest (idempotent)",
                    "parameters": [
                        {
                            "name": "check",
                            "in": "query",
                            "required": False,
                            "description": "true: run every check, record nothing; 200 "
                            "{would_create, manifest}",
                            "schema": {"type": "string", "enum": ["true", "false"]},
                        }
                    ],
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _MANIFEST_REF}},
                    },
                    "responses": {
                        "201": _json("recorded", _MANIFEST_REF),
                        "200": _json("an identical record existed", _MANIFEST_REF),
                        "409": _error("job #number exists with different content"),
                        **_WRITE_ERRORS,
                    },
                }
            },
            "/api/v1/jobs/{job}/builds": {
                "get": {
                    "summary": "Builds of a job, newest first",
                    "parameters": [
                        _JOB,
                        {
                            "name": "result",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "string",
                                "enum": [
                                    "SUCCESS",
                                    "UNSTABLE",
                                    "FAILURE",
                                    "ABORTED",
                                    "NOT_BUILT",
                                    "ANY",
                                ],
                                "default": "SUCCESS",
                            },
                        },
                        _LIMIT,
                    ],
                    "responses": {"200": _json("builds", _BUILDS), **_READ_ERRORS},
                }
            },
            "/api/v1/jobs/{job}/builds/{number}": {
                "get": {
                    "summary": "One build's manifest",
                    "parameters": [_JOB, _NUMBER],
                    "responses": {"200": _json("the manifest", _MANIFEST_REF), **_READ_ERRORS},
                }
            },
            "/api/v1/jobs/{job}/builds/{number}/env.groovy": {
                "get": {
                    "summary": "The env.groovy text of a build (all services or one)",
                    "parameters": [
                        _JOB,
                        _NUMBER,
                        {
                            "name": "service",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "pattern": _NAME},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "env.groovy",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        **_READ_ERRORS,
                    },
                }
            },
            "/api/v1/jobs/{job}/builds/{number}/display-name": {
                "put": {
                    "summary": "Set the display name shown in listings (addition to CONTRACT)",
                    "security": [{"bearer": []}],
                    "parameters": [_JOB, _NUMBER],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["display_name"],
                                    "properties": {
                                        "display_name": {"type": "string", "maxLength": 65536}
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json("the manifest as listed", _MANIFEST_REF),
                        "404": _error("unknown build"),
                        **_WRITE_ERRORS,
                    },
                }
            },
            "/api/v1/jobs/{job}/choices": {
                "get": {
                    "summary": "NUMBER-SUBJECT lines of the newest successful builds",
                    "parameters": [_JOB, _LIMIT],
                    "responses": {
                        "200": {
                            "description": "one choice per line; ETag",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "304": {"description": "unchanged since If-None-Match"},
                        **_READ_ERRORS,
                    },
                }
            },
            "/api/v1/services/{service}/builds/{build}": {
                "get": {
                    "summary": "A service's build as published (addition to CONTRACT)",
                    "parameters": [
                        {
                            "name": "service",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": _NAME},
                        },
                        {
                            "name": "build",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                        },
                    ],
                    "responses": {
                        "200": _json("the service build", {"type": "object"}),
                        **_READ_ERRORS,
                    },
                }
            },
            "/api/v1/services/{service}/builds": {
                "get": {
                    "summary": "A service's published builds with after < build <= upto, newest "
                    "first: the commits a promotion brings (addition to CONTRACT)",
                    "parameters": [
                        {
                            "name": "service",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": _NAME},
                        },
                        {
                            "name": "after",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647},
                        },
                        {
                            "name": "upto",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                        },
                        _LIMIT,
                    ],
                    "responses": {
                        "200": _json("service builds", {"type": "object"}),
                        **_READ_ERRORS,
                    },
                }
            },
            "/environments/{env}": {
                "get": {
                    "summary": "The web board: an environment's deployments (HTML)",
                    "parameters": [
                        {
                            "name": "env",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": _NAME},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "HTML page",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        },
                        **_READ_ERRORS,
                    },
                }
            },
            "/diff": {
                "get": {
                    "summary": "The web board: what promoting one environment to another changes",
                    "parameters": [
                        {
                            "name": name,
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "pattern": _NAME},
                        }
                        for name in ("from", "to")
                    ],
                    "responses": {
                        "200": {
                            "description": "HTML page",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        },
                        **_READ_ERRORS,
                    },
                }
            },
            "/api/v1/environments": {
                "get": {
                    "summary": "The newest successful deployment per environment",
                    "responses": {
                        "200": _json(
                            "environments",
                            {
                                "type": "object",
                                "properties": {
                                    "environments": {
                                        "type": "object",
                                        "additionalProperties": _MANIFEST_REF,
                                    }
                                },
                            },
                        ),
                        **_READ_ERRORS,
                    },
                }
            },
            "/api/v1/deployments": {
                "get": {
                    "summary": "A page of deployments, newest first, without their services; "
                    "next_before is the cursor of the next page (addition to CONTRACT)",
                    "parameters": [
                        {
                            "name": "environment",
                            "in": "query",
                            "schema": {"type": "string", "pattern": _NAME},
                        },
                        {
                            "name": "service",
                            "in": "query",
                            "schema": {"type": "string", "pattern": _NAME},
                        },
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
                        {
                            **_LIMIT,
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 1000,
                                "default": 50,
                            },
                        },
                    ],
                    "responses": {
                        "200": _json(
                            "a page of deployments",
                            {
                                "type": "object",
                                "required": ["deployments", "next_before"],
                                "properties": {
                                    "deployments": {"type": "array", "items": {"type": "object"}},
                                    "next_before": {"type": "integer", "nullable": True},
                                },
                            },
                        ),
                        **_READ_ERRORS,
                    },
                }
            },
            "/api/v1/service-builds": {
                "get": {
                    "summary": "Per service, the published builds with after < build <= upto, "
                    "newest first, for up to 100 services in one query (addition to CONTRACT)",
                    "parameters": [
                        {
                            "name": "range",
                            "in": "query",
                            "required": True,
                            "description": "SERVICE:AFTER:UPTO, repeated",
                            "style": "form",
                            "explode": True,
                            "schema": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": 100,
                                "items": {
                                    "type": "string",
                                    "pattern": "^[a-z0-9][a-z0-9_-]{0,62}:[0-9]{1,10}:[0-9]{1,10}$",
                                },
                            },
                        },
                        _LIMIT,
                    ],
                    "responses": {
                        "200": _json("service builds per service", {"type": "object"}),
                        **_READ_ERRORS,
                    },
                }
            },
            **control_paths(approval),
            "/api/v1/environments/{env}/history": {
                "get": {
                    "summary": "Deployments of an environment, newest first",
                    "parameters": [
                        {
                            "name": "env",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": _NAME},
                        },
                        _LIMIT,
                        {
                            "name": "before",
                            "in": "query",
                            "description": "the next_before of the previous page",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                        },
                    ],
                    "responses": {
                        "200": _json(
                            "deployments",
                            {
                                "type": "object",
                                "properties": {
                                    "deployments": {"type": "array", "items": _MANIFEST_REF},
                                    "next_before": {"type": "integer", "nullable": True},
                                },
                            },
                        ),
                        **_READ_ERRORS,
                    },
                }
            },
        },
    }
    from pipelinelib.service.insight import openapi_paths

    doc["paths"].update(openapi_paths(_json, _READ_ERRORS, _LIMIT))
    return doc


_ENV = {
    "name": "env",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": _NAME},
}
_CONTROL_ERRORS = {
    **_WRITE_ERRORS,
    "404": _error("unknown environment, no lock or no approval request"),
    "409": _error("locked by someone else, or requested by someone else"),
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def control_paths(approval: dict[str, Any]) -> dict[str, Any]:
    """Promotion control routes (docs/promotion.md)."""
    lock = {
        "type": "object",
        "properties": {
            "environment": {"type": "string"},
            "holder": {"type": "string"},
            "reason": {"type": "string"},
            "acquired_at": {"type": "string"},
            "expires_at": {"type": "string"},
            "expired": {"type": "boolean"},
        },
    }
    request = {
        "type": "object",
        "properties": {
            "environment": {"type": "string"},
            "job": {"type": "string"},
            "number": {"type": "integer"},
            "requested_by": {"type": "string"},
            "requested_via": {"type": "string", "nullable": True},
            "requested_at": {"type": "string"},
            "required": {"type": "integer"},
            "approved": {"type": "boolean"},
            "approvals": {"type": "array", "items": approval},
        },
    }
    build_ref = {
        "job": {"type": "string", "minLength": 1, "maxLength": 255},
        "number": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    }
    return {
        "/api/v1/environments/config": {
            "get": {
                "summary": "The environments file the service enforces (order, protection, "
                "approvals, freeze windows)",
                "responses": {
                    "200": _json("environments file", {"type": "object"}),
                    **_READ_ERRORS,
                },
            }
        },
        "/api/v1/locks": {
            "get": {
                "summary": "Every environment lock (expired ones marked)",
                "responses": {
                    "200": _json(
                        "locks",
                        {
                            "type": "object",
                            "properties": {"locks": {"type": "array", "items": lock}},
                        },
                    ),
                    **_READ_ERRORS,
                },
            }
        },
        "/api/v1/approval-requests": {
            "get": {
                "summary": "Open approval requests (their deployment not recorded yet), newest "
                "first",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100},
                    }
                ],
                "responses": {
                    "200": _json(
                        "approval requests",
                        {
                            "type": "object",
                            "properties": {
                                "approval_requests": {"type": "array", "items": request}
                            },
                        },
                    ),
                    **_READ_ERRORS,
                },
            }
        },
        "/api/v1/environments/{env}/lock": {
            "post": {
                "summary": "Take or extend the environment's lock (holder: the token's identity "
                "unless given)",
                "parameters": [_ENV],
                "requestBody": _body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["reason"],
                        "properties": {
                            "holder": {"type": "string", "maxLength": 300},
                            "reason": {"type": "string", "maxLength": 1000},
                            "ttl_seconds": {"type": "number", "minimum": 1, "maximum": 604800},
                        },
                    }
                ),
                "responses": {"201": _json("the lock", lock), **_CONTROL_ERRORS},
            }
        },
        "/api/v1/environments/{env}/unlock": {
            "post": {
                "summary": "Release the holder's lock (force: anyone's)",
                "parameters": [_ENV],
                "requestBody": _body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "holder": {"type": "string", "maxLength": 300},
                            "force": {"type": "boolean"},
                        },
                    }
                ),
                "responses": {"200": _json("the released lock", lock), **_CONTROL_ERRORS},
            }
        },
        "/api/v1/environments/{env}/approval-requests": {
            "post": {
                "summary": "A deploy build asks for approvals to a protected environment",
                "parameters": [_ENV],
                "requestBody": _body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["job", "number"],
                        "properties": {**build_ref, "requested_by": {"type": "string"}},
                    }
                ),
                "responses": {"201": _json("the request", request), **_CONTROL_ERRORS},
            }
        },
        "/api/v1/environments/{env}/approvals": {
            "post": {
                "summary": "Approve a requested deployment (approver: the token's identity; "
                "needs the approve scope; never the requester)",
                "parameters": [_ENV],
                "requestBody": _body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["job", "number"],
                        "properties": {**build_ref, "comment": {"type": "string"}},
                    }
                ),
                "responses": {"201": _json("the request", request), **_CONTROL_ERRORS},
            },
            "get": {
                "summary": "A deployment's approval request and approvals",
                "parameters": [
                    _ENV,
                    {"name": "job", "in": "query", "required": True, "schema": build_ref["job"]},
                    {
                        "name": "number",
                        "in": "query",
                        "required": True,
                        "schema": build_ref["number"],
                    },
                ],
                "responses": {"200": _json("the request", request), **_READ_ERRORS},
            },
        },
    }
