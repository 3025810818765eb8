"""AWS sessions: clients with timeouts and retries, and the one translation of botocore errors.

boto3 is imported inside :class:`Aws` only (start-up is part of the interface). Every botocore
error is translated in one place, :func:`aws_errors`, into the pipelinelib hierarchy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pipelinelib.errors import (
    AuthenticationError,
    AwsError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PipelinelibError,
)
from pipelinelib.model import clean_text

# --- clients ---------------------------------------------------------------------------------

DEFAULT_MAX_ATTEMPTS = 5  # in all, the first try included; standard mode backs off with jitter
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0


class Aws:
    """Lazily created boto3 clients, one per (service, region), sharing one session and Config.

    ``region`` is the default region (``--region``, else ``AWS_REGION``/``AWS_DEFAULT_REGION`` as
    :class:`pipelinelib.config.Settings` resolved it, else whatever the boto3 profile says). An ECR
    image URI names its own region, and that region is used for its checks. Clients are safe to
    share between threads; the session is created once, before any thread starts.
    """

    def __init__(
        self,
        region: str | None = None,
        *,
        session: Any = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        self.region = region
        self._session = session
        self._max_attempts = max_attempts
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._config: Any = None

    @property
    def session(self) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.session.Session()
        return self._session

    @property
    def config(self) -> Any:
        if self._config is None:
            from botocore.config import Config

            from pipelinelib import __version__

            self._config = Config(
                retries={"mode": "standard", "total_max_attempts": self._max_attempts},
                connect_timeout=self._connect_timeout,
                read_timeout=self._read_timeout,
                user_agent_extra=f"pipelinelib/{__version__}",
            )
        return self._config

    def client(self, name: str, region: str | None = None) -> Any:
        key = (name, region or self.region)
        client = self._clients.get(key)
        if client is None:
            with aws_errors(f"create the {name} client"):
                client = self.session.client(name, region_name=key[1], config=self.config)
            self._clients[key] = client
        return client

    def ecr(self, region: str | None = None) -> Any:
        return self.client("ecr", region)

    def ecs(self, region: str | None = None) -> Any:
        return self.client("ecs", region)


# --- error translation: the one place botocore errors become pipelinelib errors ---------------

_THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
}
# botocore's standard retry mode treats these as transient too (botocore/retries/standard.py)
_TRANSIENT = {
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "InternalError",
    "InternalFailure",
    "ServerException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
}
_ACCESS_DENIED = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"}
_BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
}
_NOT_FOUND = {
    "RepositoryNotFoundException": "repository",
    "ImageNotFoundException": "image",
    "RegistryNotFoundException": "registry",
    "ClusterNotFoundException": "cluster",
    "ServiceNotFoundException": "service",
    "ServiceNotActiveException": "service",
}


def translate_error(exc: BaseException, action: str) -> PipelinelibError | None:
    """The pipelinelib error for a botocore error met while doing ``action``; None otherwise."""
    from botocore import exceptions as bx

    if isinstance(exc, bx.NoRegionError):
        return InvalidInputError(
            f"no AWS region to {action}: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)"
        )
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return AuthenticationError(
            f"no AWS credentials to {action}: configure an instance/task role, AWS_PROFILE, or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = clean_text(str(error.get("Message", "") or "")).strip()
        operation = getattr(exc, "operation_name", None) or "?"
        detail = f" ({message})" if message else ""
        if code in _THROTTLING:
            attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
            return AwsError(
                f"AWS is still throttling {operation} after {int(attempts) + 1} attempts with "
                f"backoff while trying to {action}; retry later or lower the request rate",
                code=code,
                transient=True,
            )
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _TRANSIENT or (isinstance(status, int) and status >= 500):
            return AwsError(
                f"AWS {operation} failed while trying to {action}: {code}{detail}",
                code=code,
                transient=True,
            )
        if code in _ACCESS_DENIED:
            return PermissionDeniedError(
                f"access denied: the AWS identity may not call {operation} to {action}{detail}; "
                "see docs/ecs-safety.md for the IAM policy",
                code=code,
                operation=operation,
            )
        if code in _BAD_CREDENTIALS:
            return AuthenticationError(
                f"AWS refused the credentials to {action}: {code}{detail}", code=code
            )
        if code in _NOT_FOUND:
            return NotFoundError(
                f"{_NOT_FOUND[code]} not found while trying to {action}{detail}", code=code
            )
        return AwsError(f"AWS {operation} failed while trying to {action}: {code}{detail}")
    if isinstance(
        exc,
        bx.EndpointConnectionError
        | bx.ConnectTimeoutError
        | bx.ReadTimeoutError
        | bx.ConnectionClosedError,
    ):
        return AwsError(f"cannot reach AWS to {action}: {exc}", transient=True)
    if isinstance(exc, bx.BotoCoreError):
        return AwsError(f"AWS error while trying to {action}: {exc}")
    return None


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Translate botocore errors raised inside the block; ``action`` completes "while trying to"."""
    try:
        yield
    except PipelinelibError:
        raise
    except Exception as exc:
        translated = translate_error(exc, action)
        if translated is None:
            raise
        raise translated from exc


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a ClientError (used to handle expected answers such as 'not found')."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None
