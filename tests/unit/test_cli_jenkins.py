"""The Jenkins commands through the real entry point: list-builds, copy-artifact, set-display-name."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import responses

from pipelinelib import cli
from pipelinelib.model import Manifest, ServiceBuild
from tests.conftest import CliRunner
from tests.fakes import jenkins as fj
from tests.fakes.jenkins import FakeJenkins, FakeJob
from tests.fakes.store import MemoryStore

BASE = fj.BASE


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> MemoryStore:
    """open_store() hands out this in-memory store; ``opened`` records (server, token, db)."""
    memory = MemoryStore()

    @contextmanager
    def fake_open_store(
        server: str | None, token: str | None, db: str, *, read_only: bool = False
    ) -> Iterator[MemoryStore]:
        memory.opened.append((server, token, db))
        yield memory

    monkeypatch.setattr(cli, "open_store", fake_open_store)
    return memory


def manifest(job: str, number: int, display_name: str, result: str = "SUCCESS") -> Manifest:
    return Manifest(
        job=job,
        number=number,
        display_name=display_name,
        result=result,
        services=[ServiceBuild(name="service1", build=number, image=f"r/service1:{number}")],
    )


def test_list_builds_from_jenkins_is_one_request(
    run_cli: CliRunner, fake_jenkins: FakeJenkins
) -> None:
    job = "team/service1-build"
    fake_jenkins.jobs[job] = FakeJob(
        [
            fj.run(job, 4, None),
            fj.run(job, 3, "SUCCESS", display_name="Fix 'quoted' \"login\"\nbody"),
            fj.run(job, 2, "FAILURE"),
            fj.run(job, 1, "SUCCESS", display_name="First - with dash ✓"),
        ]
    )
    done = run_cli(
        ["list-builds", "--job", job, "--source", "jenkins", "--limit", "5"],
        env={"JENKINS_URL": fake_jenkins.base_url},
    )
    assert done.exit_code == 0, done.stderr
    assert done.stdout == "3-Fix 'quoted' \"login\"\n1-First - with dash ✓\n"
    assert len(fake_jenkins.requests) == 1
    method, path = fake_jenkins.requests[0]
    assert method == "GET" and path.startswith("/job/team/job/service1-build/api/json?tree=")
    assert "allBuilds" not in path


def test_list_builds_from_jenkins_as_json(run_cli: CliRunner, fake_jenkins: FakeJenkins) -> None:
    fake_jenkins.jobs["svc"] = FakeJob([fj.run("svc", 7, "SUCCESS", display_name="Seven")])
    done = run_cli(
        ["list-builds", "--job", "svc", "--source", "jenkins", "--format", "json"],
        env={"JENKINS_URL": fake_jenkins.base_url},
    )
    assert done.exit_code == 0, done.stderr
    builds = json.loads(done.stdout)["builds"]
    assert [(b["number"], b["subject"], b["result"]) for b in builds] == [(7, "Seven", "SUCCESS")]


def test_list_builds_from_the_service(run_cli: CliRunner, store: MemoryStore) -> None:
    for m in [
        manifest("deploy-test", 11, "Old"),
        manifest("deploy-test", 12, "Fix login\n\nbody"),
        manifest("deploy-test", 13, "Broken", result="FAILURE"),
    ]:
        store.publish(m)
    done = run_cli(["list-builds", "--job", "deploy-test", "--limit", "5"])
    assert done.exit_code == 0, done.stderr
    assert done.stdout == "12-Fix login\n11-Old\n"
    assert ("choices", ("deploy-test", 5)) in store.calls


def test_list_builds_of_a_missing_job_exits_3(
    run_cli: CliRunner, fake_jenkins: FakeJenkins
) -> None:
    done = run_cli(
        ["list-builds", "--job", "nope", "--source", "jenkins"],
        env={"JENKINS_URL": fake_jenkins.base_url},
    )
    assert done.exit_code == 3
    assert done.stderr.startswith(
        "error: not found in Jenkins (HTTP 404) (job 'nope'): http://127.0.0.1:"
    )
    assert done.stderr.count("\n") == 1


@responses.activate
def test_list_builds_forbidden_exits_5(run_cli: CliRunner) -> None:
    responses.get(f"{BASE}/job/svc/api/json", status=403)
    done = run_cli(
        ["list-builds", "--job", "svc", "--source", "jenkins"],
        env={"JENKINS_URL": BASE, "JENKINS_USER": "ci", "JENKINS_API_TOKEN": "tok-123"},
    )
    assert done.exit_code == 5
    assert "HTTP 403" in done.stderr and "tok-123" not in done.stderr


def test_copy_artifact_end_to_end(
    run_cli: CliRunner, fake_jenkins: FakeJenkins, tmp_path: Path
) -> None:
    job = "team/service1-build"
    paths = ["output/service1.env.groovy", "output/service1.manifest.json", "logs/build.log"]
    fake_jenkins.jobs[job] = FakeJob(
        [fj.run(job, 90, "SUCCESS", display_name="Fix login")], {90: paths}, artifact_size=3000
    )
    target = tmp_path / "import"
    done = run_cli(
        [
            "copy-artifact",
            "--project", job,
            "--filter", "output/*",
            "--target", str(target),
            "--flatten",
            "--selector", "90-Fix login",
            "--fingerprint",
        ],
        env={"JENKINS_URL": fake_jenkins.base_url},
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    md5 = {
        p.rsplit("/", 1)[1]: hashlib.md5(
            fj.artifact_bytes(job, 90, p, 3000), usedforsecurity=False
        ).hexdigest()
        for p in paths[:2]
    }
    assert done.stdout.splitlines() == [
        f"{md5['service1.env.groovy']}  service1.env.groovy",
        f"{md5['service1.manifest.json']}  service1.manifest.json",
        f"copied 2 artifact(s) of {job} #90 to {target}",
        f"wrote {target / 'fingerprints.json'}",
    ]
    assert json.loads((target / "fingerprints.json").read_text()) == md5
    gets = [p for m, p in fake_jenkins.requests if m == "GET"]
    assert len(gets) == 3
    assert gets[0] == (
        "/job/team/job/service1-build/90/api/json?tree="
        "number%2Cresult%2Cartifacts%5BdisplayPath%2CfileName%2CrelativePath%5D"
    )


def test_copy_artifact_optional_notice(
    run_cli: CliRunner, fake_jenkins: FakeJenkins, tmp_path: Path
) -> None:
    fake_jenkins.jobs["svc"] = FakeJob([fj.run("svc", 1)], {1: ["a.txt"]})
    args = [
        "copy-artifact",
        "--project",
        "svc",
        "--filter",
        "*.jar",
        "--target",
        str(tmp_path / "t"),
    ]
    env = {"JENKINS_URL": fake_jenkins.base_url}
    done = run_cli([*args, "--optional"], env=env)
    assert done.exit_code == 0
    assert done.stdout == ""
    assert done.stderr.startswith("notice: nothing copied from svc #1")
    done = run_cli(args, env=env)
    assert done.exit_code == 3
    assert done.stderr == "error: no artifact of svc #1 matches filter '*.jar' (1 archived)\n"


def test_copy_artifact_timeout_is_clear_and_bounded(
    run_cli: CliRunner, silent_server: str, tmp_path: Path
) -> None:
    start = time.monotonic()
    done = run_cli(
        [
            "copy-artifact",
            "--project",
            "svc",
            "--filter",
            "",
            "--target",
            str(tmp_path),
            "--timeout",
            "0.5",
        ],
        env={"JENKINS_URL": silent_server},
    )
    elapsed = time.monotonic() - start
    assert done.exit_code == 9
    assert done.stderr.startswith(
        "error: Jenkins did not answer within 0.5 s: GET http://127.0.0.1:"
    )
    assert elapsed < 2.5


def register_display_name(job_path: str, number: int, description: str | None) -> None:
    responses.get(f"{BASE}/crumbIssuer/api/json", json=fj.crumb("crumb-1"))
    responses.get(f"{BASE}/{job_path}{number}/api/json", json=fj.description(description))
    responses.post(f"{BASE}/{job_path}{number}/configSubmit", status=302, headers={"Location": "."})


def posted_json() -> dict[str, str]:
    body = responses.calls[-1].request.body
    return json.loads(parse_qs(body)["json"][0])  # type: ignore[no-any-return]


@responses.activate
def test_set_display_name_from_git_without_a_store(
    run_cli: CliRunner, git_repo: Callable[[str], Path], store: MemoryStore
) -> None:
    repo = git_repo('  Fix "quoted" <script>alert(1)</script>\n\nDetails\n')
    register_display_name("job/team/job/service1-build/", 90, "kept description")
    done = run_cli(
        ["set-display-name"],
        cwd=repo,
        env={
            "JOB_NAME": "team/service1-build",
            "BUILD_NUMBER": "90",
            "JENKINS_URL": BASE,
            "JENKINS_USER": "ci",
            "JENKINS_API_TOKEN": "tok",
        },
    )
    assert done.exit_code == 0, done.stderr
    assert posted_json() == {
        "displayName": 'Fix "quoted" <script>alert(1)</script>\n\nDetails',
        "description": "kept description",
    }
    assert responses.calls[-1].request.headers["Jenkins-Crumb"] == "crumb-1"
    assert done.stdout == "display name of team/service1-build #90 set in Jenkins\n"
    assert store.opened == []


@responses.activate
def test_set_display_name_records_it_in_the_configured_store(
    run_cli: CliRunner, store: MemoryStore
) -> None:
    store.publish(manifest("svc", 5, "old name"))
    register_display_name("job/svc/", 5, None)
    done = run_cli(
        ["set-display-name", "--job", "svc", "--build", "5", "--name", "New 'name'\nline 2"],
        env={"JENKINS_URL": BASE, "PIPELINELIB_SERVER": "http://pipelinelib.example.com"},
    )
    assert done.exit_code == 0, done.stderr
    assert posted_json() == {"displayName": "New 'name'\nline 2", "description": ""}
    assert store.get_build("svc", 5).display_name == "New 'name'\nline 2"
    assert done.stdout.splitlines()[-1] == "recorded in the store"


@responses.activate
def test_set_display_name_for_a_build_the_store_does_not_know_yet(
    run_cli: CliRunner, store: MemoryStore
) -> None:
    register_display_name("job/svc/", 6, None)
    done = run_cli(
        [
            "set-display-name",
            "--job",
            "svc",
            "--build",
            "6",
            "--name",
            "x",
            "--db",
            "sqlite:///x.db",
        ],
        env={"JENKINS_URL": BASE},
    )
    assert done.exit_code == 0, done.stderr
    assert "notice: svc #6 is not in the store yet" in done.stderr
    assert ("set_display_name", ("svc", 6, "x")) in store.calls


def test_set_display_name_needs_a_job_and_jenkins(run_cli: CliRunner) -> None:
    done = run_cli(["set-display-name", "--name", "x", "--build", "1"])
    assert done.exit_code == 2
    assert done.stderr == "error: no job name: pass --job or set JOB_NAME\n"
    done = run_cli(["set-display-name", "--name", "x", "--build", "1", "--job", "j"])
    assert done.exit_code == 2
    assert done.stderr == "error: no Jenkins URL: pass --jenkins-url or set JENKINS_URL\n"


def _copy_cli(state: FakeJenkins, target: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "JENKINS_URL": state.base_url}
    env.pop("JENKINS_USER", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelinelib",
            "copy-artifact",
            "--project=svc",
            "--filter=",
            f"--target={target}",
            "--selector=1",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_copy_artifact_timeout_is_an_overall_deadline(tmp_path: Path) -> None:
    # The field report: an artifact served at 1 byte/s with --timeout 3 took 99 s and succeeded.
    job = FakeJob([fj.run("svc", 1)], {1: ["slow.bin"]}, artifact_size=99, trickle_seconds=1.0)
    with fj.serve_jenkins(FakeJenkins(jobs={"svc": job})) as state:
        started = time.monotonic()
        proc = _copy_cli(state, tmp_path / "t", "--timeout=3")
        _, err = proc.communicate(timeout=60)
        elapsed = time.monotonic() - started
    assert proc.returncode == 9, err
    assert b"before the deadline" in err
    assert elapsed < 15
    assert list((tmp_path / "t").iterdir()) == []


def test_sigterm_mid_download_leaves_no_partial_file(tmp_path: Path) -> None:
    job = FakeJob(
        [fj.run("svc", 1)], {1: ["a.bin", "b.bin"]}, artifact_size=400, trickle_seconds=0.02
    )
    target = tmp_path / "t"
    with fj.serve_jenkins(FakeJenkins(jobs={"svc": job})) as state:
        proc = _copy_cli(state, target)
        deadline = time.monotonic() + 30
        while not any(target.glob(".*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(target.glob(".*.tmp")), "the download never started"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert b"terminated" in err
    assert list(target.iterdir()) == []
