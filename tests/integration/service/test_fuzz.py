"""Fuzz every operation of the OpenAPI document with schemathesis against a live server.

Generated requests (valid and invalid by the schema) must never get a 5xx; every 4xx must be a
JSON ``{"error": ...}``; responses must match the document. The count of requests is reported.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.fakes.manifests import build_manifest
from tests.fixtures.service import FUZZ_REQUESTS, LiveService

MAX_EXAMPLES = 40


@pytest.fixture
def fuzz_report() -> dict[str, int]:
    FUZZ_REQUESTS.clear()
    return FUZZ_REQUESTS


def _seed(service: LiveService) -> None:
    with requests.Session() as http:
        for n in (1, 2, 3):
            http.post(
                f"{service.url}/api/v1/builds",
                json=build_manifest("team/app", n).to_dict(),
                headers={"Authorization": f"Bearer {service.token}"},
                timeout=10,
            ).raise_for_status()


def test_fuzz_every_operation(live_service: LiveService, fuzz_report: dict[str, int]) -> None:
    _seed(live_service)
    schema = schemathesis.openapi.from_url(f"{live_service.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {
        f"{method.upper()} {path}"
        for path, methods in schema.raw_schema["paths"].items()
        for method in methods
    }
    # schemathesis leaves out the document's own path; test_api checks that route directly.
    assert {op.label for op in operations} == documented - {"GET /api/v1/openapi.json"}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def fuzz(case: Any) -> None:
                key = f"{case.method} {case.path}"
                fuzz_report[key] = fuzz_report.get(key, 0) + 1
                response = case.call(
                    base_url=live_service.url,
                    headers={"Authorization": f"Bearer {live_service.token}"},
                    timeout=30,
                )
                assert response.status_code < 500, (key, response.status_code, response.text[:300])
                headers = {k.lower(): v for k, v in response.headers.items()}
                content_type = headers.get("content-type")
                if isinstance(content_type, list):
                    content_type = content_type[0]
                if response.status_code >= 400:
                    assert content_type == "application/json", (key, response.status_code)
                    assert isinstance(json.loads(response.text)["error"], str)

            try:
                fuzz()
            except Unsatisfiable:
                # No parameters or body to make invalid (GET /healthz): nothing negative to try.
                assert mode is GenerationMode.NEGATIVE and not operation.body
    assert set(fuzz_report) == {op.label for op in operations}
    assert sum(fuzz_report.values()) > 400
