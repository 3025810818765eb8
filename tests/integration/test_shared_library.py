"""The shared library's steps run under the real Groovy 2.4.21 and the real shells.

tests/groovy/harness/run_steps.groovy binds the Jenkins steps the library uses (sh, withEnv, load,
dir, deleteDir, findFiles, archiveArtifacts, error, slackSend, readJSON, env, params,
currentBuild) and records every call. Its ``sh`` really runs the recorded script with ``sh -xe``
(dash, what Jenkins runs) or bash, with the withEnv variables in the environment and
tests/fakes/bin/pipelinelib first on PATH: the fake writes its argv NUL-separated, so these tests
see exactly what the CLI would receive. All scenarios run in ONE Groovy process per module.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipelinelib.environments import read_environments_file
from pipelinelib.formats import groovy as env_groovy
from pipelinelib.model import ServiceBuild, clean_text
from tests.conftest import TESTS, Groovy
from tests.fakes.hostile import MARKER, corpus
from tests.fixtures.groovy_sources import LIBRARY

pytestmark = [pytest.mark.groovy, pytest.mark.slow]

HARNESS = TESTS / "groovy" / "harness" / "run_steps.groovy"
FAKE_BIN = TESTS / "fakes" / "bin"
SHELLS = ("/bin/sh", "/bin/bash")
IMAGE = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1:90"
DIGEST = "sha256:" + "ab" * 32
HAND_WRITTEN = 80
# What `pipelinelib environments --json` prints for the repository's pipelinelib.toml.
ENVIRONMENTS_JSON = json.dumps(
    read_environments_file(Path(__file__).resolve().parents[2] / "pipelinelib.toml").to_dict()
)
SCRIPT_RE = re.compile(r'pipelinelib( "\$PL_ARG_[0-9]+")*')
HOSTILE_COMMIT = "Fix 'quoted' login ${not interpolated}\n\n$(touch /tmp/" + MARKER + "-lib) `id`"

# The deploy build's start as the harness's currentBuild reports it (RunWrapper
# startTimeInMillis, 2026-11-01T00:00:00Z): record-deployment gets it for the history's duration.
HARNESS_BUILD_START = "--started-at=1793491200000"


class Run:
    """One batch of scenarios, run by one Groovy process; results and argv logs by name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scenarios: list[dict[str, Any]] = []
        self.results: dict[str, dict[str, Any]] = {}

    def add(
        self, name: str, *, shell: str = "/bin/sh", files: Path | None = None, **spec: Any
    ) -> None:
        workspace = self.root / "ws" / name
        workspace.mkdir(parents=True)
        self.scenarios.append(
            {
                "name": name,
                "workspace": str(workspace),
                "shell": shell,
                "log": str(self.root / "logs" / f"{name}.argv"),
                "files": None if files is None else str(files),
                **spec,
            }
        )

    def execute(self, groovy: Groovy) -> None:
        (self.root / "logs").mkdir(exist_ok=True)
        request = self.root / "scenarios.json"
        request.write_text(
            json.dumps(
                {"library": str(LIBRARY), "fakeBin": str(FAKE_BIN), "scenarios": self.scenarios}
            ),
            encoding="utf-8",
        )
        out = self.root / "results.json"
        env = {**groovy.env, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        done = subprocess.run(
            [groovy.executable, str(HARNESS), str(request), str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        self.results = {r["name"]: r for r in json.loads(out.read_text(encoding="utf-8"))}

    def result(self, name: str) -> dict[str, Any]:
        return self.results[name]

    def argv(self, name: str) -> list[list[str]]:
        """Each pipelinelib invocation's arguments, exactly as the process received them."""
        log = self.root / "logs" / f"{name}.argv"
        if not log.exists():
            return []
        fields = log.read_bytes().split(b"\0")[:-1]
        calls = []
        while fields:
            count = int(fields.pop(0))
            fields.pop(0)  # working directory
            calls.append([f.decode("utf-8") for f in fields[:count]])
            del fields[:count]
        return calls

    def calls(self, name: str, step: str) -> list[dict[str, Any]]:
        return [c for c in self.results[name]["calls"] if c["step"] == step]


def _stage(root: Path, name: str, files: dict[str, str]) -> Path:
    """What the real CLI command would write: the fake copies it into the working directory."""
    staged = root / "staged" / name
    for rel, text in files.items():
        (staged / rel).parent.mkdir(parents=True, exist_ok=True)
        (staged / rel).write_text(text, encoding="ascii")
    return staged


def _env_file(name: str, build: int, message: str) -> str:
    return env_groovy.render_env_groovy(
        [
            ServiceBuild(
                name=name,
                build=build,
                image=f"999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/{name}:{build}",
                commit="5f1c" + "0" * 36,
                commit_message=message,
            )
        ]
    )


def _hostile_values(shell: str = "/bin/sh") -> list[str]:
    """The whole corpus for dash (what Jenkins' sh step runs); its hand-written part for bash."""
    values = [v for v in (clean_text(v) for v in corpus()) if "\x00" not in v]
    return values if shell == "/bin/sh" else values[:HAND_WRITTEN]


@pytest.fixture(scope="module")
def run(groovy: Groovy, tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("shared-library")
    batch = Run(root)
    import_files = _stage(
        root,
        "import",
        {
            "import/service1.env.groovy": _env_file("service1", 90, HOSTILE_COMMIT),
            "import/service2.env.groovy": _env_file("service2", 45, "Add cache"),
            "import/manifest.json": "{}\n",
        },
    )
    publish_files = _stage(
        root,
        "publish",
        {
            "output/service1.env.groovy": _env_file("service1", 90, HOSTILE_COMMIT),
            "output/service1.manifest.json": "{}\n",
        },
    )
    record_files = _stage(root, "record", {"output/manifest.json": "{}\n"})

    batch.add(
        "publish",
        files=publish_files,
        code=f"pipelinelibPublish(service: 'service1', image: '{IMAGE}', digest: '{DIGEST}')",
    )
    batch.add(
        "import-from",
        files=import_files,
        code="services = pipelinelibImport(from: ['service1-build', 'team/service2-build'])\n"
        "services.collect { it.service + '#' + it.build }",
    )
    stale = root / "ws" / "import-from" / "import"
    stale.mkdir(parents=True)
    (stale / "stale.env.groovy").write_text("env.STALE_BUILD = '1'\n")
    batch.add(
        "import-upstream",
        files=import_files,
        params={
            "BUILD_TO_DEPLOY": "12-Fix login - again",
            "BUILD_OVERRIDES": "service1=91, service2=45\nsvc-3=7",
        },
        code="pipelinelibImport(upstream: 'deploy-test', build: params.BUILD_TO_DEPLOY, overrides: params.BUILD_OVERRIDES)",
    )
    batch.add(
        "orchestrate-apply",
        code="pipelinelibOrchestrate('apply', 'appcluster-test', 'ap-southeast-2', [confirmLive: false, importDir: 'import'])",
    )
    batch.add(
        "orchestrate-live",
        code="pipelinelibOrchestrate(command: 'apply', stack: 'appcluster-live', confirmLive: true, "
        "importDir: 'import', runner: 'docker', tfArgs: ['-lock-timeout=5m', '-var', 'x=$(id)'])",
    )
    batch.add(
        "orchestrate-init",
        code="pipelinelibOrchestrate('init', 'appcluster-test', 'ap-southeast-2')",
    )
    batch.add(
        "verify", code="pipelinelibVerifyImages(importDir: 'import', region: 'ap-southeast-2')"
    )
    batch.add(
        "wait",
        code="pipelinelibWaitRollout(cluster: 'appcluster-test', services: ['service1', 'service2'], timeout: '15m')",
    )
    batch.add(
        "record",
        files=record_files,
        code="pipelinelibRecordDeployment(environment: 'test', displayName: \"12-Fix 'it' \\${x} \\$(id)\")",
    )
    batch.add(
        "wait-to-file",
        code="pipelinelibWaitRollout(cluster: 'appcluster-test', services: ['service1'], output: 'rollout.json')",
    )
    batch.add(
        "record-rollout",
        files=record_files,
        code="pipelinelibRecordDeployment(environment: 'beta', rollout: 'rollout.json')",
    )
    batch.add(
        "record-destroyed",
        code="pipelinelibRecordDeployment(environment: 'test', destroyed: true, archive: false)",
    )
    batch.add(
        "bad-rollout-file",
        code="pipelinelibRecordDeployment(environment: 'test', rollout: '/etc/passwd')",
    )
    batch.add(
        "display-name",
        stdout="Fix 'quoted' $(id) ${x} `id`\n\nbody line\n",
        code="pipelinelibDisplayNameFromGit()",
    )
    batch.add("cli-fails", exit=3, code="pipelinelibVerifyImages()")
    for status in ("STARTED", "SUCCESS", "FAILURE", "UNSTABLE", None):
        batch.add(
            f"notify-{status}",
            env={
                "JOB_NAME": "deploy-<test>",
                "BUILD_NUMBER": "12",
                "BUILD_URL": "https://ci/job/x/12/",
            },
            displayName="<!channel> Fix & <b>login</b>\nsecond line",
            step="notifyBuild",
            args=[] if status is None else [status],
        )
    batch.add(
        "deployed-summary",
        code="io.pipelinelib.Texts.deployedSummary([[service: 'service1', build: '90', "
        "message: 'Fix login\\n\\nbody'], [service: 'service2', build: '45', message: null], "
        "[service: 'service3', build: '7', message: '\\u0007bell <b>' + 'x' * 200]])",
    )
    batch.add(
        "subject-of-choice",
        code="[io.pipelinelib.Args.subjectOfChoice('12-Fix - it'), io.pipelinelib.Args.subjectOfChoice('12'), "
        "io.pipelinelib.Args.overrides([service1: 91, 'svc-2': '007'])]",
    )
    # An earlier build's files in the workspace: nothing of them may be recorded or archived.
    batch.add(
        "record-stale",
        files=record_files,
        code="pipelinelibRecordDeployment(environment: 'test')\n"
        "[fileExists('output/old-service.env.groovy')]",
    )
    stale_ws = root / "ws" / "record-stale"
    (stale_ws / "output").mkdir(parents=True)
    (stale_ws / "output" / "old-service.env.groovy").write_text("env.OLD_BUILD = '1'\n")
    batch.add("reset-workspace", code="pipelinelibResetWorkspace()")
    reset_ws = root / "ws" / "reset-workspace"
    (reset_ws / "output").mkdir(parents=True)
    (reset_ws / "output" / "service1.env.groovy").write_text("env.SERVICE1_BUILD = '1'\n")
    (reset_ws / "rollout.json").write_text('{"outcome": "COMPLETED"}\n')
    batch.add("reset-outside", code="pipelinelibResetWorkspace(outputDir: '../up')")
    batch.add(
        "approval-message",
        env={"JOB_NAME": "deploy-staging", "BUILD_NUMBER": "34"},
        code="io.pipelinelib.Texts.approvalMessage(job: env.JOB_NAME, build: env.BUILD_NUMBER, "
        "environment: 'staging', cluster: 'appcluster-staging', upstream: 'deploy-beta', "
        "choice: '21-Fix login\\nmore', services: [[service: 'service1', build: '91', "
        "message: 'Fix login\\n\\nbody'], [service: 'service2', build: '45', message: null]], "
        "overrides: ['service1=91'])",
    )
    batch.add(
        "environments",
        code="import io.pipelinelib.Environments\n"
        "Map envs = readJSON(text: pipelinelibCli(['environments', '--json'], returnStdout: true))\n"
        "[Environments.protectedNames(envs), ['test', 'beta', 'staging', 'live', 'sandbox', null]"
        ".collect { Environments.isProtected(envs, it) }, Environments.approvers('live'), "
        "Environments.lockResource('appcluster-test'), Environments.declared(envs, 'live').stack]",
        stdout=ENVIRONMENTS_JSON,
    )
    batch.add(
        "lock-name-refused", code="io.pipelinelib.Environments.lockResource('appcluster test;id')"
    )
    good_build = {
        "SERVICE_NAME": "service1",
        "SERVICE_REPO": "git@github.com:example/service1.git",
        "SERVICE_CREDENTIALS": "service1-deploy-key",
        "ECR_REGISTRY": "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com",
        "SERVICE_BRANCH": "feature/login",
        "AWS_REGION": "ap-southeast-2",
    }
    bad_builds = {
        "ECR_REGISTRY": "attacker.example.com",
        "SERVICE_REPO": "git@evil.example.com:x/y.git;id",
        "SERVICE_CREDENTIALS": "../other",
        "SERVICE_BRANCH": "--upload-pack=id",
    }
    batch.add(
        "job-rules",
        code="import io.pipelinelib.JobRules\n"
        f"[JobRules.problemWithServiceBuild({_groovy_map(good_build)})] + "
        + " + ".join(
            f"[JobRules.problemWithServiceBuild({_groovy_map({**good_build, k: v})})]"
            for k, v in bad_builds.items()
        ),
    )
    batch.add(
        "unknown-step-parameter",
        code="archiveArtifacts(artifacts: 'a', allowEmpty: true)",
    )
    bad_calls = {
        "bad-service": "pipelinelibPublish(service: 'Service 1')",
        "bad-service-injection": "pipelinelibPublish(service: 'x; rm -rf /')",
        "bad-job": "pipelinelibImport(from: ['a/../b'])",
        "bad-job-char": 'pipelinelibImport(from: "svc?x")',  # quotes are fine: Jenkins allows them
        "no-job": "pipelinelibImport(build: '12')",
        "bad-selector": "pipelinelibImport(upstream: 'deploy-test', build: '')",
        "bad-selector-text": "pipelinelibImport(upstream: 'deploy-test', build: 'latest-x')",
        "bad-override": "pipelinelibImport(upstream: 'deploy-test', build: '12', overrides: 'service1=abc')",
        "bad-override-service": "pipelinelibImport(upstream: 'deploy-test', build: '12', overrides: ['$(id)=3'])",
        "bad-target": "pipelinelibImport(from: ['x'], target: '../outside')",
        "bad-command": "pipelinelibOrchestrate('rm', 'appcluster-test', 'ap-southeast-2')",
        "bad-stack": "pipelinelibOrchestrate('apply', 'stack; id', 'ap-southeast-2')",
        "bad-region": "pipelinelibOrchestrate('apply', 'appcluster-test', 'mars-1')",
        "bad-timeout": "pipelinelibWaitRollout(cluster: 'c', services: ['service1'], timeout: '15 m')",
        "bad-cluster": "pipelinelibWaitRollout(cluster: 'a b', services: ['service1'])",
        "bad-environment": "pipelinelibRecordDeployment(environment: 'Live!')",
        "nul-byte": "pipelinelibRecordDeployment(environment: 'test', displayName: 'a\\u0000b')",
    }
    for name, code in bad_calls.items():
        batch.add(name, code=code)

    # As a promotion's Jenkinsfile does: the picked choice goes to import, the name to record.
    one_service = _stage(
        root, "one-service", {"import/service1.env.groovy": _env_file("service1", 90, "x")}
    )
    for shell in SHELLS:
        tag = Path(shell).name
        for index, value in enumerate(_hostile_values(shell)):
            batch.add(
                f"hostile-{tag}-{index}",
                shell=shell,
                files=one_service,
                params={"PICKED": "12-" + value, "NAME": value},
                code="pipelinelibImport(upstream: 'deploy-test', build: params.PICKED)\n"
                "pipelinelibRecordDeployment(environment: 'test', displayName: params.NAME)",
            )
    # Promotion control steps (issue 14).
    deploy_live = {"JOB_NAME": "deploy-live", "BUILD_NUMBER": "12"}
    batch.add(
        "lock-body-fails",
        env=deploy_live,
        code="pipelinelibLock(environment: 'live', reason: 'deploy-live #12', ttl: '2h') { "
        "error('apply failed') }",
    )
    batch.add(
        "lock-body-ok",
        env=deploy_live,
        code="pipelinelibLock(environment: 'live', reason: 'r') { 'applied' }",
    )
    batch.add(
        "approvals",
        env=deploy_live,
        code="pipelinelibApprovals(environment: 'live', request: true)\n"
        "pipelinelibApprovals(environment: 'live', check: true)",
    )
    batch.add(
        "rollback-dry-run",
        code="pipelinelibRollback(environment: 'live', reason: 'errors after #14', "
        "to: 'deploy-live#9', dryRun: true)",
    )
    batch.add(
        "record-hotfix",
        code="pipelinelibRecordDeployment(environment: 'sandbox', skipOrder: true, "
        "reason: 'INC-7 hotfix', archive: false)",
    )
    batch.add(
        "record-check",
        code="pipelinelibRecordDeployment(environment: 'live', check: true)",
    )
    batch.add("bad-lock-env", code="pipelinelibLock(environment: 'Live!', reason: 'r')")
    batch.add("bad-lock-reason", code="pipelinelibLock(environment: 'live', reason: null)")
    batch.add(
        "bad-skip-order",
        code="pipelinelibRecordDeployment(environment: 'sandbox', skipOrder: true)",
    )
    batch.add("bad-rollback", code="pipelinelibRollback(environment: 'live', reason: '')")
    batch.execute(groovy)
    return batch


def _groovy_map(values: dict[str, str]) -> str:
    """A Groovy map literal of plain values (test constants, no quotes or backslashes)."""
    return "[" + ", ".join(f"{k}: '{v}'" for k, v in values.items()) + "]"


def _assert_no_shell_text_from_values(run: Run, name: str) -> None:
    for call in run.calls(name, "sh"):
        assert SCRIPT_RE.fullmatch(call["script"]), call["script"]
        assert call["exitCode"] == 0, call["stderr"]


def test_publish_runs_publish_artifact_loads_and_archives(run: Run) -> None:
    result = run.result("publish")
    assert result["error"] is None
    assert run.argv("publish") == [
        [
            "publish-artifact",
            "--service=service1",
            f"--image={IMAGE}",
            f"--digest={DIGEST}",
            "--output-dir=output",
        ]
    ]
    _assert_no_shell_text_from_values(run, "publish")
    assert [c["path"] for c in run.calls("publish", "load")] == ["output/service1.env.groovy"]
    assert result["env"]["SERVICE1_BUILD"] == "90"
    assert result["env"]["SERVICE1_COMMIT_MSG"] == HOSTILE_COMMIT
    archived = run.calls("publish", "archiveArtifacts")
    assert archived[0]["artifacts"] == "output/service1.env.groovy,output/service1.manifest.json"


def test_import_of_newest_builds_sets_env_from_the_generated_env_groovy(run: Run) -> None:
    result = run.result("import-from")
    assert result["error"] is None
    assert run.argv("import-from") == [
        [
            "import-artifacts",
            "--from=service1-build",
            "--from=team/service2-build",
            "--target=import",
        ]
    ]
    env = result["env"]
    assert env["SERVICE1_BUILD"] == "90"
    assert env["SERVICE2_BUILD"] == "45"
    assert env["SERVICE1_IMAGE"].endswith("/service1:90")
    assert env["SERVICE1_COMMIT_MSG"] == HOSTILE_COMMIT
    assert "STALE_BUILD" not in env, "a file left by an earlier build was loaded"
    assert result["returned"] == ["service1#90", "service2#45"]
    assert [c["path"] for c in run.calls("import-from", "load")] == [
        "import/service1.env.groovy",
        "import/service2.env.groovy",
    ]
    assert run.calls("import-from", "archiveArtifacts")[0]["artifacts"] == (
        "import/*.env.groovy,import/manifest.json"
    )
    assert not list(Path("/tmp").glob(f"{MARKER}*"))


def test_import_of_a_chosen_upstream_build_with_overrides(run: Run) -> None:
    assert run.result("import-upstream")["error"] is None
    assert run.argv("import-upstream") == [
        [
            "import-artifacts",
            "--from=deploy-test",
            "--build=12-Fix login - again",
            "--target=import",
            "--override=service1=91",
            "--override=service2=45",
            "--override=svc-3=7",
        ]
    ]


def test_orchestrate_verify_wait_command_lines(run: Run) -> None:
    assert run.argv("orchestrate-apply") == [
        ["orchestrate", "apply", "appcluster-test", "ap-southeast-2", "--import-dir=import"]
    ]
    assert run.argv("orchestrate-init") == [
        ["orchestrate", "init", "appcluster-test", "ap-southeast-2"]
    ]
    assert run.argv("orchestrate-live") == [
        [
            "orchestrate",
            "apply",
            "appcluster-live",
            "ap-southeast-2",
            "--import-dir=import",
            "--runner=docker",
            "--confirm-live",
            "--",
            "-lock-timeout=5m",
            "-var",
            "x=$(id)",
        ]
    ]
    assert run.argv("verify") == [
        ["verify-images", "--import-dir=import", "--region=ap-southeast-2"]
    ]
    assert run.argv("wait") == [
        [
            "wait-rollout",
            "--cluster=appcluster-test",
            "--service=service1",
            "--service=service2",
            "--timeout=15m",
        ]
    ]
    for name in ("orchestrate-apply", "orchestrate-live", "verify", "wait"):
        assert run.result(name)["error"] is None
        _assert_no_shell_text_from_values(run, name)


def test_record_deployment_passes_the_display_name_as_one_argument(run: Run) -> None:
    assert run.result("record")["error"] is None
    assert run.argv("record") == [
        [
            "record-deployment",
            "--environment=test",
            "--import-dir=import",
            "--output-dir=output",
            "--display-name=12-Fix 'it' ${x} $(id)",
            HARNESS_BUILD_START,
        ]
    ]
    assert run.calls("record", "archiveArtifacts")[0]["artifacts"] == (
        "output/*.env.groovy,output/manifest.json"
    )


def test_wait_rollout_outcome_reaches_record_deployment_as_a_file(run: Run) -> None:
    assert run.result("wait-to-file")["error"] is None
    assert run.argv("wait-to-file") == [
        ["wait-rollout", "--cluster=appcluster-test", "--service=service1", "--output=rollout.json"]
    ]
    # Emptied before the CLI runs, so an earlier build's outcome can never be recorded.
    assert run.calls("wait-to-file", "writeFile") == [
        {"step": "writeFile", "file": "rollout.json", "text": ""}
    ]
    assert run.argv("record-rollout") == [
        [
            "record-deployment",
            "--environment=beta",
            "--import-dir=import",
            "--output-dir=output",
            "--rollout=rollout.json",
            HARNESS_BUILD_START,
        ]
    ]
    assert run.argv("record-destroyed") == [
        [
            "record-deployment",
            "--environment=test",
            "--import-dir=import",
            "--output-dir=output",
            "--destroyed",
            HARNESS_BUILD_START,
        ]
    ]
    assert "invalid rollout file '/etc/passwd'" in (run.result("bad-rollout-file")["error"] or "")
    assert run.argv("bad-rollout-file") == []


def test_display_name_from_git_is_assigned_as_a_value(run: Run) -> None:
    result = run.result("display-name")
    assert run.argv("display-name") == [["set-display-name", "--print"]]
    assert run.calls("display-name", "sh")[0]["returnStdout"] is True
    assert result["displayName"] == "Fix 'quoted' $(id) ${x} `id`\n\nbody line"


def test_deploy_display_name_and_choice_helpers(run: Run) -> None:
    summary = run.result("deployed-summary")["returned"]
    assert (
        summary
        == ("service1 #90 Fix login | service2 #45 | service3 #7 bell <b>" + "x" * 200)[:120]
    )
    assert run.result("subject-of-choice")["returned"] == [
        "Fix - it",
        "",
        ["service1=91", "svc-2=7"],
    ]


def test_a_failing_cli_fails_the_step(run: Run) -> None:
    assert run.result("cli-fails")["error"] == "script returned exit code 3"


@pytest.mark.parametrize(
    ("status", "colour"),
    [
        ("STARTED", "#FFFF00"),
        ("SUCCESS", "#00FF00"),
        ("FAILURE", "#FF0000"),
        ("UNSTABLE", "#FFA500"),
        (None, "#FFFF00"),
    ],
)
def test_notify_build_colours_and_escapes_for_slack(
    run: Run, status: str | None, colour: str
) -> None:
    (sent,) = run.calls(f"notify-{status}", "slackSend")
    assert sent["color"] == colour
    shown = status or "STARTED"
    assert sent["message"] == (
        f"{shown}: [#12] deploy-&lt;test&gt; &lt;!channel&gt; Fix &amp; &lt;b&gt;login&lt;/b&gt;"
        " (<https://ci/job/x/12/|open>)"
    )
    assert sent["failOnError"] is False


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad-service", "pipelinelibPublish: invalid service name 'Service 1'"),
        ("bad-service-injection", "pipelinelibPublish: invalid service name 'x; rm -rf /'"),
        ("bad-job", "pipelinelibImport: invalid job name 'a/../b'"),
        ("bad-job-char", "pipelinelibImport: invalid job name 'svc?x'"),
        ("no-job", "pipelinelibImport: give the upstream job(s)"),
        ("bad-selector", "pipelinelibImport: no build selected"),
        ("bad-selector-text", "pipelinelibImport: invalid build selector 'latest-x'"),
        ("bad-override", "pipelinelibImport: invalid build override 'service1=abc'"),
        ("bad-override-service", "pipelinelibImport: invalid build override '$(id)=3'"),
        ("bad-target", "pipelinelibImport: invalid target directory '../outside'"),
        ("bad-command", "pipelinelibOrchestrate: unknown orchestrate command 'rm'"),
        ("bad-stack", "pipelinelibOrchestrate: invalid stack name 'stack; id'"),
        ("bad-region", "pipelinelibOrchestrate: invalid region 'mars-1'"),
        ("bad-timeout", "pipelinelibWaitRollout: invalid duration '15 m'"),
        ("bad-cluster", "pipelinelibWaitRollout: invalid cluster name 'a b'"),
        ("bad-environment", "pipelinelibRecordDeployment: invalid environment name 'Live!'"),
        ("nul-byte", "pipelinelib: pipelinelib argument contains a NUL character"),
    ],
)
def test_bad_arguments_stop_the_step_before_any_shell(run: Run, name: str, message: str) -> None:
    result = run.result(name)
    assert result["error"] is not None
    assert result["error"].startswith(message), result["error"]
    assert run.calls(name, "sh") == []
    assert run.argv(name) == []


@pytest.mark.parametrize("shell", SHELLS)
def test_hostile_values_reach_the_cli_as_single_arguments(run: Run, shell: str) -> None:
    tag = Path(shell).name
    values = _hostile_values(shell)
    assert len(values) >= (200 if shell == "/bin/sh" else HAND_WRITTEN)
    for index, value in enumerate(values):
        name = f"hostile-{tag}-{index}"
        assert run.result(name)["error"] is None, (value, run.result(name)["error"])
        assert run.argv(name) == [
            ["import-artifacts", "--from=deploy-test", f"--build=12-{value}", "--target=import"],
            [
                "record-deployment",
                "--environment=test",
                "--import-dir=import",
                "--output-dir=output",
                f"--display-name={value}",
                HARNESS_BUILD_START,
            ],
        ], value
        # The shell text is pipelinelib "$PL_ARG_0" ... whatever the value: it never saw it.
        _assert_no_shell_text_from_values(run, name)
    assert not list(Path("/tmp").glob(f"{MARKER}*"))
    assert not list(run.root.rglob(f"{MARKER}*"))


def test_record_deployment_never_archives_an_earlier_builds_files(run: Run) -> None:
    result = run.result("record-stale")
    assert result["error"] is None
    assert result["returned"] == [False]  # removed before record-deployment wrote output/
    assert {"step": "dir", "path": "output"} in run.calls("record-stale", "dir")
    assert run.calls("record-stale", "deleteDir") == [{"step": "deleteDir", "path": "output"}]


def test_reset_workspace_clears_output_and_the_rollout_file(run: Run) -> None:
    assert run.result("reset-workspace")["error"] is None
    workspace = run.root / "ws" / "reset-workspace"
    assert not (workspace / "output").exists()
    assert (workspace / "rollout.json").read_text() == ""
    assert "invalid output directory '../up'" in (run.result("reset-outside")["error"] or "")
    assert run.calls("reset-outside", "deleteDir") == []


def test_the_approval_names_the_build_its_services_and_overrides(run: Run) -> None:
    assert run.result("approval-message")["returned"] == (
        "Deploy deploy-staging #34 to staging (appcluster-staging)?\n"
        "Build: deploy-beta 21-Fix login\n"
        "  service1 #91 Fix login\n"
        "  service2 #45\n"
        "Overrides: service1=91"
    )


def test_the_protected_environments_come_from_the_environments_file(run: Run) -> None:
    assert run.result("environments")["returned"] == [
        ["staging", "live"],
        [False, False, True, True, False, False],
        "live-deployers",
        "appcluster-test",
        "appcluster-live",
    ], run.result("environments")["error"]
    assert "invalid cluster name" in (run.result("lock-name-refused")["error"] or "")


def test_a_lock_is_released_when_the_locked_steps_fail(run: Run) -> None:
    assert run.result("lock-body-fails")["error"] == "apply failed"
    assert run.argv("lock-body-fails") == [
        ["lock", "--reason=deploy-live #12", "--ttl=2h", "live"],
        ["unlock", "live"],
    ]
    assert run.result("lock-body-ok")["returned"] == "applied"
    assert run.argv("lock-body-ok") == [["lock", "--reason=r", "live"], ["unlock", "live"]]


def test_approvals_rollback_and_overrides_reach_the_cli(run: Run) -> None:
    assert run.argv("approvals") == [
        ["request-approval", "live", "--deployment=deploy-live#12"],
        ["approvals", "live", "--deployment=deploy-live#12", "--check"],
    ]
    assert run.argv("rollback-dry-run") == [
        [
            "rollback",
            "--environment=live",
            "--reason=errors after #14",
            "--to=deploy-live#9",
            "--dry-run",
        ]
    ]
    assert run.argv("record-check") == [
        [
            "record-deployment",
            "--environment=live",
            "--import-dir=import",
            "--output-dir=output",
            HARNESS_BUILD_START,
            "--check",
        ]
    ]
    assert run.calls("record-check", "archiveArtifacts") == []
    assert run.calls("record-check", "deleteDir") == []
    [record] = run.argv("record-hotfix")
    assert record[-2:] == ["--reason=INC-7 hotfix", "--skip-order"]
    for name, message in (
        ("bad-lock-env", "pipelinelibLock: invalid environment name 'Live!'"),
        ("bad-lock-reason", "pipelinelibLock:"),
        (
            "bad-skip-order",
            "pipelinelibRecordDeployment: skipOrder and overrideFreeze need a reason",
        ),
        ("bad-rollback", "pipelinelibRollback:"),
    ):
        assert (run.result(name)["error"] or "").startswith(message), run.result(name)
        assert run.argv(name) == []


def test_service_build_constants_are_checked_at_run_time(run: Run) -> None:
    problems = run.result("job-rules")["returned"]
    assert problems[0] is None
    assert "invalid ECR registry" in problems[1]
    assert "invalid service repository" in problems[2]
    assert "invalid credentials id" in problems[3]
    assert "invalid branch" in problems[4]


def test_a_parameter_the_real_step_lacks_fails_as_in_jenkins(run: Run) -> None:
    """The harness refuses what the real step refuses (ArtifactArchiver has no allowEmpty)."""
    error = run.result("unknown-step-parameter")["error"] or ""
    assert 'Invalid parameter "allowEmpty"' in error
