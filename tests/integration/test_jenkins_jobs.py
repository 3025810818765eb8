"""jenkins-job-builder renders every job of jenkins/jobs, and the XML is what Jenkins needs.

`jenkins-jobs test` runs offline. The rendered config.xml files are parsed and checked: the
pipeline script of each job, the promotion chain, the parameters (the Extensible Choice one with
the choice script inside), the triggers (destroy-test at `H 20 * * *`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import TESTS, Groovy
from tests.fixtures.groovy_sources import ROOT

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
    if not choice.exists():
        # Until groovy/choices/upstream-builds.groovy lands (issue 4), render with its stand-in.
        choice.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(TESTS / "fakes" / "upstream_builds_choice.groovy", choice)
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


def test_destroy_test_runs_every_evening_at_8pm(rendered: Rendered) -> None:
    spec = rendered.jobs["destroy-test"].findtext(
        "properties/org.jenkinsci.plugins.workflow.job.properties.PipelineTriggersJobProperty/triggers/hudson.triggers.TimerTrigger/spec"
    )
    assert spec == "H 20 * * *"
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


@pytest.mark.parametrize("job", ["service1-build", "service2-build"])
def test_service_build_parameters(rendered: Rendered, job: str) -> None:
    params = rendered.parameters(job)
    service = job.removesuffix("-build")
    assert [s.text for s in params["SERVICE_NAME"].iter("string")] == [service]
    assert params["SERVICE_REPO"].findtext("defaultValue", "").endswith(f"/{service}.git")
    assert params["ECR_REGISTRY"].findtext("defaultValue", "").endswith(".amazonaws.com")
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
    for binding in ("upstreamJob =", "serviceUrl =", "limit =", "timeoutMs ="):
        assert binding in prelude


@pytest.mark.groovy
def test_the_choice_bindings_come_from_the_job_and_the_global_server(
    rendered: Rendered, groovy: Groovy, tmp_path: Path
) -> None:
    """The prelude runs under real Groovy with stand-ins for the plugin's `project`/`jenkins`."""
    script = rendered.parameters("deploy-staging")["BUILD_TO_DEPLOY"].findtext(
        "choiceListProvider/groovyScript/script", ""
    )
    prelude = tmp_path / "prelude.groovy"
    prelude.write_text(script.partition(PRELUDE_END)[0], encoding="utf-8")
    done = groovy.run(
        TESTS / "groovy" / "choice_prelude.groovy",
        str(prelude),
        "deploy-beta",
        "https://pipelinelib.example.com",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "upstreamJob": "deploy-beta",
        "serviceUrl": "https://pipelinelib.example.com",
        "limit": 100,
        "timeoutMs": 5000,
    }


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
