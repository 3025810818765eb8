"""The one exception hierarchy of pipelinelib.

Every error a user can cause or meet derives from :class:`PipelinelibError`. Each class carries the
exit code the CLI uses and the HTTP status the service answers with, so both edges map errors the
same way and neither needs a table of its own. Errors of the libraries underneath (subprocess,
requests, SQLAlchemy, botocore) are translated where they are raised, with ``raise ... from exc``.

Exit codes are part of the public interface (docs/cli.md lists them):

====  ==========================================================
  1   any other pipelinelib error
  2   invalid input or usage (bad name, bad number, bad file, missing confirmation)
  3   something named does not exist (job, build, environment, stack)
  4   conflict (the same job #number recorded with different content)
  5   authentication or permission refused
  6   git could not answer (not a repository, no commits)
  7   a file or directory could not be read or written
  8   the store (database or manifest service) is unavailable
  9   a remote system (Jenkins, AWS) failed or answered unexpectedly
 10   verification failed (image missing in ECR, digest mismatch)
 11   an ECS rollout failed, rolled back or timed out
====  ==========================================================

Terraform's own exit code passes through unchanged (:class:`TerraformError`).
"""

from __future__ import annotations

from typing import Any, ClassVar


class PipelinelibError(Exception):
    """Root of every error pipelinelib raises on purpose."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return self.message


class InvalidInputError(PipelinelibError):
    """Input from a person or another system does not meet the contract."""

    exit_code = 2
    http_status = 400


class InvalidNameError(InvalidInputError):
    """A service, job or environment name is not acceptable."""


class ArtifactFormatError(InvalidInputError):
    """An env.groovy or manifest file cannot be read safely."""


class ImportMismatchError(ArtifactFormatError):
    """An import directory's ``*.env.groovy`` files disagree with its ``manifest.json``."""


class ConfirmationRequiredError(InvalidInputError):
    """A dangerous action (applying a live stack) needs an explicit confirmation flag."""


class DeploymentRefusedError(InvalidInputError):
    """A deployment does not match what its source build (or the service builds) recorded."""

    http_status = 422


class PromotionRefusedError(DeploymentRefusedError):
    """A deployment breaks a promotion rule of the environments file: out of order, inside a
    freeze window, or without the approvals a protected environment needs (docs/promotion.md)."""


class UnknownEnvironmentError(InvalidNameError):
    """An environment name the environments file does not declare."""


class PayloadTooLargeError(InvalidInputError):
    http_status = 413


class NotFoundError(PipelinelibError):
    exit_code = 3
    http_status = 404


class ConflictError(PipelinelibError):
    exit_code = 4
    http_status = 409


class LockedError(ConflictError):
    """The environment is locked by someone else (the message says who, why and until when)."""


class LockExpiredError(ConflictError):
    """A lock the caller claims to hold has expired (or was taken over): nothing is recorded."""


class AuthenticationError(PipelinelibError):
    exit_code = 5
    http_status = 401


class PermissionDeniedError(PipelinelibError):
    exit_code = 5
    http_status = 403


class GitError(PipelinelibError):
    exit_code = 6
    http_status = 500


class FileAccessError(PipelinelibError):
    """A file or directory could not be read or written (permissions, missing, not a dir)."""

    exit_code = 7
    http_status = 500


class StoreUnavailableError(PipelinelibError):
    exit_code = 8
    http_status = 503


class RemoteServiceError(PipelinelibError):
    """Jenkins, AWS or the manifest service failed or answered something we cannot use."""

    exit_code = 9
    http_status = 502


class JenkinsError(RemoteServiceError):
    pass


class DeadlineExceededError(RemoteServiceError):
    """A network operation did not finish within its overall deadline (``--timeout``)."""


class OperationCancelledError(PipelinelibError):
    """Work was stopped on request (SIGTERM, an abort); what it had started was cleaned up."""

    exit_code = 143


class UnsafeArtifactPathError(JenkinsError):
    """Jenkins listed an artifact path that would escape the target directory (``../x``, ``/etc/x``)."""


class AwsError(RemoteServiceError):
    pass


class VerificationError(PipelinelibError):
    exit_code = 10
    http_status = 409


class RolloutError(PipelinelibError):
    exit_code = 11
    http_status = 502


class TerraformError(PipelinelibError):
    """Terraform exited non-zero; its exit code becomes ours."""

    http_status = 502

    def __init__(self, message: str, returncode: int, **context: Any) -> None:
        super().__init__(message, returncode=returncode, **context)
        self.returncode = returncode

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return self.returncode if 0 < self.returncode < 256 else 1


class MissingExtraError(PipelinelibError):
    """A command needs an optional part of pipelinelib that is not installed (``pip install
    'pipelinelib[EXTRA]'``); raised by :func:`pipelinelib._extras.require`."""

    exit_code = 2
    http_status = 500

    def __init__(self, message: str, extra: str, **context: Any) -> None:
        super().__init__(message, extra=extra, **context)
        self.extra = extra


class PartlyRefusedError(PipelinelibError):
    """A batch (``backfill``) refused some items and did the others; the report names each."""

    exit_code = 1
    http_status = 422
