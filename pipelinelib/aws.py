"""Amazon ECR and ECS: are the images of a manifest really there, and did ECS really roll out?

Two failures hurt ECS users most: deploying a tag that was never pushed (or was pushed again with
other content), and a deploy step that reports success while ECS's deployment circuit breaker has
rolled the service back. :func:`verify_images` guards the first before ``terraform apply``;
:func:`wait_rollout` the second after it.

boto3 is imported inside :class:`Aws` only (start-up is part of the interface). Every botocore
error is translated in one place, :func:`aws_errors`, into the pipelinelib hierarchy. Functions
return the frozen models below, never response dicts. Waiting reports progress through a callback
and takes an injectable clock and sleep, so a test follows a fifteen-minute rollout in
milliseconds.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import attrs

from pipelinelib.errors import (
    AuthenticationError,
    AwsError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PipelinelibError,
    RolloutError,
    VerificationError,
)
from pipelinelib.model import DIGEST_RE, Manifest, ServiceBuild, clean_text

log = logging.getLogger(__name__)

# --- clients ---------------------------------------------------------------------------------

DEFAULT_MAX_ATTEMPTS = 5  # in all, the first try included; standard mode backs off with jitter
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
DESCRIBE_IMAGES_BATCH = 100  # DescribeImages accepts at most 100 imageIds
DESCRIBE_SERVICES_BATCH = 10  # DescribeServices accepts at most 10 services
TRANSIENT_BACKOFF_CAP = 60.0  # seconds between polls that failed transiently, at most


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


# --- image references -------------------------------------------------------------------------

_ECR_HOST_RE = re.compile(
    r"(?P<registry>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-[0-9]+)"
    r"\.amazonaws\.com(?:\.cn)?"
)


@attrs.frozen
class ImageRef:
    """An image URI taken apart: ``ACCOUNT.dkr.ecr.REGION.amazonaws.com/repo/path:tag[@digest]``."""

    uri: str
    host: str | None
    repository: str
    tag: str | None
    digest: str | None
    registry_id: str | None = None
    region: str | None = None

    @property
    def is_ecr(self) -> bool:
        return self.registry_id is not None


def parse_image(uri: str) -> ImageRef:
    """Split an image URI the way Docker does: the host is the first part when it looks like one."""
    rest, at, digest = uri.partition("@")
    if at and not DIGEST_RE.fullmatch(digest):
        raise InvalidInputError(f"invalid digest in image {uri!r}")
    host: str | None = None
    first, slash, path = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host = first
    else:
        path = rest
    name, colon, tag = path.rpartition(":")
    if not colon or "/" in tag:
        name, tag = path, ""
    if not name or name.startswith("/") or name.endswith("/") or "//" in name:
        raise InvalidInputError(f"invalid image {uri!r}: no repository name")
    match = _ECR_HOST_RE.fullmatch(host) if host else None
    return ImageRef(
        uri=uri,
        host=host,
        repository=name,
        tag=tag or None,
        digest=digest or None,
        registry_id=match["registry"] if match else None,
        region=match["region"] if match else None,
    )


# --- verify-images ----------------------------------------------------------------------------

OK = "ok"
MISSING = "missing"  # the tag (or the digest) is not in the repository
MUTATED = "mutated"  # the tag exists but points at another digest than the manifest recorded
CONFLICT = "conflict"  # the manifest's digest and the digest in its image URI disagree
NOT_VERIFIABLE = "not-verifiable"  # no image recorded, or not an ECR image
_PROBLEMS = (MISSING, MUTATED, CONFLICT)


@attrs.frozen
class ImageCheck:
    """What ECR said about one service's image."""

    service: str
    image: str | None
    status: str
    detail: str
    expected_digest: str | None = None
    found_digest: str | None = None

    @property
    def is_ok(self) -> bool:
        return self.status == OK

    @property
    def is_problem(self) -> bool:
        return self.status in _PROBLEMS

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "image": self.image,
            "status": self.status,
            "detail": self.detail,
            "expected_digest": self.expected_digest,
            "found_digest": self.found_digest,
        }


@attrs.frozen
class ImageVerification:
    """Every service's :class:`ImageCheck`; ``strict`` makes unverifiable images problems too."""

    checks: tuple[ImageCheck, ...]
    strict: bool = False

    @property
    def problems(self) -> tuple[ImageCheck, ...]:
        return tuple(
            c for c in self.checks if c.is_problem or (self.strict and c.status == NOT_VERIFIABLE)
        )

    @property
    def warnings(self) -> tuple[ImageCheck, ...]:
        return tuple(c for c in self.checks if c.status == NOT_VERIFIABLE and not self.strict)

    @property
    def is_ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.is_ok,
            "strict": self.strict,
            "services": {c.service: c.to_dict() for c in self.checks},
        }

    def raise_for_problems(self) -> None:
        """One :class:`VerificationError` naming every service with a problem, all at once."""
        problems = self.problems
        if not problems:
            return
        names = ", ".join(c.service for c in problems)
        lines = "; ".join(f"{c.service}: {c.detail}" for c in problems)
        raise VerificationError(
            f"{len(problems)} of {len(self.checks)} images failed verification ({names}): {lines}",
            services=[c.service for c in problems],
        )


@attrs.frozen
class _Wanted:
    service: ServiceBuild
    ref: ImageRef
    expected_digest: str | None


def _plan(service: ServiceBuild) -> ImageCheck | _Wanted:
    if service.image is None:
        return ImageCheck(service.name, None, NOT_VERIFIABLE, "no image recorded in the manifest")
    ref = parse_image(service.image)
    if not ref.is_ecr:
        return ImageCheck(
            service.name,
            service.image,
            NOT_VERIFIABLE,
            f"{service.image} is not in Amazon ECR; its content cannot be verified",
            expected_digest=service.digest,
        )
    if ref.digest and service.digest and ref.digest != service.digest:
        return ImageCheck(
            service.name,
            service.image,
            CONFLICT,
            f"the manifest records digest {service.digest} but its image URI says {ref.digest}",
            expected_digest=service.digest,
        )
    return _Wanted(service, ref, service.digest or ref.digest)


def _image_id(ref: ImageRef) -> dict[str, str]:
    # A tag is what ECS pulls (terraform deploys REPO:TAG), so a tag is checked when there is one;
    # the recorded digest is then compared with the one the tag points at.
    if ref.tag:
        return {"imageTag": ref.tag}
    assert ref.digest is not None  # parse_image: no tag means REPO@DIGEST or bare REPO
    return {"imageDigest": ref.digest}


_Key = tuple[str, str]  # ("imageTag" | "imageDigest", value)


def _describe(
    aws: Aws, registry_id: str, region: str, repository: str, ids: Sequence[dict[str, str]]
) -> dict[_Key, str] | None:
    """``{(kind, value): digest}`` for the ids found; None when the repository does not exist.

    DescribeImages answers ImageNotFoundException for the whole call when any id is missing, so a
    batch that meets one falls back to asking one id at a time: the common case (everything is
    there) costs one call per 100 images of a repository, the failing case names every missing one.
    """
    client = aws.ecr(region)
    action = f"describe images in ECR repository {repository} ({registry_id}, {region})"
    found: dict[_Key, str] = {}

    def call(chunk: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
        response = client.describe_images(
            registryId=registry_id, repositoryName=repository, imageIds=list(chunk)
        )
        details: list[dict[str, Any]] = response.get("imageDetails", [])
        return details

    def record(chunk: Sequence[dict[str, str]], details: list[dict[str, Any]]) -> None:
        wanted_tags = {i["imageTag"] for i in chunk if "imageTag" in i}
        for detail in details:
            digest = str(detail["imageDigest"])
            found[("imageDigest", digest)] = digest
            for tag in detail.get("imageTags", []) or []:
                if tag in wanted_tags:
                    found[("imageTag", tag)] = digest

    for start in range(0, len(ids), DESCRIBE_IMAGES_BATCH):
        chunk = ids[start : start + DESCRIBE_IMAGES_BATCH]
        try:
            with aws_errors(action):
                record(chunk, call(chunk))
        except NotFoundError as exc:
            code = exc.context.get("code")
            if code == "RepositoryNotFoundException":
                return None
            if code != "ImageNotFoundException":
                raise
            for one in chunk:
                try:
                    with aws_errors(action):
                        record([one], call([one]))
                except NotFoundError as inner:
                    if inner.context.get("code") == "RepositoryNotFoundException":
                        return None
                    if inner.context.get("code") != "ImageNotFoundException":
                        raise
    return found


def _judge(wanted: _Wanted, found: dict[_Key, str] | None) -> ImageCheck:
    service, ref, expected = wanted.service.name, wanted.ref, wanted.expected_digest
    image = wanted.service.image
    if found is None:
        return ImageCheck(
            service,
            image,
            MISSING,
            f"repository {ref.repository} does not exist in registry {ref.registry_id} ({ref.region})",
            expected_digest=expected,
        )
    kind, value = next(iter(_image_id(ref).items()))
    digest = found.get((kind, value))
    what = f"tag {ref.tag}" if ref.tag else f"digest {ref.digest}"
    if digest is None:
        extra = ""
        if ref.tag and expected and ("imageDigest", expected) in found:
            extra = f" (the recorded digest {expected} still exists: the tag was deleted or moved)"
        return ImageCheck(
            service,
            image,
            MISSING,
            f"{what} not found in ECR repository {ref.repository}{extra}",
            expected_digest=expected,
        )
    if expected and digest != expected:
        return ImageCheck(
            service,
            image,
            MUTATED,
            f"tag {ref.tag} now points at {digest}, but the manifest recorded {expected} "
            "(the tag was pushed again; the manifest is the truth)",
            expected_digest=expected,
            found_digest=digest,
        )
    note = "digest matches" if expected else "tag exists (no digest recorded to compare)"
    return ImageCheck(service, image, OK, note, expected_digest=expected, found_digest=digest)


def verify_images(
    manifest: Manifest | Iterable[ServiceBuild],
    *,
    aws: Aws | None = None,
    strict: bool = False,
    max_workers: int = 8,
) -> ImageVerification:
    """Check every service's image in ECR; collect every problem instead of stopping at the first.

    Images are grouped by (registry, region, repository) and asked for 100 at a time; repositories
    are asked concurrently. Images outside ECR (docker.io, ghcr.io) and services without an image
    are ``not-verifiable``: a warning, or a problem when ``strict``. Errors that are not about one
    image (no credentials, access denied, throttled, unreachable) raise at once, translated.
    Call :meth:`ImageVerification.raise_for_problems` to turn problems into an exit code.
    """
    aws = aws or Aws()
    services = manifest.services.values() if isinstance(manifest, Manifest) else manifest
    planned = [_plan(s) for s in services]
    groups: dict[tuple[str, str, str], list[_Wanted]] = {}
    for item in planned:
        if isinstance(item, _Wanted):
            assert item.ref.registry_id is not None and item.ref.region is not None
            key = (item.ref.registry_id, item.ref.region, item.ref.repository)
            groups.setdefault(key, []).append(item)

    def check_group(key: tuple[str, str, str]) -> dict[_Key, str] | None:
        registry_id, region, repository = key
        ids: list[dict[str, str]] = []
        for wanted in groups[key]:
            image_id = _image_id(wanted.ref)
            if image_id not in ids:
                ids.append(image_id)
        found = _describe(aws, registry_id, region, repository, ids)
        if found is None:
            return None
        # A missing tag whose recorded digest is still there: say so (the tag was moved/deleted).
        again = [
            {"imageDigest": w.expected_digest}
            for w in groups[key]
            if w.ref.tag and w.expected_digest and ("imageTag", w.ref.tag) not in found
        ]
        if again:
            found.update(_describe(aws, registry_id, region, repository, again) or {})
        return found

    if groups:
        _ = aws.session  # create the session before threads share it
        for region in {key[1] for key in groups}:
            aws.ecr(region)
    keys = list(groups)
    if len(keys) > 1 and max_workers > 1:
        with ThreadPoolExecutor(max_workers=min(max_workers, len(keys))) as pool:
            answers = dict(zip(keys, pool.map(check_group, keys), strict=True))
    else:
        answers = {key: check_group(key) for key in keys}
    checks = []
    for item in planned:
        if isinstance(item, ImageCheck):
            checks.append(item)
        else:
            assert item.ref.registry_id is not None and item.ref.region is not None
            key = (item.ref.registry_id, item.ref.region, item.ref.repository)
            checks.append(_judge(item, answers[key]))
    return ImageVerification(tuple(checks), strict=strict)


def image_digest(image: str, *, aws: Aws | None = None) -> str | None:
    """The digest ECR holds for ``image`` now; None when the image is not in ECR.

    A digest in the URI itself is returned as it is once ECR confirms it. Raises NotFoundError
    when the tag or repository does not exist, and the translated error when ECR cannot answer.
    """
    ref = parse_image(image)
    if not ref.is_ecr:
        return None
    assert ref.registry_id is not None and ref.region is not None
    found = _describe(aws or Aws(), ref.registry_id, ref.region, ref.repository, [_image_id(ref)])
    if found is None:
        raise NotFoundError(f"ECR repository {ref.repository} does not exist for image {image}")
    kind, value = next(iter(_image_id(ref).items()))
    digest = found.get((kind, value))
    if digest is None:
        raise NotFoundError(f"image {image} is not in ECR")
    return digest


# --- wait-rollout -----------------------------------------------------------------------------

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
ROLLED_BACK = "ROLLED_BACK"
TIMED_OUT = "TIMED_OUT"
UNCHANGED = "UNCHANGED"
_SUCCESS = (COMPLETED, UNCHANGED)
LAST_EVENTS = 5


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@attrs.frozen
class RolloutEvent:
    """One line of a service's ECS event log."""

    id: str
    created_at: datetime | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created_at": _iso(self.created_at), "message": self.message}

    def __str__(self) -> str:
        when = self.created_at.strftime("%H:%M:%S") if self.created_at else "--:--:--"
        return f"{when} {self.message}"


@attrs.frozen
class RolloutState:
    """One service as one DescribeServices poll saw it: its PRIMARY deployment's progress."""

    service: str
    status: str  # IN_PROGRESS, COMPLETED, FAILED, ROLLED_BACK, TIMED_OUT, UNCHANGED
    deployment_id: str | None
    task_definition: str | None
    running: int = 0
    desired: int = 0
    pending: int = 0
    failed_tasks: int = 0
    reason: str | None = None

    @property
    def is_done(self) -> bool:
        return self.status != IN_PROGRESS

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "status": self.status,
            "deployment_id": self.deployment_id,
            "task_definition": self.task_definition,
            "running": self.running,
            "desired": self.desired,
            "pending": self.pending,
            "failed_tasks": self.failed_tasks,
            "reason": self.reason,
        }


@attrs.frozen
class RolloutProgress:
    """What the ``on_progress`` callback receives after every poll of a followed service."""

    state: RolloutState
    new_events: tuple[RolloutEvent, ...]
    elapsed: float


@attrs.frozen
class ServiceRollout:
    """How one service's rollout ended."""

    state: RolloutState
    deployed_task_definition: str | None
    last_events: tuple[RolloutEvent, ...]
    elapsed: float

    @property
    def service(self) -> str:
        return self.state.service

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def is_successful(self) -> bool:
        return self.state.status in _SUCCESS

    def describe(self) -> str:
        state = self.state
        reason = f": {state.reason}" if state.reason else ""
        return f"{state.service} {state.status}{reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.state.to_dict(),
            "deployed_task_definition": self.deployed_task_definition,
            "elapsed_seconds": round(self.elapsed, 3),
            "last_events": [e.to_dict() for e in self.last_events],
        }


@attrs.frozen
class RolloutOutcome:
    """Every service's result; what ``record-deployment`` stores next to the manifest."""

    cluster: str
    services: tuple[ServiceRollout, ...]
    elapsed: float

    @property
    def is_successful(self) -> bool:
        return all(s.is_successful for s in self.services)

    @property
    def failures(self) -> tuple[ServiceRollout, ...]:
        return tuple(s for s in self.services if not s.is_successful)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "successful": self.is_successful,
            "elapsed_seconds": round(self.elapsed, 3),
            "services": {s.service: s.to_dict() for s in self.services},
        }

    @classmethod
    def from_dict(cls, data: Any) -> RolloutOutcome:
        """Read back what :meth:`to_dict` wrote (``wait-rollout --json``), validating every field.

        ``record-deployment`` runs in another process than ``wait-rollout``: this is how it reads
        the outcome file the deploy job saved.
        """
        try:
            services = data["services"]
            if not isinstance(services, Mapping):
                raise TypeError("services must be an object")
            results = []
            for name, item in services.items():
                state = RolloutState(
                    service=_str(item["service"]),
                    status=_status(item["status"]),
                    deployment_id=_opt_str(item["deployment_id"]),
                    task_definition=_opt_str(item["task_definition"]),
                    running=_count(item["running"]),
                    desired=_count(item["desired"]),
                    pending=_count(item["pending"]),
                    failed_tasks=_count(item["failed_tasks"]),
                    reason=_opt_str(item["reason"]),
                )
                if state.service != name:
                    raise ValueError(f"services.{name} names service {state.service!r}")
                events = tuple(
                    RolloutEvent(
                        id=_str(e["id"]),
                        created_at=(
                            datetime.fromisoformat(_str(e["created_at"]))
                            if e["created_at"] is not None
                            else None
                        ),
                        message=_str(e["message"]),
                    )
                    for e in item["last_events"]
                )
                results.append(
                    ServiceRollout(
                        state=state,
                        deployed_task_definition=_opt_str(item["deployed_task_definition"]),
                        last_events=events,
                        elapsed=float(item["elapsed_seconds"]),
                    )
                )
            outcome = cls(_str(data["cluster"]), tuple(results), float(data["elapsed_seconds"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInputError(f"not a wait-rollout outcome: {exc!s}") from exc
        if data.get("successful") is not None and data["successful"] != outcome.is_successful:
            raise InvalidInputError("not a wait-rollout outcome: 'successful' contradicts it")
        return outcome

    def raise_for_failure(self) -> None:
        failures = self.failures
        if not failures:
            return
        parts = []
        for failure in failures:
            events = " | ".join(e.message for e in failure.last_events[:3])
            parts.append(failure.describe() + (f" (last events: {events})" if events else ""))
        raise RolloutError(
            f"rollout on cluster {self.cluster} did not complete: " + "; ".join(parts),
            outcome=self,
        )


_STATUSES = (IN_PROGRESS, COMPLETED, FAILED, ROLLED_BACK, TIMED_OUT, UNCHANGED)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, not {type(value).__name__}")
    return clean_text(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError(f"expected a count, not {value!r}")
    return value


def _status(value: Any) -> str:
    if value not in _STATUSES:
        raise ValueError(f"unknown rollout status {value!r}")
    return str(value)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int) else 0


def _text(value: Any) -> str | None:
    # Event messages and reasons are shown in a terminal: control characters are dropped.
    if value is None:
        return None
    return "".join(c for c in clean_text(str(value)) if c.isprintable() or c == " ")


def _events(service: Mapping[str, Any]) -> list[RolloutEvent]:
    """Newest first, as ECS returns them."""
    return [
        RolloutEvent(str(e.get("id", "")), e.get("createdAt"), _text(e.get("message")) or "")
        for e in service.get("events", []) or []
    ]


def service_name(name_or_arn: str) -> str:
    """``arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME`` (or the old form) -> ``NAME``."""
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


@attrs.define
class _Follow:
    """Mutable bookkeeping of one followed service (private to the poll loop)."""

    name: str
    deployment_id: str | None = None
    task_definition: str | None = None
    seen_events: set[str] = attrs.Factory(set)
    latest: list[RolloutEvent] = attrs.Factory(list)  # newest first
    state: RolloutState | None = None  # set when the rollout ended
    last: RolloutState | None = None  # as the latest poll saw it
    finished_at: float | None = None
    seen: bool = False  # a poll has shown the followed deployment


def same_task_definition(a: str | None, b: str | None) -> bool:
    """ARNs and ``family:revision`` name the same task definition when family and revision agree."""
    if a is None or b is None:
        return a == b
    return a == b or a.rsplit("/", 1)[-1] == b.rsplit("/", 1)[-1]


def _primary(service: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for deployment in service.get("deployments", []) or []:
        if deployment.get("status") == "PRIMARY":
            return deployment  # type: ignore[no-any-return]
    return None


def _state(
    follow: _Follow,
    service: Mapping[str, Any],
    status: str,
    deployment: Mapping[str, Any] | None,
    reason: str | None = None,
) -> RolloutState:
    d = deployment or {}
    return RolloutState(
        service=follow.name,
        status=status,
        deployment_id=d.get("id"),
        task_definition=d.get("taskDefinition") or service.get("taskDefinition"),
        running=_int(d.get("runningCount", service.get("runningCount"))),
        desired=_int(d.get("desiredCount", service.get("desiredCount"))),
        pending=_int(d.get("pendingCount", service.get("pendingCount"))),
        failed_tasks=_int(d.get("failedTasks")),
        reason=reason if reason is not None else _text(d.get("rolloutStateReason")),
    )


def _judge_service(follow: _Follow, service: Mapping[str, Any], first: bool) -> RolloutState:
    deployments = list(service.get("deployments", []) or [])
    primary = _primary(service)
    if primary is None:
        return _state(follow, service, IN_PROGRESS, None, "no PRIMARY deployment yet")
    if first and follow.task_definition is None:
        failed = [d for d in deployments if d is not primary and d.get("rolloutState") == FAILED]
        follow.deployment_id = primary.get("id")
        follow.task_definition = primary.get("taskDefinition")
        if failed:  # the circuit breaker already rolled back before we started watching
            follow.task_definition = failed[0].get("taskDefinition")
            follow.deployment_id = failed[0].get("id")
    if follow.deployment_id is None:
        # an expected task definition was given: follow the deployment that carries it (ECS may
        # show it only at a later poll: DescribeServices is eventually consistent)
        for d in deployments:
            if same_task_definition(d.get("taskDefinition"), follow.task_definition):
                follow.deployment_id = d.get("id")
                break
    ours = next((d for d in deployments if d.get("id") == follow.deployment_id), None)
    if ours is not None:
        follow.seen = True
    current = primary.get("taskDefinition")
    service_td = service.get("taskDefinition")
    if not follow.seen and not same_task_definition(current, follow.task_definition):
        # DescribeServices is eventually consistent: right after UpdateService it may still show
        # only the old deployment. Not seeing ours is no verdict; only evidence is (a FAILED
        # deployment of our task definition, handled above by following it), or the deadline.
        return _state(
            follow,
            service,
            IN_PROGRESS,
            primary,
            f"ECS does not show a deployment of {follow.task_definition} yet "
            f"(the service runs {current})",
        )
    if not same_task_definition(current, follow.task_definition) or (
        service_td is not None and not same_task_definition(service_td, follow.task_definition)
    ):
        why = (ours or {}).get("rolloutStateReason")
        running = current if not same_task_definition(current, follow.task_definition) else None
        reason = (
            f"the service now runs {running or service_td}, not the deployed "
            f"{follow.task_definition}"
        )
        if why:
            reason += f" ({_text(why)})"
        return _state(follow, service, ROLLED_BACK, ours or primary, reason)
    if primary.get("id") != follow.deployment_id:
        follow.deployment_id = primary.get("id")  # a new deployment of the same task definition
    rollout = primary.get("rolloutState")
    if rollout == FAILED:
        return _state(follow, service, FAILED, primary)
    if rollout == COMPLETED:
        return _state(follow, service, COMPLETED, primary)
    steady = _int(primary.get("runningCount")) == _int(primary.get("desiredCount")) and not _int(
        primary.get("pendingCount")
    )
    if rollout is None and len(deployments) == 1 and steady:
        # no rolloutState (no circuit breaker, or an external controller): steady counts will do
        return _state(follow, service, COMPLETED, primary, "running count reached desired")
    return _state(follow, service, IN_PROGRESS, primary)


def _is_rolling_update(service: Mapping[str, Any]) -> bool:
    return bool((service.get("deploymentController") or {}).get("type", "ECS") == "ECS")


def _describe_services(
    aws: Aws, cluster: str, names: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    client = aws.ecs()
    found: dict[str, Mapping[str, Any]] = {}
    missing: list[str] = []
    for start in range(0, len(names), DESCRIBE_SERVICES_BATCH):
        batch = list(names[start : start + DESCRIBE_SERVICES_BATCH])
        with aws_errors(f"describe ECS services {', '.join(batch)} in cluster {cluster}"):
            response = client.describe_services(cluster=cluster, services=batch)
        for service in response.get("services", []):
            found[str(service["serviceName"])] = service
        missing += [service_name(str(f.get("arn", "?"))) for f in response.get("failures", [])]
    inactive = [n for n, s in found.items() if s.get("status") not in (None, "ACTIVE")]
    if missing or inactive:
        gone = sorted(set(missing) | set(inactive))
        raise NotFoundError(
            f"ECS services not found (or not ACTIVE) in cluster {cluster}: {', '.join(gone)}",
            services=gone,
        )
    return found


def list_services(cluster: str, *, aws: Aws | None = None) -> list[str]:
    """Every service name of a cluster (ListServices, paginated)."""
    client = (aws or Aws()).ecs()
    names: list[str] = []
    with aws_errors(f"list the services of ECS cluster {cluster}"):
        for page in client.get_paginator("list_services").paginate(cluster=cluster):
            names += [service_name(arn) for arn in page.get("serviceArns", [])]
    return sorted(names)


def wait_rollout(
    cluster: str,
    services: Sequence[str] = (),
    *,
    timeout: float = 900.0,
    poll_interval: float = 10.0,
    on_progress: Callable[[RolloutProgress], None] | None = None,
    expected_task_definitions: Mapping[str, str] | None = None,
    aws: Aws | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    raise_on_failure: bool = True,
    on_outcome: Callable[[RolloutOutcome], None] | None = None,
) -> RolloutOutcome:
    """Follow each service's PRIMARY deployment until ECS says COMPLETED, FAILED or rolled back.

    Without ``services``, every service of the cluster is looked at and only those with a rollout
    under way are followed (the others are UNCHANGED). The deployment to follow is the PRIMARY one
    at the first poll, or the one carrying ``expected_task_definitions[service]`` when given (use
    it when the apply output tells you the revision: a rollback that finished before this started
    is then caught too). A service whose PRIMARY deployment later carries another task definition
    was rolled back by the circuit breaker. ``on_progress`` gets a :class:`RolloutProgress` per
    followed service per poll (new events included). Raises :class:`RolloutError` (carrying
    ``outcome``) when any service did not complete, unless ``raise_on_failure`` is False.

    A poll that does not show the expected deployment yet (DescribeServices is eventually
    consistent) or that fails transiently (ThrottlingException after botocore's own retries, a
    5xx, a dropped connection) is no verdict: ROLLED_BACK and FAILED need evidence (a FAILED
    deployment, ours replaced after we saw it), and only ``timeout`` ends the wait.
    ``on_outcome`` is called exactly once with the outcome, however the wait ended (an error or
    SIGTERM included: unfinished services are then IN_PROGRESS with the reason), so an outcome
    file is always written.
    """
    if timeout <= 0 or poll_interval <= 0:
        raise InvalidInputError("timeout and poll interval must be positive")
    aws = aws or Aws()
    expected = dict(expected_task_definitions or {})
    names = list(dict.fromkeys(service_name(s) for s in services))
    named = bool(names)
    for name in expected:
        if name not in names:
            names.append(name)
            named = True
    if not names:
        names = list_services(cluster, aws=aws)
    start = clock()
    follows = {name: _Follow(name, task_definition=expected.get(name)) for name in names}
    try:
        _poll_until_done(
            aws, cluster, follows, named, start, timeout, poll_interval, on_progress, clock, sleep
        )
    except BaseException as exc:
        if on_outcome is not None:  # the outcome file is written whatever ended the wait
            on_outcome(_outcome(cluster, follows, start, clock, ended_by=exc))
        raise
    outcome = _outcome(cluster, follows, start, clock)
    if on_outcome is not None:
        on_outcome(outcome)
    if raise_on_failure:
        outcome.raise_for_failure()
    return outcome


def _outcome(
    cluster: str,
    follows: Mapping[str, _Follow],
    start: float,
    clock: Callable[[], float],
    ended_by: BaseException | None = None,
) -> RolloutOutcome:
    """The outcome so far; services still followed when ``ended_by`` struck stay IN_PROGRESS."""
    now = clock()
    results = []
    for follow in follows.values():
        state = follow.state
        if state is None:
            last = follow.last or RolloutState(
                follow.name, IN_PROGRESS, follow.deployment_id, follow.task_definition
            )
            why = f"{type(ended_by).__name__}: {ended_by}" if ended_by is not None else "?"
            state = attrs.evolve(
                last,
                status=IN_PROGRESS,
                reason=f"the wait ended before a verdict ({why.strip(': ')})",
            )
        results.append(
            ServiceRollout(
                state=state,
                deployed_task_definition=follow.task_definition,
                last_events=tuple(follow.latest),
                elapsed=(follow.finished_at if follow.finished_at is not None else now) - start,
            )
        )
    return RolloutOutcome(cluster, tuple(results), now - start)


def _poll_until_done(
    aws: Aws,
    cluster: str,
    follows: dict[str, _Follow],
    named: bool,
    start: float,
    timeout: float,
    poll_interval: float,
    on_progress: Callable[[RolloutProgress], None] | None,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    """Poll until every followed service has a verdict or the deadline passed.

    A poll that fails transiently (throttling, a 5xx, a dropped connection: errors marked
    ``transient`` by :func:`translate_error`) is no verdict: it is logged and retried with backoff
    (doubling from the poll interval, at most 60 s) until the deadline. Only the deadline ends
    the wait; then each service still followed is TIMED_OUT.
    """
    first = True
    failures = 0
    last_error: str | None = None
    while True:
        try:
            described = _describe_services(
                aws, cluster, [n for n, f in follows.items() if not f.state]
            )
        except AwsError as exc:
            if not exc.context.get("transient"):
                raise
            failures += 1
            last_error = str(exc)
            remaining = timeout - (clock() - start)
            if remaining <= 0:
                _time_out(follows, timeout, clock, last_error)
                return
            delay = min(poll_interval * 2 ** (failures - 1), TRANSIENT_BACKOFF_CAP, remaining)
            log.warning("ECS poll failed (%s); retrying in %.0f s", exc, delay)
            sleep(delay)
            continue
        failures = 0
        now = clock()
        external = sorted(n for n, s in described.items() if not _is_rolling_update(s))
        if external and named:
            raise InvalidInputError(
                f"ECS services {', '.join(external)} in cluster {cluster} are not deployed by the "
                "ECS rolling-update controller (CODE_DEPLOY or EXTERNAL): wait-rollout cannot "
                "follow them",
                services=external,
            )
        for name, service in described.items():
            follow = follows[name]
            if name in external:  # listed, not named: nothing this command can follow
                follow.state = follow.last = RolloutState(
                    name, UNCHANGED, None, service.get("taskDefinition"), reason="not ECS-deployed"
                )
                follow.finished_at = now
                continue
            state = _judge_service(follow, service, first)
            if (
                first
                and not named
                and state.status == COMPLETED
                and len(service["deployments"]) == 1
            ):
                state = attrs.evolve(state, status=UNCHANGED, reason="no rollout under way")
            events = _events(service)
            if first:
                # events about earlier deployments are history, not progress of this one
                since = next(
                    (
                        d.get("createdAt")
                        for d in service.get("deployments", [])
                        if d.get("id") == follow.deployment_id
                    ),
                    None,
                )
                follow.seen_events.update(
                    e.id
                    for e in events
                    if since is None or e.created_at is None or e.created_at < since
                )
            new = [e for e in reversed(events) if e.id not in follow.seen_events]
            follow.seen_events.update(e.id for e in new)
            follow.latest = events[:LAST_EVENTS]
            follow.last = state
            if state.is_done:
                follow.state = state
                follow.finished_at = now
            if on_progress is not None and state.status != UNCHANGED:
                on_progress(RolloutProgress(state, tuple(new), now - start))
        first = False
        if all(f.state is not None for f in follows.values()):
            return
        remaining = timeout - (clock() - start)
        if remaining <= 0:
            _time_out(follows, timeout, clock, None)
            return
        sleep(min(poll_interval, remaining))


def _time_out(
    follows: Mapping[str, _Follow],
    timeout: float,
    clock: Callable[[], float],
    last_error: str | None,
) -> None:
    for follow in follows.values():
        if follow.state is not None:
            continue
        last = follow.last or RolloutState(
            follow.name, IN_PROGRESS, follow.deployment_id, follow.task_definition
        )
        reason = (
            f"not COMPLETED after {format_duration(timeout)} (running "
            f"{last.running}/{last.desired}, pending {last.pending})"
        )
        if not follow.seen and follow.task_definition is not None and follow.last is not None:
            reason += f"; {last.reason}" if last.reason else ""
        if last_error is not None:
            reason += f"; the last poll failed: {last_error}"
        follow.state = attrs.evolve(last, status=TIMED_OUT, reason=reason)
        follow.finished_at = clock()


# --- durations (--timeout 15m) ---------------------------------------------------------------

_DURATION_RE = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> float:
    """``90s``, ``15m``, ``1h``, ``1h30m`` or a bare number of seconds."""
    value = text.strip().lower()
    if value.isdigit():
        seconds = int(value)
    else:
        match = _DURATION_RE.fullmatch(value)
        if not value or match is None:
            raise InvalidInputError(
                f"invalid duration {text!r}: use a number of seconds or e.g. 90s, 15m, 1h, 1h30m"
            )
        hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise InvalidInputError(f"duration {text!r} must be more than zero")
    return float(seconds)


def format_duration(seconds: float) -> str:
    whole = int(seconds)
    if whole % 3600 == 0 and whole >= 3600:
        return f"{whole // 3600}h"
    if whole % 60 == 0 and whole >= 60:
        return f"{whole // 60}m"
    return f"{whole}s"
