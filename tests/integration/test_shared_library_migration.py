"""The shared library's migration options under real Groovy 2.4.21 (see test_shared_library.py
for the harness): publish's legacy keys, orchestrate from inside the Terraform folder, the
legacy builds style and the terraform commands passed through."""

from __future__ import annotations

import pytest

from pipelinelib import orchestrate
from tests.conftest import Groovy
from tests.integration.test_shared_library import Run, _stage

pytestmark = [pytest.mark.groovy, pytest.mark.slow]


@pytest.fixture(scope="module")
def run(groovy: Groovy, tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("library-migration")
    batch = Run(root)
    published = _stage(
        root, "published", {"output/service-1.env.groovy": "env.SERVICE_1_BUILD = '91'\n"}
    )
    batch.add(
        "publish-legacy",
        files=published,
        code="pipelinelibPublish(service: 'service-1', legacyKey: 'SERVICE1', archive: false)",
    )
    batch.add(
        "publish-legacy-list",
        files=published,
        code="pipelinelibPublish(service: 'service-1', legacyKey: ['SERVICE1', 'SVC1'], archive: false)",
    )
    batch.add(
        "publish-bad-legacy",
        code="pipelinelibPublish(service: 'service-1', legacyKey: 'service1; id')",
    )
    batch.add(
        "orchestrate-root-dot",
        code="pipelinelibOrchestrate('apply', 'appcluster-test', 'ap-southeast-2', "
        "[root: '.', importDir: 'import', buildsStyle: 'legacy'])",
    )
    batch.add(
        "orchestrate-root-up",
        code="pipelinelibOrchestrate('plan', 'appcluster-test', 'ap-southeast-2', [root: '..'])",
    )
    batch.add(
        "orchestrate-bad-style",
        code="pipelinelibOrchestrate('plan', 'appcluster-test', 'ap-southeast-2', [buildsStyle: 'x'])",
    )
    batch.add(
        "orchestrate-state-mv",
        code="pipelinelibOrchestrate('state', 'appcluster-test', 'ap-southeast-2', "
        "[tfArgs: ['mv', 'aws_alb.cluster', 'module.app_cluster.aws_lb.this']])",
    )
    batch.add("commands", code="io.pipelinelib.Args.ORCHESTRATE_COMMANDS")
    batch.execute(groovy)
    return batch


def test_publish_writes_legacy_key_aliases(run: Run) -> None:
    assert run.result("publish-legacy")["error"] is None
    assert run.argv("publish-legacy") == [
        ["publish-artifact", "--service=service-1", "--output-dir=output", "--legacy-key=SERVICE1"]
    ]
    assert run.argv("publish-legacy-list")[0][-2:] == ["--legacy-key=SERVICE1", "--legacy-key=SVC1"]


def test_a_bad_legacy_key_stops_before_any_shell(run: Run) -> None:
    result = run.result("publish-bad-legacy")
    assert result["error"] == "pipelinelibPublish: invalid legacy key 'service1; id'"
    assert run.argv("publish-bad-legacy") == []


def test_orchestrate_from_inside_the_terraform_folder_with_the_legacy_style(run: Run) -> None:
    assert run.result("orchestrate-root-dot")["error"] is None
    assert run.argv("orchestrate-root-dot") == [
        [
            "orchestrate", "apply", "appcluster-test", "ap-southeast-2", "--root=.",
            "--import-dir=import", "--builds-style=legacy",
        ]
    ]  # fmt: skip
    # Only '.' itself is allowed: a root outside the workspace stays refused.
    assert "invalid terraform root '..'" in run.result("orchestrate-root-up")["error"]
    assert "unknown builds style 'x'" in run.result("orchestrate-bad-style")["error"]


def test_state_commands_pass_through_the_step(run: Run) -> None:
    assert run.argv("orchestrate-state-mv") == [
        [
            "orchestrate", "state", "appcluster-test", "ap-southeast-2", "--",
            "mv", "aws_alb.cluster", "module.app_cluster.aws_lb.this",
        ]
    ]  # fmt: skip


def test_the_step_knows_the_commands_the_cli_knows(run: Run) -> None:
    assert run.result("commands")["returned"] == list(orchestrate.COMMANDS)
