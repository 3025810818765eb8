"""The BUILD_TO_DEPLOY choice script under real Groovy 2.4.21, as each choice plugin runs it.

`tests/groovy/run_choices.groovy` binds exactly what Extensible Choice (``project`` only, null
without a web request) and Active Choices (``jenkinsProject``, ``jenkinsParameter``, the global
variables) bind, and puts the Jenkins classes of `tests/groovy/fakes/` on the class path; every
case runs in one Groovy process (start-up costs seconds) in a fresh shell and reports its time.
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
from tests.fixtures.jenkins import ChoicesServer, RawServer
from tests.fixtures.service import StartService

pytestmark = pytest.mark.groovy

SCRIPT = ROOT / "groovy" / "choices" / "upstream-builds.groovy"
RUNNER = TESTS / "groovy" / "run_choices.groovy"
FAKES = TESTS / "groovy" / "fakes"
TIMEOUT_MS = 1000  # the deadline under test (drip, silent server)
PATIENT_MS = 20000  # everywhere else: a loaded machine's first request may take seconds
EC = "extensible-choice"
AC = "active-choices"
TOKEN_ID = "pipelinelib-read-token"

# deploy-staging promotes deploy-beta: its UPSTREAM_PROJECT default says so.
STAGING = {"fullName": "deploy-staging", "upstream": "deploy-beta"}
BETA_LINES = ["21-Beta build two", "20-Beta build one"]
TEST_LINES = ["12-Fix login", "11-Add cache"]
# Jenkins' own list of deploy-beta: newest first; a running and a failed build are never offered.
BETA_BUILDS = [
    {"number": 9, "displayName": "Running now", "building": True},
    {"number": 8, "displayName": "Broke it", "result": "FAILURE"},
    {"number": 7, "displayName": "Fallback one\nsecond line"},
    {"number": 6, "displayName": None},
    {"number": 5, "displayName": "  padded  ", "result": "UNSTABLE"},
    {"number": 4, "displayName": "Oldest"},
]
FALLBACK = ["7-Fallback one", "6-#6", "4-Oldest"]


def hex16(text: str) -> str:
    return text.encode("utf-16-be", "surrogatepass").hex()


def unhex16(payload: str) -> str:
    return bytes.fromhex(payload).decode("utf-16-be", "surrogatepass")


@attrs.frozen
class Outcome:
    elapsed_ms: int
    choices: list[str]
    error: str | None


def prelude(limit: int = 100, timeout_ms: int = PATIENT_MS, max_bytes: int = 262144) -> str:
    """The settings block the job definition puts above the script (as include/…-head.xml does)."""
    return f"limit = {limit}\ntimeoutMs = {timeout_ms}\nmaxBytes = {max_bytes}\n"


def case(
    plugin: str,
    server: str | None,
    project: dict[str, str] | None = STAGING,
    builds: list[dict[str, Any]] | None = None,
    credentials: dict[str, str] | None = None,
    **settings: int,
) -> dict[str, Any]:
    jobs = {"deploy-beta": builds if builds is not None else BETA_BUILDS}
    return {
        "plugin": plugin,
        "prelude": prelude(**settings),
        "project": project,
        "globalEnv": {} if server is None else {"PIPELINELIB_SERVER": server},
        "credentials": [{"id": k, "secret": v} for k, v in (credentials or {}).items()],
        "jobs": {
            name: [
                {
                    **b,
                    "displayName": None
                    if b.get("displayName") is None
                    else hex16(b["displayName"]),
                }
                for b in runs
            ]
            for name, runs in jobs.items()
        },
    }


def run_cases(
    groovy: Groovy, cases: list[dict[str, Any]], tmp_path: Path, script: Path = SCRIPT
) -> list[Outcome]:
    spec = tmp_path / "cases.json"
    spec.write_text(json.dumps(cases), encoding="utf-8")
    done = groovy.run(RUNNER, str(script), str(spec), str(FAKES), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    outcomes: dict[int, dict[str, Any]] = {
        i: {"elapsed_ms": -1, "choices": [], "error": None} for i in range(len(cases))
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
    return [Outcome(**outcomes[i]) for i in range(len(cases))]


def test_each_plugin_gets_the_choices_of_the_jobs_own_upstream(
    groovy: Groovy, choices_server: ChoicesServer, tmp_path: Path
) -> None:
    """Extensible Choice binds `project` only; Active Choices `jenkinsProject` and the globals."""
    choices_server.choices["deploy-beta"] = BETA_LINES
    choices_server.choices["deploy-test"] = TEST_LINES
    out = run_cases(groovy, [case(EC, choices_server.url), case(AC, choices_server.url)], tmp_path)
    for outcome in out:
        assert outcome.error is None
        assert outcome.choices == BETA_LINES
    assert choices_server.requests == ["/api/v1/jobs/deploy-beta/choices?limit=100"] * 2
    assert choices_server.authorizations == [None, None]  # no credential: no header


def test_without_a_known_job_the_list_is_empty_and_says_why(
    groovy: Groovy, choices_server: ChoicesServer, tmp_path: Path
) -> None:
    """`project` null (a build step, the CLI): no guess at deploy-test, a clear message instead."""
    choices_server.choices["deploy-test"] = TEST_LINES
    out = run_cases(
        groovy,
        [case(EC, choices_server.url, project=None), case(AC, choices_server.url, project=None)],
        tmp_path,
    )
    for outcome in out:
        assert outcome.choices == []
        assert outcome.error is not None
        assert "the job is not known" in outcome.error
        assert "refusing to guess" in outcome.error
    assert choices_server.requests == []


def test_a_dripping_server_is_cut_at_the_deadline(
    groovy: Groovy, raw_server: RawServer, tmp_path: Path
) -> None:
    """One byte every 0.2 s never ends the body: the overall deadline does, then Jenkins' list."""
    raw_server.body = b"1-drip\n"
    raw_server.drip_seconds = 0.2
    out = run_cases(
        groovy,
        [
            case(EC, raw_server.url, timeout_ms=TIMEOUT_MS),
            case(AC, raw_server.url, timeout_ms=TIMEOUT_MS),
        ],
        tmp_path,
    )
    for outcome in out:
        assert outcome.error is None
        assert outcome.choices == FALLBACK
        assert "1-drip" not in outcome.choices
        # The drip never ends and a per-read timeout never fires (a byte comes every 0.2 s):
        # only the overall deadline stops it (any finite bound proves the cut; loose for load).
        assert TIMEOUT_MS * 0.9 <= outcome.elapsed_ms < 10 * TIMEOUT_MS


def test_unusable_answers_fall_back_to_the_jenkins_list(
    groovy: Groovy,
    raw_server: RawServer,
    choices_server: ChoicesServer,
    dead_port: int,
    silent_server: str,
    tmp_path: Path,
) -> None:
    choices_server.status = 503
    cases = [
        case(EC, raw_server.url),  # 0: 200 with an empty body
        case(EC, f"http://127.0.0.1:{dead_port}"),  # 1: refused at once
        case(EC, silent_server, timeout_ms=TIMEOUT_MS),  # 2: accepts, never answers
        case(EC, choices_server.url),  # 3: 503 from a service whose store is down
        case(EC, None),  # 4: PIPELINELIB_SERVER not set
        case(EC, f"http://127.0.0.1:{dead_port}", builds=[]),  # 5: Jenkins has none either
        case(EC, f"http://127.0.0.1:{dead_port}", limit=2),  # 6: limit applies to Jenkins' list
    ]
    out = run_cases(groovy, cases, tmp_path)
    for i in range(5):
        assert out[i].error is None, i
        assert out[i].choices == FALLBACK, i
    assert TIMEOUT_MS * 0.9 <= out[2].elapsed_ms < 10 * TIMEOUT_MS
    assert out[5].choices == [] and out[5].error is None  # an honest empty list
    assert out[6].choices == FALLBACK[:2]

    # A well-formed list over the size cap is not read to its end.
    raw_server.body = "".join(f"{n}-padding padding padding\n" for n in range(9, 0, -1)).encode()
    capped, whole = run_cases(
        groovy, [case(AC, raw_server.url, max_bytes=64), case(AC, raw_server.url)], tmp_path
    )
    assert capped.choices == FALLBACK and capped.error is None
    assert whole.choices == [f"{n}-padding padding padding" for n in range(9, 0, -1)]


def test_malformed_lines_are_never_offered(
    groovy: Groovy, raw_server: RawServer, tmp_path: Path
) -> None:
    raw_server.body = b"12-Fix login\n<html>oops</html>\n"
    out = run_cases(groovy, [case(EC, raw_server.url)], tmp_path)[0]
    assert out.choices == FALLBACK


def test_hostile_display_names_make_the_same_subjects_as_the_service(
    groovy: Groovy, dead_port: int, tmp_path: Path
) -> None:
    hostile = [n for n in corpus() if n]
    builds = [{"number": i + 1, "displayName": name} for i, name in enumerate(hostile)][::-1]
    out = run_cases(
        groovy,
        [case(EC, f"http://127.0.0.1:{dead_port}", builds=builds, limit=len(hostile))],
        tmp_path,
    )[0]
    assert out.error is None
    expected = [f"{i + 1}-{subject_of(name, i + 1)}" for i, name in enumerate(hostile)][::-1]
    assert out.choices == expected
    for choice in out.choices:
        parsed = Choice.parse(choice)
        assert parsed.subject == subject_of(hostile[parsed.number - 1], parsed.number)


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


def test_both_plugins_read_the_live_manifest_service_with_a_read_token(
    groovy: Groovy, start_service: StartService, tmp_path: Path
) -> None:
    """`serve --require-read-token`: the token comes from the Jenkins credential, both plugins."""
    from pipelinelib.model import Manifest, ServiceBuild

    service = start_service(require_read_token=True)
    hostile = [n for n in corpus() if n][:40]
    for job in ("deploy-beta", "deploy-test"):
        for number, name in enumerate(hostile, start=1):
            service.store.publish(
                Manifest(
                    job=job,
                    number=number,
                    display_name=f"{job}: {name}",
                    result="FAILURE" if number % 7 == 0 else "SUCCESS",
                    services=[ServiceBuild(name="service1", build=number, commit_message=name)],
                )
            )
    url = f"{service.url}/api/v1/jobs/deploy-beta/choices?limit=25"
    assert requests.get(url, timeout=10).status_code == 401
    served = requests.get(
        url, headers={"Authorization": f"Bearer {service.read_token}"}, timeout=10
    )
    assert served.status_code == 200
    creds = {TOKEN_ID: service.read_token, "other": "not-this-one"}
    out = run_cases(
        groovy,
        [
            case(EC, service.url, credentials=creds, limit=25),
            case(AC, service.url, credentials=creds, limit=25),
            case(EC, service.url, limit=25),  # no credential: 401, Jenkins' list instead
        ],
        tmp_path,
    )
    for outcome in out[:2]:
        assert outcome.error is None
        assert outcome.choices == served.text.split("\n")[:-1]
        assert len(outcome.choices) == 25
        assert all(c.split("-", 1)[1].startswith("deploy-beta:") for c in outcome.choices)
        assert all(Choice.parse(c).number % 7 != 0 for c in outcome.choices)
    assert out[2].choices == FALLBACK
