"""jenkins/local/: what can be checked of the one-command controller without Docker or Jenkins.

No Docker daemon and no Jenkins download here, so the controller is never started by the tests.
Checked instead: every file parses; plugins.txt is pinned and holds exactly the plugins that the
rendered jobs (jenkins-jobs test), the Jenkinsfiles, the library steps and casc.yaml need; the
JCasC keys are the ones each plugin documents; the names casc.yaml defines (library, credentials,
global variable, lock resources) are the names the Jenkinsfiles, the library and the jobs use.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.groovy_sources import ROOT

LOCAL = ROOT / "jenkins" / "local"
JENKINSFILES = sorted((ROOT / "jenkins").glob("*/Jenkinsfile"))
LIBRARY_STEPS = sorted((ROOT / "groovy" / "vars").glob("*.groovy"))

# Pipeline steps and directives -> the plugin that provides them (each plugin's step symbol,
# read from its source: @Symbol / getFunctionName of the step descriptor).
STEP_PLUGINS = {
    "pipeline": "pipeline-model-definition",  # ModelInterpreter (declarative)
    "disableRestartFromStage": "pipeline-model-definition",  # DisableRestartFromStage
    "sh": "workflow-durable-task-step",  # ShellStep
    "load": "workflow-cps",  # LoadStep
    "input": "pipeline-input-step",  # InputStep
    "lock": "lockable-resources",  # LockStep
    "findFiles": "pipeline-utility-steps",  # FindFilesStep
    "readJSON": "pipeline-utility-steps",  # ReadJSONStep
    "timestamps": "timestamper",  # TimestamperStep / option
    "slackSend": "slack",  # SlackSendStep
    "credentials": "credentials-binding",  # declarative credentials() helper
    "git": "git",  # GitStep
    "stash": "workflow-basic-steps",  # StashStep
    "unstash": "workflow-basic-steps",
    "timeout": "workflow-basic-steps",  # TimeoutStep
    "writeFile": "workflow-basic-steps",
    "readFile": "workflow-basic-steps",
    "deleteDir": "workflow-basic-steps",
    "archiveArtifacts": "workflow-basic-steps",  # CoreStep symbol of ArtifactArchiver
    "@Library": "pipeline-groovy-lib",
}
# Classes of the rendered config.xml that have no plugin="..." attribute.
CLASS_PLUGINS = {"hudson.plugins.git.": "git"}
# JCasC paths -> plugin. Each key's schema: the plugin's @DataBoundConstructor/@DataBoundSetter
# names, as Manage Jenkins > Configuration as Code > Documentation lists them.
CASC_PLUGINS = {
    ("credentials",): "credentials",
    ("credentials", "string"): "plain-credentials",  # StringCredentialsImpl
    ("unclassified", "globalLibraries"): "pipeline-groovy-lib",  # GlobalLibraries
    ("unclassified", "lockableResourcesManager"): "lockable-resources",
}
CASC_SCHEMA: dict[str, set[str]] = {
    # Jenkins core (jenkins.model.Jenkins and the describables below)
    "jenkins": {
        "systemMessage",
        "numExecutors",
        "labelString",
        "mode",
        "securityRealm",
        "authorizationStrategy",
        "globalNodeProperties",
    },
    "jenkins.securityRealm": {"local"},
    "jenkins.securityRealm.local": {"allowsSignup", "enableCaptcha", "users"},
    "jenkins.securityRealm.local.users[]": {"id", "name", "password", "properties"},
    "jenkins.authorizationStrategy": {"loggedInUsersCanDoAnything"},
    "jenkins.authorizationStrategy.loggedInUsersCanDoAnything": {"allowAnonymousRead"},
    "jenkins.globalNodeProperties[]": {"envVars"},
    "jenkins.globalNodeProperties[].envVars": {"env"},
    "jenkins.globalNodeProperties[].envVars.env[]": {"key", "value"},
    # credentials: SystemCredentialsProvider; plain-credentials: StringCredentialsImpl
    "credentials": {"system"},
    "credentials.system": {"domainCredentials"},
    "credentials.system.domainCredentials[]": {"credentials", "domain"},
    "credentials.system.domainCredentials[].credentials[]": {"string"},
    "credentials.system.domainCredentials[].credentials[].string": {
        "scope",
        "id",
        "description",
        "secret",
    },
    # pipeline-groovy-lib: GlobalLibraries, LibraryConfiguration, SCMSourceRetriever, GitSCMSource
    "unclassified": {"globalLibraries", "lockableResourcesManager"},
    "unclassified.globalLibraries": {"libraries"},
    "unclassified.globalLibraries.libraries[]": {
        "name",
        "defaultVersion",
        "implicit",
        "allowVersionOverride",
        "includeInChangesets",
        "retriever",
        "cachingConfiguration",
    },
    "unclassified.globalLibraries.libraries[].retriever": {"modernSCM"},
    "unclassified.globalLibraries.libraries[].retriever.modernSCM": {
        "scm",
        "libraryPath",
        "clone",
    },
    "unclassified.globalLibraries.libraries[].retriever.modernSCM.scm": {"git"},
    "unclassified.globalLibraries.libraries[].retriever.modernSCM.scm.git": {
        "remote",
        "credentialsId",
        "traits",
        "id",
    },
    # lockable-resources: LockableResourcesManager, LockableResource
    "unclassified.lockableResourcesManager": {"declaredResources"},
    "unclassified.lockableResourcesManager.declaredResources[]": {
        "name",
        "description",
        "labels",
        "reservedBy",
        "note",
    },
}


def _load(name: str) -> Any:
    return yaml.safe_load((LOCAL / name).read_text(encoding="utf-8"))


def plugins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (LOCAL / "plugins.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*:[0-9][A-Za-z0-9._-]*", line), line
        plugin, version = line.split(":")
        assert plugin not in pins, f"{plugin} twice"
        pins[plugin] = version
    return pins


def _walk_schema(node: Any, path: str, unknown: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk_schema(item, path + "[]", unknown)
        return
    if not isinstance(node, dict) or path not in CASC_SCHEMA:
        return
    for key, value in node.items():
        if key not in CASC_SCHEMA[path]:
            unknown.append(f"{path}.{key}")
        child = f"{path}.{key}" if path else key
        _walk_schema(value, child, unknown)


@pytest.fixture(scope="module")
def rendered_xml(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("jjb-local")
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "jenkins-jobs"),
            "--conf",
            str(out / "none.ini"),
            "test",
            "--config-xml",
            str(ROOT / "jenkins" / "jobs"),
            "-o",
            str(out / "xml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(out.glob("xml/*/config.xml")))


def test_every_file_parses_and_listens_on_loopback_only() -> None:
    compose = _load("docker-compose.yml")
    assert set(compose["services"]) == {"manifests", "jenkins", "jobs"}
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    build = compose["services"]["jenkins"]["build"]
    assert (LOCAL / build["context"] / build["dockerfile"]).resolve() == LOCAL / "Dockerfile"
    dockerfile = (LOCAL / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"(?m)^FROM (\S+)$", dockerfile)
    assert base and re.fullmatch(r"jenkins/jenkins:2\.\d+\.\d+-lts-jdk\d+", base.group(1))
    assert "jenkins-plugin-cli --plugin-file /usr/share/jenkins/ref/plugins.txt" in dockerfile
    assert isinstance(_load("casc.yaml"), dict)
    # every variable docker compose requires is in the example .env, and the tokens agree
    required = set(re.findall(r"\$\{(\w+):\?", (LOCAL / "docker-compose.yml").read_text()))
    example = dict(
        line.split("=", 1)
        for line in (LOCAL / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert required == set(example)
    tokens = {
        line.split()[0]: line.split()[1]
        for line in (LOCAL / "tokens.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert tokens[example["PIPELINELIB_TOKEN"]] == "publish"
    assert tokens[example["PIPELINELIB_READ_TOKEN"]] == "read"


def test_plugins_txt_holds_exactly_the_plugins_the_jobs_and_casc_need(rendered_xml: str) -> None:
    needed: dict[str, str] = {"configuration-as-code": "casc.yaml"}
    for plugin in re.findall(r'plugin="([a-z0-9-]+)(?:@[^"]*)?"', rendered_xml):
        needed.setdefault(plugin, "rendered jobs")
    for prefix, plugin in CLASS_PLUGINS.items():
        if prefix in rendered_xml:
            needed.setdefault(plugin, f"rendered jobs ({prefix}*)")
    code = "\n".join(p.read_text(encoding="utf-8") for p in [*JENKINSFILES, *LIBRARY_STEPS])
    for step, plugin in STEP_PLUGINS.items():
        pattern = r"@Library\(" if step == "@Library" else rf"\b{step}\s*[({{]"
        if re.search(pattern, code):
            needed.setdefault(plugin, f"step {step}")
    casc = _load("casc.yaml")
    for path, plugin in CASC_PLUGINS.items():
        node: Any = casc
        if path[-1] == "string":
            credentials = casc["credentials"]["system"]["domainCredentials"][0]["credentials"]
            if any("string" in c for c in credentials):
                needed.setdefault(plugin, "casc.yaml string credentials")
            continue
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            needed.setdefault(plugin, f"casc.yaml {'.'.join(path)}")
    pinned = plugins()
    assert set(pinned) - set(needed) == set(), "pinned but needed by nothing"
    assert {p: why for p, why in needed.items() if p not in pinned} == {}, "needed, not pinned"
    assert {"extensible-choice-parameter", "lockable-resources", "script-security"} <= set(pinned)


def test_casc_keys_are_the_documented_ones() -> None:
    unknown: list[str] = []
    casc = _load("casc.yaml")
    assert set(casc) == {"jenkins", "credentials", "unclassified"}
    for root, node in casc.items():
        _walk_schema(node, root, unknown)
    assert unknown == []


def test_casc_defines_the_names_the_jobs_and_the_library_use(rendered_xml: str) -> None:
    casc = _load("casc.yaml")
    jenkinsfiles = "\n".join(p.read_text(encoding="utf-8") for p in JENKINSFILES)
    choice_script = (ROOT / "groovy" / "choices" / "upstream-builds.groovy").read_text()

    (library,) = casc["unclassified"]["globalLibraries"]["libraries"]
    assert all(f"@Library('{library['name']}') _" in p.read_text() for p in JENKINSFILES)
    library_path = library["retriever"]["modernSCM"]["libraryPath"]
    assert (ROOT / library_path / "vars").is_dir() and (ROOT / library_path / "src").is_dir()

    credentials = casc["credentials"]["system"]["domainCredentials"][0]["credentials"]
    ids = {c["string"]["id"] for c in credentials}
    assert ids == {"pipelinelib-token", "pipelinelib-read-token"}
    assert "credentials('pipelinelib-token')" in jenkinsfiles
    assert "readTokenCredentialsId = 'pipelinelib-read-token'" in rendered_xml

    (env,) = casc["jenkins"]["globalNodeProperties"]
    keys = {e["key"] for e in env["envVars"]["env"]}
    assert keys == {"PIPELINELIB_SERVER"}
    assert "'PIPELINELIB_SERVER'" in choice_script

    labels = set(casc["jenkins"]["labelString"].split())
    used = set(re.findall(r"label '([a-z-]+)'", jenkinsfiles))
    assert used == labels == {"build", "deploy"}

    declared = {
        r["name"] for r in casc["unclassified"]["lockableResourcesManager"]["declaredResources"]
    }
    clusters = set(re.findall(r"<string>(appcluster-[a-z]+)</string>", rendered_xml))
    assert declared == clusters
