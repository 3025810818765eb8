"""jenkins-job-builder renders every job of jenkins/jobs, and the XML is what Jenkins needs.

`jenkins-jobs test` runs offline. The rendered config.xml files are parsed and checked: the
pipeline script of each job, the promotion chain, the parameters (the Extensible Choice one with
the choice script inside; the service builds' constants), the triggers (destroy-test at
`H 20 * * *` in the documented zone) and the cluster locks the jobs and their Jenkinsfiles take.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import TESTS, Groovy
from tests.fixtures.groovy_sources import ROOT
from tests.fixtures.jenkins import ChoicesServer

CHOICE_SCRIPT = Path("groovy/choices/upstream-builds.groovy")
CHOICE_TAG = (
    "jp.ikedam.jenkins.plugins.extensible__choice__parameter.ExtensibleChoiceParameterDefinition"
)
PRELUDE_END = "// ---- groovy/choices/upstream-builds.groovy ----\n"
CHAIN = {
    "deploy-beta": ("deploy-test", "appcluster-beta", "beta"),
    "deploy-staging": ("deploy-beta", "appcluster-staging", "staging"),
    "deploy-live": ("deploy-staging", "appcluster-live", "live"),
    "deploy-sandbox": ("deploy-staging", "appcluster-sandbox", "sandbox"),
}
SCRIPT_PATHS = {
    "service1-build": "jenkins/service-build/Jenkinsfile",
    "service2-build": "jenkins/service-build/Jenkinsfile",
    "deploy-test": "jenkins/deploy-test/Jenkinsfile",
    "destroy-test": "jenkins/destroy-test/Jenkinsfile",
    **dict.fromkeys(CHAIN, "jenkins/deploy-upstream/Jenkinsfile"),
}


class Rendered:
    def __init__(self, out: Path, choice_script: str) -> None:
        # Our own jenkins-jobs output, not untrusted input.
        self.jobs = {p.parent.name: ET.parse(p).getroot() for p in out.glob("*/config.xml")}  # noqa: S314
        self.choice_script = choice_script

    def parameters(self, job: str) -> dict[str, ET.Element]:
        root = self.jobs[job]
        found = root.find(
            "properties/hudson.model.ParametersDefinitionProperty/parameterDefinitions"
        )
        assert found is not None
        return {p.findtext("name", ""): p for p in found}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Render a copy of jenkins/ and groovy/ (so the choice script is included as it is)."""
    tree = tmp_path_factory.mktemp("jjb")
    shutil.copytree(ROOT / "jenkins", tree / "jenkins")
    shutil.copytree(ROOT / "groovy", tree / "groovy")
    choice = tree / CHOICE_SCRIPT
    out = tree / "out"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "jenkins-jobs"),
            "--conf",
            str(tree / "none.ini"),
            "test",
            "--config-xml",
            str(tree / "jenkins" / "jobs"),
            "-o",
            str(out),
        ],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return Rendered(out, choice.read_text(encoding="utf-8"))


def test_every_job_renders(rendered: Rendered) -> None:
    assert set(rendered.jobs) == set(SCRIPT_PATHS)


@pytest.mark.parametrize("job", sorted(SCRIPT_PATHS))
def test_each_job_runs_its_jenkinsfile_from_the_tools_repository(
    rendered: Rendered, job: str
) -> None:
    root = rendered.jobs[job]
    assert root.tag == "flow-definition"
    definition = root.find("definition")
    assert definition is not None
    assert definition.get("class") == "org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition"
    assert definition.findtext("scriptPath") == SCRIPT_PATHS[job]
    assert definition.findtext("lightweight") == "true"
    assert definition.findtext("sandbox") == "true"
    assert definition.findtext("scm/userRemoteConfigs/hudson.plugins.git.UserRemoteConfig/url")
    assert (ROOT / SCRIPT_PATHS[job]).is_file()
    assert (
        root.find(
            "properties/org.jenkinsci.plugins.workflow.job.properties.DisableConcurrentBuildsJobProperty"
        )
        is not None
    )


def test_destroy_test_runs_every_evening_at_8pm_in_the_documented_zone(rendered: Rendered) -> None:
    """Without `TZ=` Jenkins reads the spec in the controller's zone (often UTC)."""
    spec = rendered.jobs["destroy-test"].findtext(
        "properties/org.jenkinsci.plugins.workflow.job.properties.PipelineTriggersJobProperty/triggers/hudson.triggers.TimerTrigger/spec"
    )
    assert spec == "TZ=Australia/Sydney\nH 20 * * *"
    ZoneInfo(spec.splitlines()[0].removeprefix("TZ="))  # a zone Jenkins (java.util.TimeZone) knows
    assert "Australia/Sydney" in (ROOT / "docs" / "jenkins.md").read_text(encoding="utf-8")
    params = rendered.parameters("destroy-test")
    assert [s.text for s in params["STACK"].iter("string")] == ["appcluster-test"]


def test_deploy_test_follows_the_service_builds(rendered: Rendered) -> None:
    root = rendered.jobs["deploy-test"]
    trigger = root.find(".//jenkins.triggers.ReverseBuildTrigger")
    assert trigger is not None
    assert trigger.findtext("upstreamProjects") == "service1-build, service2-build"
    assert trigger.findtext("threshold/name") == "SUCCESS"
    params = rendered.parameters("deploy-test")
    assert params["SERVICE_JOBS"].findtext("defaultValue") == "service1-build service2-build"
    assert [s.text for s in params["ENVIRONMENT"].iter("string")] == ["test"]


def groovy_constant(path: Path, name: str) -> str:
    """A `static final String NAME = '...'` of a shared-library class, unescaped."""
    text = path.read_text(encoding="utf-8")
    found = re.search(rf"static final String {name} = '((?:[^'\\\\]|\\\\.)*)'", text)
    assert found, name
    return found.group(1).replace("\\\\", "\\")


JOB_RULES = ROOT / "groovy" / "src" / "io" / "pipelinelib" / "JobRules.groovy"


@pytest.mark.parametrize("job", ["service1-build", "service2-build"])
def test_service_build_repository_key_and_registry_are_job_constants(
    rendered: Rendered, job: str
) -> None:
    """Free text here would let anyone with Build permission send the ECR token elsewhere."""
    params = rendered.parameters(job)
    service = job.removesuffix("-build")
    constants = {}
    for name in (
        "SERVICE_NAME",
        "SERVICE_REPO",
        "SERVICE_CREDENTIALS",
        "ECR_REGISTRY",
        "AWS_REGION",
    ):
        assert params[name].tag == "hudson.model.ChoiceParameterDefinition", name
        values = [s.text for s in params[name].iter("string")]
        assert len(values) == 1, name
        constants[name] = values[0]
    assert constants["SERVICE_NAME"] == service
    assert constants["SERVICE_REPO"].endswith(f"/{service}.git")
    assert constants["SERVICE_CREDENTIALS"] == f"{service}-deploy-key"
    ecr = re.compile(groovy_constant(JOB_RULES, "ECR_REGISTRY_PATTERN"))
    assert ecr.match(constants["ECR_REGISTRY"])
    assert not ecr.match("attacker.example.com")
    assert not ecr.match("999999999999.dkr.ecr.ap-southeast-2.amazonaws.com.evil.io")
    free_text = [n for n, p in params.items() if p.tag == "hudson.model.StringParameterDefinition"]
    assert free_text == ["SERVICE_BRANCH"]
    assert rendered.jobs[job].find(".//hudson.triggers.SCMTrigger") is not None


@pytest.mark.parametrize("job", sorted(CHAIN))
def test_promotion_jobs_have_the_chain_and_the_parameters(rendered: Rendered, job: str) -> None:
    upstream, cluster, environment = CHAIN[job]
    assert upstream in rendered.jobs
    params = rendered.parameters(job)
    assert list(params) == [
        "UPSTREAM_PROJECT",
        "CLUSTER_NAME",
        "ENVIRONMENT",
        "AWS_REGION",
        "BUILD_TO_DEPLOY",
        "BUILD_OVERRIDES",
        "CONFIRM_LIVE",
    ]
    assert [s.text for s in params["UPSTREAM_PROJECT"].iter("string")] == [upstream]
    assert [s.text for s in params["CLUSTER_NAME"].iter("string")] == [cluster]
    assert [s.text for s in params["ENVIRONMENT"].iter("string")] == [environment]
    assert params["BUILD_OVERRIDES"].tag == "hudson.model.TextParameterDefinition"
    assert params["CONFIRM_LIVE"].tag == "hudson.model.BooleanParameterDefinition"
    assert params["CONFIRM_LIVE"].findtext("defaultValue") == "false"

    choice = params["BUILD_TO_DEPLOY"]
    assert choice.tag == CHOICE_TAG
    assert choice.findtext("editable") == "false"
    provider = choice.find("choiceListProvider")
    assert provider is not None
    assert provider.get("class") == (
        "jp.ikedam.jenkins.plugins.extensible_choice_parameter.SystemGroovyChoiceListProvider"
    )
    assert provider.findtext("usePredefinedVariables") == "true"
    script = provider.findtext("groovyScript/script", "")
    prelude, marker, rest = script.partition(PRELUDE_END)
    assert marker, "the bindings prelude marker is missing"
    assert rest.strip("\n") == rendered.choice_script.strip("\n")
    # Only the script's own settings: the job and the server come from what the plugin binds.
    settings = [line for line in prelude.splitlines() if line and not line.startswith("//")]
    assert settings == [
        "limit = 100",
        "timeoutMs = 5000",
        "maxBytes = 262144",
        "readTokenCredentialsId = 'pipelinelib-read-token'",
    ]


@pytest.mark.groovy
def test_the_rendered_choice_script_lists_the_jobs_own_upstream(
    rendered: Rendered, groovy: Groovy, choices_server: ChoicesServer, tmp_path: Path
) -> None:
    """The exact <script> of deploy-staging, run with Extensible Choice's one binding `project`."""
    script = rendered.parameters("deploy-staging")["BUILD_TO_DEPLOY"].findtext(
        "choiceListProvider/groovyScript/script", ""
    )
    assert (
        re.search(r"(?m)^\s*[^/\s].*\bjenkins\b(?!\.model)", script.partition(PRELUDE_END)[0])
        is None
    )
    rendered_script = tmp_path / "rendered.groovy"
    rendered_script.write_text(script, encoding="utf-8")
    choices_server.choices["deploy-beta"] = ["21-Beta two", "20-Beta one"]
    choices_server.choices["deploy-test"] = ["12-Test"]
    cases = [
        {
            "plugin": "extensible-choice",
            "project": {"fullName": "deploy-staging", "upstream": "deploy-beta"},
            "globalEnv": {"PIPELINELIB_SERVER": choices_server.url},
            "credentials": [{"id": "pipelinelib-read-token", "secret": "t0ken"}],
        }
    ]
    spec = tmp_path / "cases.json"
    spec.write_text(json.dumps(cases), encoding="utf-8")
    done = groovy.run(
        TESTS / "groovy" / "run_choices.groovy",
        str(rendered_script),
        str(spec),
        str(TESTS / "groovy" / "fakes"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert not [line for line in lines if line.startswith("ERROR")], lines
    choices = [
        bytes.fromhex(line.split("\t")[2]).decode("utf-16-be")
        for line in lines
        if line.startswith("CHOICE")
    ]
    assert choices == ["21-Beta two", "20-Beta one"]
    assert choices_server.requests == ["/api/v1/jobs/deploy-beta/choices?limit=100"]
    assert choices_server.authorizations == ["Bearer t0ken"]


CLUSTER_PARAMETER = {
    "jenkins/deploy-test/Jenkinsfile": "STACK",
    "jenkins/destroy-test/Jenkinsfile": "STACK",
    "jenkins/deploy-upstream/Jenkinsfile": "CLUSTER_NAME",
}


def test_every_job_that_changes_a_cluster_locks_it_by_name(rendered: Rendered) -> None:
    """Lockable Resources: deploy-test and destroy-test share lock('appcluster-test')."""
    locks: dict[str, str] = {}
    for job, path in SCRIPT_PATHS.items():
        if path not in CLUSTER_PARAMETER:
            continue
        parameter = CLUSTER_PARAMETER[path]
        text = (ROOT / path).read_text(encoding="utf-8")
        assert text.count(f"lock(resource: params.{parameter})") == 1, path
        values = [s.text for s in rendered.parameters(job)[parameter].iter("string")]
        assert len(values) == 1
        locks[job] = values[0] or ""
    assert locks == {
        "deploy-test": "appcluster-test",
        "destroy-test": "appcluster-test",
        "deploy-beta": "appcluster-beta",
        "deploy-staging": "appcluster-staging",
        "deploy-live": "appcluster-live",
        "deploy-sandbox": "appcluster-sandbox",
    }


@pytest.mark.parametrize("jenkinsfile", sorted(set(SCRIPT_PATHS.values())))
def test_no_jenkinsfile_can_be_restarted_from_a_stage(jenkinsfile: str) -> None:
    """Restart from Stage at "Record deployment" would record files of an earlier build."""
    text = (ROOT / jenkinsfile).read_text(encoding="utf-8")
    assert "disableRestartFromStage()" in text
    if jenkinsfile != "jenkins/service-build/Jenkinsfile":
        # Approvals and waits hold no executor: agents are taken per stage.
        assert re.search(r"pipeline \{\n    agent none\n", text)
        assert "pipelinelibResetWorkspace()" in text


@pytest.mark.parametrize("jenkinsfile", sorted(set(SCRIPT_PATHS.values())))
def test_jenkinsfiles_leave_parameters_and_triggers_to_the_job_definitions(
    jenkinsfile: str,
) -> None:
    """A `parameters {}` or `triggers {}` block would replace the job's own on the first run."""
    text = (ROOT / jenkinsfile).read_text(encoding="utf-8")
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
    assert "parameters {" not in code
    assert "triggers {" not in code
    assert "properties(" not in code
    assert code.lstrip().startswith("@Library('pipelinelib') _")


# The parameters each step's descriptor accepts (its @DataBoundConstructor and @DataBoundSetter
# names), read from the plugins' sources; the Pipeline DSL refuses any other name at run time.
STEP_PARAMETERS = {
    # pipeline-input-step: InputStep.java
    "input": {"message", "id", "ok", "submitter", "submitterParameter", "parameters"},
    # lockable-resources: LockStep.java
    "lock": {
        "resource",
        "label",
        "quantity",
        "variable",
        "inversePrecedence",
        "skipIfLocked",
        "extra",
        "priority",
        "resourceSelectStrategy",
    },
    # workflow-basic-steps: StashStep.java, TimeoutStep.java
    "stash": {"name", "includes", "excludes", "useDefaultExcludes", "allowEmpty"},
    "timeout": {"time", "unit", "activity"},
    # core: LogRotator (buildDiscarder(logRotator(...)))
    "logRotator": {
        "daysToKeepStr",
        "numToKeepStr",
        "artifactDaysToKeepStr",
        "artifactNumToKeepStr",
    },
    # git: GitStep.java
    "git": {"url", "branch", "credentialsId", "poll", "changelog"},
}


def _named_arguments(text: str, start: int) -> set[str]:
    """The top-level `name:` keys of the call whose '(' is at `start` (strings skipped)."""
    names: set[str] = set()
    depth, i, quote = 0, start, ""
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return names
        elif depth == 1:
            found = re.match(r"([A-Za-z_]\w*)\s*:(?!:)", text[i:])
            if found and not re.match(r"\w", text[i - 1]):
                names.add(found.group(1))
                i += len(found.group(0))
                continue
        i += 1
    raise AssertionError(f"unclosed call at {start}")


@pytest.mark.parametrize("jenkinsfile", sorted(set(SCRIPT_PATHS.values())))
def test_jenkinsfile_steps_use_only_parameters_the_real_steps_have(jenkinsfile: str) -> None:
    text = (ROOT / jenkinsfile).read_text(encoding="utf-8")
    code = "\n".join("" if line.lstrip().startswith("//") else line for line in text.splitlines())
    for step, known in STEP_PARAMETERS.items():
        for call in re.finditer(rf"\b{step}\(", code):
            used = _named_arguments(code, call.end() - 1)
            assert used <= known, (jenkinsfile, step, used - known)


def test_the_argument_reader_sees_only_the_steps_own_keys() -> None:
    code = "input(message: f(job: 1, build: 'a:b'), ok: \"x: y\", submitter: s)"
    assert _named_arguments(code, code.index("(")) == {"message", "ok", "submitter"}
