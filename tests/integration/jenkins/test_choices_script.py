"""The Extensible Choice script under real Groovy 2.4.21: service first, Jenkins' list as fallback.

All cases run in one Groovy process (start-up costs seconds); each case gets a fresh GroovyShell
and binding, as Extensible Choice gives it, and reports its own elapsed time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests

from pipelinelib.model import Choice, subject_of
from tests.conftest import ROOT, TESTS, Groovy
from tests.fakes.hostile import corpus
from tests.fixtures.jenkins import ChoicesServer
from tests.fixtures.service import LiveService

pytestmark = pytest.mark.groovy

SCRIPT = ROOT / "groovy" / "choices" / "upstream-builds.groovy"
RUNNER = TESTS / "groovy" / "run_choices.groovy"
TIMEOUT_MS = 800


def hex16(text: str) -> str:
    return text.encode("utf-16-be", "surrogatepass").hex()


def unhex16(payload: str) -> str:
    return bytes.fromhex(payload).decode("utf-16-be", "surrogatepass")


@attrs.frozen
class Outcome:
    elapsed_ms: int
    choices: list[str]
    error: str | None
    fallback: tuple[str, int] | None


def run_cases(groovy: Groovy, cases: list[dict[str, Any]], tmp_path: Path) -> list[Outcome]:
    encoded = []
    for case in cases:
        fallback = case.get("fallback")
        encoded.append(
            {
                "serviceUrl": hex16(case["serviceUrl"]),
                "upstreamJob": hex16(case["upstreamJob"]),
                "limit": case.get("limit", 100),
                "timeoutMs": case.get("timeoutMs", TIMEOUT_MS),
                "fallback": None
                if fallback is None
                else [
                    {
                        "number": n,
                        "displayName": None if name is None else hex16(name),
                    }
                    for n, name in fallback
                ],
            }
        )
    spec = tmp_path / "cases.json"
    spec.write_text(json.dumps(encoded), encoding="utf-8")
    done = groovy.run(RUNNER, str(SCRIPT), str(spec), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    outcomes: dict[int, dict[str, Any]] = {
        i: {"elapsed_ms": -1, "choices": [], "error": None, "fallback": None}
        for i in range(len(cases))
    }
    for line in done.stdout.splitlines():
        kind, index, *rest = line.split("\t")
        slot = outcomes[int(index)]
        if kind == "CASE":
            slot["elapsed_ms"] = int(rest[0])
        elif kind == "CHOICE":
            slot["choices"].append(unhex16(rest[0]))
        elif kind == "ERROR":
            slot["error"] = rest[0]
        elif kind == "FALLBACK":
            slot["fallback"] = (unhex16(rest[0]), int(rest[1]))
    return [Outcome(**outcomes[i]) for i in range(len(cases))]


SERVICE_LINES = [
    "12-Fix 'quoted' \"login\"",
    "11-Add - dashes - everywhere -",
    "10-${not interpolated} <script>alert(1)</script>",
    "9-unicode ✓ 日本語 \U0001f680",
    "8-#8",
]
FALLBACK_BUILDS = [(7, "Fallback one\nsecond line"), (6, None), (5, "  padded  ")]


def test_choices_script(
    groovy: Groovy,
    choices_server: ChoicesServer,
    dead_port: int,
    silent_server: str,
    tmp_path: Path,
) -> None:
    choices_server.choices["deploy-test"] = SERVICE_LINES
    choices_server.choices["team/service 1-build"] = ["3-In a folder"]
    hostile = [n for n in corpus() if n]
    cases: list[dict[str, Any]] = [
        # 0: the service answers: its lines, exactly, and no fallback
        {
            "serviceUrl": choices_server.url,
            "upstreamJob": "deploy-test",
            "fallback": FALLBACK_BUILDS,
        },
        # 1: limit honoured; folder job with a space: each segment encoded, '/' kept
        {"serviceUrl": choices_server.url + "/", "upstreamJob": "team/service 1-build", "limit": 2},
        # 2: nothing listens: refused at once, fallback taken
        {
            "serviceUrl": f"http://127.0.0.1:{dead_port}",
            "upstreamJob": "deploy-test",
            "fallback": FALLBACK_BUILDS,
        },
        # 3: the service accepts and never answers: the read timeout ends the wait
        {"serviceUrl": silent_server, "upstreamJob": "deploy-test", "fallback": FALLBACK_BUILDS},
        # 4: unknown job on the service (404): fallback
        {
            "serviceUrl": choices_server.url,
            "upstreamJob": "unknown",
            "fallback": FALLBACK_BUILDS,
            "limit": 2,
        },
        # 5: hostile display names through the fallback: subjects as the service makes them
        {
            "serviceUrl": f"http://127.0.0.1:{dead_port}",
            "upstreamJob": "deploy-test",
            "fallback": [(i + 1, name) for i, name in enumerate(hostile)],
            "limit": len(hostile),
        },
        # 6: outside Jenkins with no fallback bound: a clear error, not an empty list
        {"serviceUrl": f"http://127.0.0.1:{dead_port}", "upstreamJob": "deploy-test"},
    ]
    out = run_cases(groovy, cases, tmp_path)

    assert out[0].error is None and out[0].fallback is None
    assert out[0].choices == SERVICE_LINES
    assert [Choice.parse(c).number for c in out[0].choices] == [12, 11, 10, 9, 8]
    assert Choice.parse(out[0].choices[1]).subject == "Add - dashes - everywhere -"

    assert out[1].choices == ["3-In a folder"]
    assert choices_server.requests[1] == "/api/v1/jobs/team/service%201-build/choices?limit=2"
    assert choices_server.requests[0] == "/api/v1/jobs/deploy-test/choices?limit=100"

    expected_fallback = ["7-Fallback one", "6-#6", "5-padded"]
    assert out[2].fallback == ("deploy-test", 100)
    assert out[2].choices == expected_fallback
    assert out[2].elapsed_ms < TIMEOUT_MS

    assert out[3].choices == expected_fallback
    # bounded by the read timeout (connect succeeded); never more than connect + read timeouts
    assert TIMEOUT_MS * 0.9 <= out[3].elapsed_ms < 2 * TIMEOUT_MS

    assert out[4].choices == expected_fallback[:2]

    expected = [f"{i + 1}-{subject_of(name, i + 1)}" for i, name in enumerate(hostile)]
    assert out[5].choices == expected
    for i, choice in enumerate(out[5].choices):
        parsed = Choice.parse(choice)
        assert parsed.number == i + 1
        assert parsed.subject == subject_of(hostile[i], i + 1)

    assert out[6].choices == []
    assert out[6].error is not None
    assert "the service did not answer" in out[6].error
    assert "jenkins.model.Jenkins" in out[6].error


def test_the_script_compiles_with_plain_groovy(groovy: Groovy, tmp_path: Path) -> None:
    """What an admin can run before pasting it: no Jenkins class is needed to compile it."""
    check = tmp_path / "compile.groovy"
    check.write_text(
        "new GroovyShell().parse(new File(args[0]).getText('UTF-8'))\nprintln 'compiled'\n",
        encoding="utf-8",
    )
    done = groovy.run(check, str(SCRIPT), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "compiled"


def test_choices_script_against_the_real_manifest_service(
    groovy: Groovy, live_service: LiveService, tmp_path: Path
) -> None:
    """The script a Jenkins admin installs reads the choices the real service serves, unchanged."""
    from pipelinelib.model import Manifest, ServiceBuild

    hostile = [n for n in corpus() if n][:60]
    for number, name in enumerate(hostile, start=1):
        entry = ServiceBuild(name="service1", build=number, commit_message=name)
        result = "FAILURE" if number % 7 == 0 else "SUCCESS"
        live_service.store.publish(
            Manifest(
                job="team/service1-build",
                number=number,
                display_name=name,
                result=result,
                services=[entry],
            )
        )
    served = requests.get(
        f"{live_service.url}/api/v1/jobs/team/service1-build/choices?limit=25", timeout=10
    )
    assert served.status_code == 200
    out = run_cases(
        groovy,
        [
            {
                "serviceUrl": live_service.url,
                "upstreamJob": "team/service1-build",
                "limit": 25,
                "fallback": FALLBACK_BUILDS,
            }
        ],
        tmp_path,
    )[0]
    assert out.error is None
    assert out.fallback is None  # the service answered: Jenkins' own list was not needed
    assert out.choices == served.text.split("\n")[:-1]
    assert len(out.choices) == 25
    numbers = [Choice.parse(c).number for c in out.choices]
    assert numbers == sorted(numbers, reverse=True)
    assert all(n % 7 != 0 for n in numbers)  # failed builds are never offered
    for choice in out.choices:
        parsed = Choice.parse(choice)
        assert parsed.subject == subject_of(hostile[parsed.number - 1], parsed.number)
