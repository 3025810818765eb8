"""The verbs: what a build or deploy job does, one module per family, independent of the CLI.

Every command and every HTTP route goes through these; each takes plain values (and a store),
returns models and prints nothing.

* :mod:`.importdir` - THE reader and writer of an import directory (manifest.json is the truth)
* :mod:`.publish` - publish-artifact, display names
* :mod:`.promote` - select a build, import it, record a deployment
* :mod:`.deploy` - verify images, orchestrate, wait for the rollout and its outcome file
* :mod:`.query` - list builds, choices, status, diff, history
"""

from __future__ import annotations

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
from pipelinelib.pipeline.query import diff, list_builds, list_choices, list_jenkins_builds, status

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
