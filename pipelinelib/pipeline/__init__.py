"""The verbs: what a build or deploy job does, one module per family, independent of the CLI.

Every command and every HTTP route goes through these; each takes plain values (and a store),
returns models and prints nothing.

* :mod:`.importdir` - THE reader and writer of an import directory (manifest.json is the truth)
* :mod:`.publish` - publish-artifact, display names
* :mod:`.promote` - select a build, import it, record a deployment
* :mod:`.deploy` - verify images, orchestrate, wait for the rollout and its outcome file
* :mod:`.query` - list builds, choices, status, diff, history

Names are loaded on first use (PEP 562), so a command imports only its own verb's module:
``publish-artifact`` does not load the deploy verbs or :mod:`pipelinelib.aws` (CLI start-up,
tests/unit/test_startup.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE: dict[str, str] = {
    "DeploymentResult": "pipelinelib.pipeline.promote",
    "DisplayNameResult": "pipelinelib.pipeline.publish",
    "ImportResult": "pipelinelib.pipeline.promote",
    "LAST_SUCCESSFUL": "pipelinelib.pipeline.promote",
    "PublishResult": "pipelinelib.pipeline.publish",
    "RolloutOutcome": "pipelinelib.aws.ecs",
    "RolloutProgress": "pipelinelib.aws.ecs",
    "check_artifacts_loadable": "pipelinelib.pipeline.publish",
    "copy_artifact": "pipelinelib.pipeline.promote",
    "diff": "pipelinelib.pipeline.query",
    "failed_outcome": "pipelinelib.pipeline.deploy",
    "fingerprint_lines": "pipelinelib.pipeline.promote",
    "import_artifacts": "pipelinelib.pipeline.promote",
    "import_service_builds": "pipelinelib.pipeline.importdir",
    "imported_services": "pipelinelib.pipeline.importdir",
    "jenkins_display_name": "pipelinelib.pipeline.publish",
    "list_builds": "pipelinelib.pipeline.query",
    "list_choices": "pipelinelib.pipeline.query",
    "list_jenkins_builds": "pipelinelib.pipeline.query",
    "load_env": "pipelinelib.pipeline.importdir",
    "open_jenkins": "pipelinelib.pipeline.jenkinsapi",
    "orchestrate": "pipelinelib.pipeline.deploy",
    "parse_overrides": "pipelinelib.pipeline.promote",
    "publish_artifact": "pipelinelib.pipeline.publish",
    "read_import": "pipelinelib.pipeline.importdir",
    "read_rollout_file": "pipelinelib.pipeline.deploy",
    "record_deployment": "pipelinelib.pipeline.promote",
    "resolve_image_digest": "pipelinelib.pipeline.publish",
    "select_build": "pipelinelib.pipeline.promote",
    "service_builds": "pipelinelib.pipeline.importdir",
    "services_from_env": "pipelinelib.pipeline.importdir",
    "set_display_name": "pipelinelib.pipeline.publish",
    "shell_variables": "pipelinelib.pipeline.importdir",
    "status": "pipelinelib.pipeline.query",
    "verify_imported_images": "pipelinelib.pipeline.deploy",
    "wait_rollout": "pipelinelib.pipeline.deploy",
}

__all__ = [
    "LAST_SUCCESSFUL",
    "DeploymentResult",
    "DisplayNameResult",
    "ImportResult",
    "PublishResult",
    "RolloutOutcome",
    "RolloutProgress",
    "check_artifacts_loadable",
    "copy_artifact",
    "diff",
    "failed_outcome",
    "fingerprint_lines",
    "import_artifacts",
    "import_service_builds",
    "imported_services",
    "jenkins_display_name",
    "list_builds",
    "list_choices",
    "list_jenkins_builds",
    "load_env",
    "open_jenkins",
    "orchestrate",
    "parse_overrides",
    "publish_artifact",
    "read_import",
    "read_rollout_file",
    "record_deployment",
    "resolve_image_digest",
    "select_build",
    "service_builds",
    "services_from_env",
    "set_display_name",
    "shell_variables",
    "status",
    "verify_imported_images",
    "wait_rollout",
]


def __getattr__(name: str) -> Any:
    """Load a verb on first use (PEP 562)."""
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'pipelinelib.pipeline' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from pipelinelib.aws.ecs import RolloutOutcome, RolloutProgress
    from pipelinelib.pipeline.deploy import (
        failed_outcome,
        orchestrate,
        read_rollout_file,
        verify_imported_images,
        wait_rollout,
    )
    from pipelinelib.pipeline.importdir import (
        import_service_builds,
        imported_services,
        load_env,
        read_import,
        service_builds,
        services_from_env,
        shell_variables,
    )
    from pipelinelib.pipeline.jenkinsapi import open_jenkins
    from pipelinelib.pipeline.promote import (
        LAST_SUCCESSFUL,
        DeploymentResult,
        ImportResult,
        copy_artifact,
        fingerprint_lines,
        import_artifacts,
        parse_overrides,
        record_deployment,
        select_build,
    )
    from pipelinelib.pipeline.publish import (
        DisplayNameResult,
        PublishResult,
        check_artifacts_loadable,
        jenkins_display_name,
        publish_artifact,
        resolve_image_digest,
        set_display_name,
    )
    from pipelinelib.pipeline.query import (
        diff,
        list_builds,
        list_choices,
        list_jenkins_builds,
        status,
    )
