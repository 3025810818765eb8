"""pipelinelib: promote one set of container images through environments on demand.

The public face is :data:`__all__`: the frozen models (:mod:`pipelinelib.model`), the one error
hierarchy (:mod:`pipelinelib.errors`, root :class:`PipelinelibError`; each class has the CLI's
``exit_code`` and the service's ``http_status``), :func:`open_store` and the verbs of
:mod:`pipelinelib.pipeline` (each documents its arguments' shapes and units and the errors it
raises). Names are loaded on first use, so ``import pipelinelib`` stays as cheap as the CLI's
start-up needs (tests/unit/test_startup.py).

>>> import pipelinelib
>>> store = pipelinelib.open_store(db="sqlite:///pipelinelib.db")      # doctest: +SKIP
>>> pipelinelib.select_build(store, "service1-build", "lastSuccessful")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_MODELS = ("Choice", "DeploymentInfo", "Manifest", "ServiceBuild", "SourceRef")
_ERRORS = (
    "PipelinelibError",
    "InvalidInputError",
    "InvalidNameError",
    "ArtifactFormatError",
    "ImportMismatchError",
    "ConfirmationRequiredError",
    "DeploymentRefusedError",
    "PayloadTooLargeError",
    "NotFoundError",
    "ConflictError",
    "AuthenticationError",
    "PermissionDeniedError",
    "GitError",
    "FileAccessError",
    "StoreUnavailableError",
    "RemoteServiceError",
    "JenkinsError",
    "UnsafeArtifactPathError",
    "AwsError",
    "VerificationError",
    "RolloutError",
    "TerraformError",
)
_STORE = ("ManifestStore", "open_store")
_VERBS = (
    # publish
    "publish_artifact",
    "set_display_name",
    # promote
    "select_build",
    "parse_overrides",
    "import_artifacts",
    "record_deployment",
    "copy_artifact",
    # deploy
    "verify_imported_images",
    "orchestrate_stack",
    "wait_rollout",
    "read_rollout_file",
    # the import directory
    "read_import_dir",
    # query
    "list_builds",
    "list_choices",
    "list_jenkins_builds",
    "status",
    "diff",
)

_WHERE: dict[str, tuple[str, str]] = {
    **{name: ("pipelinelib.model", name) for name in _MODELS},
    **{name: ("pipelinelib.errors", name) for name in _ERRORS},
    **{name: ("pipelinelib.store", name) for name in _STORE},
    **{name: ("pipelinelib.pipeline", name) for name in _VERBS},
    # Named apart from their modules: `from pipelinelib import orchestrate` is the module.
    "read_import_dir": ("pipelinelib.pipeline.importdir", "read"),
    "orchestrate_stack": ("pipelinelib.pipeline", "orchestrate"),
}

__all__ = [
    "ArtifactFormatError",
    "AuthenticationError",
    "AwsError",
    "Choice",
    "ConfirmationRequiredError",
    "ConflictError",
    "DeploymentInfo",
    "DeploymentRefusedError",
    "FileAccessError",
    "GitError",
    "ImportMismatchError",
    "InvalidInputError",
    "InvalidNameError",
    "JenkinsError",
    "Manifest",
    "ManifestStore",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PipelinelibError",
    "RemoteServiceError",
    "RolloutError",
    "ServiceBuild",
    "SourceRef",
    "StoreUnavailableError",
    "TerraformError",
    "UnsafeArtifactPathError",
    "VerificationError",
    "__version__",
    "copy_artifact",
    "diff",
    "import_artifacts",
    "list_builds",
    "list_choices",
    "list_jenkins_builds",
    "open_store",
    "orchestrate_stack",
    "parse_overrides",
    "publish_artifact",
    "read_import_dir",
    "read_rollout_file",
    "record_deployment",
    "select_build",
    "set_display_name",
    "status",
    "verify_imported_images",
    "wait_rollout",
]


def __getattr__(name: str) -> Any:
    """Load a public name on first use (PEP 562)."""
    try:
        module, attribute = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'pipelinelib' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from pipelinelib.errors import (
        ArtifactFormatError,
        AuthenticationError,
        AwsError,
        ConfirmationRequiredError,
        ConflictError,
        DeploymentRefusedError,
        FileAccessError,
        GitError,
        ImportMismatchError,
        InvalidInputError,
        InvalidNameError,
        NotFoundError,
        PayloadTooLargeError,
        PermissionDeniedError,
        PipelinelibError,
        RemoteServiceError,
        RolloutError,
        StoreUnavailableError,
        TerraformError,
        UnsafeArtifactPathError,
        VerificationError,
    )
    from pipelinelib.model import Choice, DeploymentInfo, Manifest, ServiceBuild, SourceRef
    from pipelinelib.pipeline import (
        copy_artifact,
        diff,
        import_artifacts,
        list_builds,
        list_choices,
        list_jenkins_builds,
        parse_overrides,
        publish_artifact,
        read_rollout_file,
        record_deployment,
        select_build,
        set_display_name,
        status,
        verify_imported_images,
        wait_rollout,
    )
    from pipelinelib.pipeline import orchestrate as orchestrate_stack
    from pipelinelib.pipeline.importdir import read as read_import_dir
    from pipelinelib.store import ManifestStore, open_store
