"""``HttpStore``: the :class:`~pipelinelib.store.ManifestStore` protocol over the service's API.

One ``requests.Session`` (connection reuse), connect and read timeouts, and retries with
exponential backoff on connection errors and 502/503/504 only (urllib3's ``Retry`` mounted on
the session, see :mod:`pipelinelib.retrying`). Retrying a publish is safe: the
service answers an identical replay with 200, so a publish whose answer was lost is not doubled.
HTTP errors come back as the same error classes the SQL store raises, with the server's message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from pipelinelib.config import SERVICE_HEADER
from pipelinelib.errors import (
    AuthenticationError,
    ConflictError,
    DeploymentRefusedError,
    InvalidInputError,
    LockedError,
    LockExpiredError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PipelinelibError,
    PromotionRefusedError,
    RemoteServiceError,
    StoreUnavailableError,
    UnknownEnvironmentError,
)
from pipelinelib.model import (
    ApprovalRequest,
    Choice,
    Lock,
    Manifest,
    ServiceBuild,
    validate_build_number,
    validate_environment_name,
    validate_job_name,
    validate_service_name,
)
from pipelinelib.retrying import BackoffRetry

if TYPE_CHECKING:
    from pipelinelib.insight import HistoryPage
    from pipelinelib.ledger import DeploymentEntry, DeploymentPage

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({502, 503, 504})
RANGES_PER_REQUEST = 100  # keeps the query string of /api/v1/service-builds a few KiB
_ERRORS: dict[int, type[PipelinelibError]] = {
    400: InvalidInputError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: DeploymentRefusedError,
}
# Finer classes the service names in an error's "type", raised only when the status agrees.
_TYPED: dict[str, type[PipelinelibError]] = {
    cls.__name__: cls
    for cls in (LockedError, LockExpiredError, PromotionRefusedError, UnknownEnvironmentError)
}


class HttpStore:
    def __init__(
        self,
        server: str,
        token: str | None = None,
        *,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        retries: int = 4,
        backoff: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not server.startswith(("http://", "https://")):
            raise InvalidInputError(f"server must be an http:// or https:// URL, not {server!r}")
        self.server = server.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.session = requests.Session()
        # urllib3 retries connection errors, read errors and 502/503/504, on every method: the
        # service answers an identical replay of a publish with 200. After the last retry the
        # gateway status itself is returned (StoreUnavailableError below).
        retry = BackoffRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            redirect=0,
            allowed_methods=None,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff,
            backoff_max=30.0,
            raise_on_status=False,
            raise_on_redirect=False,
            respect_retry_after_header=False,
            sleep=sleep,
            on_retry=self._report_retry,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "pipelinelib"
        self.session.headers["Accept"] = "application/json"
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    # --- transport -----------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.server + path
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            # Raised once the retries are spent. A read timeout may hide a publish that
            # happened; replaying it was still safe.
            raise StoreUnavailableError(
                f"the manifest service at {self.server} is unreachable: {exc}"
            ) from exc
        except requests.RequestException as exc:
            raise StoreUnavailableError(f"request to {url} failed: {exc}") from exc
        return self._checked(response)

    def _report_retry(self, url: str, retry: int, delay: float, reason: str) -> None:
        log.warning("%s: %s; retry %d/%d in %.2fs", url, reason, retry, self.retries, delay)

    def _checked(self, response: requests.Response) -> requests.Response:
        status = response.status_code
        if status < 400:
            return response
        if SERVICE_HEADER not in response.headers and status not in RETRY_STATUSES:
            # Not the manifest service (a proxy's or another app's error page): its words would
            # mislead ("error: nf"); say what answered instead.
            kind = response.headers.get("Content-Type", "no content type")
            raise StoreUnavailableError(
                f"{self.server} does not look like a pipelinelib manifest service: "
                f"{response.request.method} {response.url} answered HTTP {status} ({kind}) "
                f"without the {SERVICE_HEADER} header; check --server / PIPELINELIB_SERVER",
                status=status,
            )
        message = _message_of(response)
        error = _ERRORS.get(status)
        typed = _TYPED.get(_type_of(response) or "")
        if error is not None and typed is not None and issubclass(typed, error):
            error = typed
        if error is not None:
            raise error(message, status=status)
        if status in RETRY_STATUSES:
            raise StoreUnavailableError(f"the manifest service is unavailable: {message}")
        raise RemoteServiceError(f"the manifest service answered {status}: {message}")

    def _get_json(self, path: str, **params: Any) -> Any:
        response = self._request("GET", path, params=params or None)
        try:
            return response.json()
        except ValueError as exc:
            raise RemoteServiceError(f"the manifest service sent invalid JSON for {path}") from exc

    @staticmethod
    def _job_path(job: str) -> str:
        return quote(validate_job_name(job), safe="/")

    # --- the protocol --------------------------------------------------------------------------

    def publish(self, manifest: Manifest) -> bool:
        body = json.dumps(manifest.to_dict(), ensure_ascii=True).encode("ascii")
        response = self._request(
            "POST",
            "/api/v1/builds",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        return response.status_code == 201

    def check_publish(self, manifest: Manifest) -> bool:
        """``POST /api/v1/builds?check=true``: every check of publish, nothing recorded."""
        body = json.dumps(manifest.to_dict(), ensure_ascii=True).encode("ascii")
        response = self._request(
            "POST",
            "/api/v1/builds",
            params={"check": "true"},
            data=body,
            headers={"Content-Type": "application/json"},
        )
        data = response.json() if response.content else {}
        return bool(isinstance(data, dict) and data.get("would_create"))

    def get_build(self, job: str, number: int) -> Manifest:
        number = validate_build_number(number)
        data = self._get_json(f"/api/v1/jobs/{self._job_path(job)}/builds/{number}")
        return _manifest(data)

    def list_builds(
        self, job: str, *, result: str | None = "SUCCESS", limit: int = 100
    ) -> list[Manifest]:
        data = self._get_json(
            f"/api/v1/jobs/{self._job_path(job)}/builds",
            result=result or "ANY",
            limit=limit,
        )
        return [_manifest(item) for item in _list(data, "builds")]

    def choices(self, job: str, *, limit: int = 100) -> list[Choice]:
        response = self._request(
            "GET",
            f"/api/v1/jobs/{self._job_path(job)}/choices",
            params={"limit": limit},
            headers={"Accept": "text/plain"},
        )
        response.encoding = "utf-8"
        try:
            # "\n" only: a subject may hold U+2028 and other separators splitlines() would cut at.
            return [Choice.parse(line) for line in response.text.split("\n") if line]
        except InvalidInputError as exc:
            raise RemoteServiceError(f"the manifest service sent a bad choice: {exc}") from exc

    def choice_lines(self, job: str, *, limit: int = 100) -> list[str]:
        return [str(c) for c in self.choices(job, limit=limit)]

    def set_display_name(self, job: str, number: int, name: str) -> None:
        number = validate_build_number(number)
        self._request(
            "PUT",
            f"/api/v1/jobs/{self._job_path(job)}/builds/{number}/display-name",
            data=json.dumps({"display_name": name}, ensure_ascii=True).encode("ascii"),
            headers={"Content-Type": "application/json"},
        )

    def find_service_build(self, service: str, build: int) -> ServiceBuild:
        validate_service_name(service)
        build = validate_build_number(build)
        data = self._get_json(f"/api/v1/services/{service}/builds/{build}")
        if not isinstance(data, dict):
            raise RemoteServiceError("the manifest service sent an unexpected service build")
        body = {k: v for k, v in data.items() if k != "service"}
        try:
            return ServiceBuild.from_dict(service, body)
        except InvalidInputError as exc:
            raise RemoteServiceError(
                f"the manifest service sent a bad service build: {exc}"
            ) from exc

    def service_builds_between(
        self, service: str, after: int, upto: int, *, limit: int = 100
    ) -> list[ServiceBuild]:
        validate_service_name(service)
        data = self._get_json(
            f"/api/v1/services/{service}/builds", after=after, upto=upto, limit=limit
        )
        found = []
        for item in _list(data, "builds"):
            if not isinstance(item, dict):
                raise RemoteServiceError("the manifest service sent an unexpected service build")
            try:
                found.append(
                    ServiceBuild.from_dict(
                        service, {k: v for k, v in item.items() if k != "service"}
                    )
                )
            except InvalidInputError as exc:
                raise RemoteServiceError(
                    f"the manifest service sent a bad service build: {exc}"
                ) from exc
        return found

    def service_builds_between_many(
        self, ranges: Mapping[str, tuple[int, int]], *, limit: int = 100
    ) -> dict[str, list[ServiceBuild]]:
        """``GET /api/v1/service-builds?range=S:AFTER:UPTO&…``, up to 100 ranges a request."""
        items = sorted(ranges.items())
        found: dict[str, list[ServiceBuild]] = {}
        for start in range(0, len(items), RANGES_PER_REQUEST):
            chunk = items[start : start + RANGES_PER_REQUEST]
            for service, _ in chunk:
                validate_service_name(service)
            data = self._get_json(
                "/api/v1/service-builds",
                range=[f"{s}:{after}:{upto}" for s, (after, upto) in chunk],
                limit=limit,
            )
            services = data.get("services") if isinstance(data, dict) else None
            if not isinstance(services, dict):
                raise RemoteServiceError("the manifest service sent no 'services' object")
            for service, _ in chunk:
                found[service] = [
                    _service_build(service, item) for item in services.get(service) or []
                ]
        return found

    def deployments(
        self,
        *,
        environment: str | None = None,
        service: str | None = None,
        since: datetime | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> DeploymentPage:
        """``GET /api/v1/deployments``: one page, newest first (see the protocol)."""
        from pipelinelib.ledger import DeploymentPage, DeploymentRecord

        params = _page_params(environment, service, since, before, limit)
        data = self._get_json("/api/v1/deployments", **params)
        try:
            entries = tuple(DeploymentRecord.from_dict(d) for d in _list(data, "deployments"))
            cursor = data.get("next_before")
            return DeploymentPage(entries, int(cursor) if cursor is not None else None)
        except (KeyError, TypeError, ValueError, InvalidInputError) as exc:
            raise RemoteServiceError(f"the manifest service sent bad deployments: {exc}") from exc

    def environments(self) -> dict[str, Manifest]:
        data = self._get_json("/api/v1/environments")
        envs = data.get("environments") if isinstance(data, dict) else None
        if not isinstance(envs, dict):
            raise RemoteServiceError("the manifest service sent unexpected environments")
        return {name: _manifest(item) for name, item in envs.items()}

    def environment_entries(self) -> dict[str, DeploymentEntry]:
        """:meth:`environments`; the API does not send when each was recorded (None)."""
        from pipelinelib.ledger import DeploymentEntry

        return {name: DeploymentEntry(m) for name, m in self.environments().items()}

    def history(self, environment: str, *, limit: int = 100) -> list[Manifest]:
        validate_environment_name(environment)
        data = self._get_json(f"/api/v1/environments/{environment}/history", limit=limit)
        return [_manifest(item) for item in _list(data, "deployments")]

    def history_entries(self, environment: str, *, limit: int = 100) -> list[DeploymentEntry]:
        """:meth:`history`; the API does not send when each was recorded (None)."""
        from pipelinelib.ledger import DeploymentEntry

        return [DeploymentEntry(m) for m in self.history(environment, limit=limit)]

    def history_page(
        self,
        *,
        environment: str | None = None,
        service: str | None = None,
        since: datetime | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> HistoryPage:
        """``GET /api/v1/history``: one page of deployments with the outcomes the service's
        store keeps (judged over its whole history: a rollback on a newer page is seen)."""
        from pipelinelib.insight import HistoryPage, HistoryRow
        from pipelinelib.ledger import DeploymentRecord

        params = _page_params(environment, service, since, before, limit)
        data = self._get_json("/api/v1/history", **params)
        try:
            rows = tuple(
                HistoryRow(DeploymentRecord.from_dict(d), _outcome(d["outcome"]))
                for d in _list(data, "deployments")
            )
            cursor = data.get("next_before")
            return HistoryPage(rows, int(cursor) if cursor is not None else None)
        except (KeyError, TypeError, ValueError, InvalidInputError) as exc:
            raise RemoteServiceError(
                f"the manifest service sent a bad history page: {exc}"
            ) from exc

    def metrics_document(self, *, window: str, environment: str | None = None) -> dict[str, Any]:
        """The service's DORA metrics report (``GET /api/v1/metrics``, docs/api.md): one request,
        computed from the facts the service's store keeps, instead of reading every deployment
        through this protocol. ``window``: ``7d``, ``30d``, ``12h``. RemoteServiceError when the
        answer is not a report."""
        params = {"window": window}
        if environment is not None:
            params["environment"] = validate_environment_name(environment)
        data = self._get_json("/api/v1/metrics", **params)
        if not isinstance(data, dict) or not all(
            isinstance(data.get(key), dict) for key in ("overall", "environments", "services")
        ):
            raise RemoteServiceError("the manifest service sent no metrics report")
        return data

    # --- promotion control: the service decides identities from the token ------------------------

    def _post_json(self, path: str, body: dict[str, Any]) -> Any:
        response = self._request(
            "POST",
            path,
            data=json.dumps(body, ensure_ascii=True).encode("ascii"),
            headers={"Content-Type": "application/json"},
        )
        try:
            return response.json()
        except ValueError as exc:
            raise RemoteServiceError(f"the manifest service sent invalid JSON for {path}") from exc

    def acquire_lock(
        self,
        environment: str,
        *,
        holder: str | None = None,
        reason: str,
        ttl: timedelta | float = 7200,
    ) -> Lock:
        validate_environment_name(environment)
        seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl)
        body: dict[str, Any] = {"reason": reason, "ttl_seconds": seconds}
        if holder is not None:
            body["holder"] = holder
        return _lock(self._post_json(f"/api/v1/environments/{environment}/lock", body))

    def release_lock(
        self, environment: str, *, holder: str | None = None, force: bool = False
    ) -> Lock:
        validate_environment_name(environment)
        body: dict[str, Any] = {"force": force}
        if holder is not None:
            body["holder"] = holder
        return _lock(self._post_json(f"/api/v1/environments/{environment}/unlock", body))

    def locks(self) -> list[Lock]:
        return [_lock(item) for item in _list(self._get_json("/api/v1/locks"), "locks")]

    def request_approval(
        self,
        environment: str,
        job: str,
        number: int,
        *,
        requested_by: str | None = None,
        requested_via: str | None = None,
    ) -> ApprovalRequest:
        """``requested_via`` is the token's identity, set by the service; not sent."""
        validate_environment_name(environment)
        body: dict[str, Any] = {"job": validate_job_name(job), "number": number}
        if requested_by is not None:
            body["requested_by"] = requested_by
        data = self._post_json(f"/api/v1/environments/{environment}/approval-requests", body)
        return _approval_request(data)

    def approve(
        self,
        environment: str,
        job: str,
        number: int,
        *,
        approver: str | None = None,
        comment: str | None = None,
    ) -> ApprovalRequest:
        """The approver is the token's identity; ``approver`` is not sent (a client cannot
        choose who it is)."""
        validate_environment_name(environment)
        body: dict[str, Any] = {"job": validate_job_name(job), "number": number}
        if comment is not None:
            body["comment"] = comment
        data = self._post_json(f"/api/v1/environments/{environment}/approvals", body)
        return _approval_request(data)

    def pending_approvals(self, limit: int = 100) -> list[ApprovalRequest]:
        data = self._get_json("/api/v1/approval-requests", limit=limit)
        return [_approval_request(item) for item in _list(data, "approval_requests")]

    def approval_request(self, environment: str, job: str, number: int) -> ApprovalRequest:
        validate_environment_name(environment)
        data = self._get_json(
            f"/api/v1/environments/{environment}/approvals",
            job=validate_job_name(job),
            number=validate_build_number(number),
        )
        return _approval_request(data)

    def environments_config(self) -> dict[str, Any]:
        """The service's environments file as ``pipelinelib environments --json`` prints it."""
        data = self._get_json("/api/v1/environments/config")
        if not isinstance(data, dict):
            raise RemoteServiceError("the manifest service sent an unexpected environments file")
        return data

    def ping(self) -> None:
        self._request("GET", "/healthz")

    def close(self) -> None:
        self.session.close()


def _message_of(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    text = response.text.strip().splitlines()
    return text[0][:200] if text else response.reason or f"HTTP {response.status_code}"


def _type_of(response: requests.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def _page_params(
    environment: str | None,
    service: str | None,
    since: datetime | None,
    before: int | None,
    limit: int,
) -> dict[str, Any]:
    """The query of a deployments or history page (the same filters and cursor), checked."""
    params: dict[str, Any] = {"limit": limit}
    if environment is not None:
        params["environment"] = validate_environment_name(environment)
    if service is not None:
        params["service"] = validate_service_name(service)
    if since is not None:
        params["since"] = since.isoformat()
    if before is not None:
        params["before"] = validate_build_number(before)
    return params


_OUTCOMES = frozenset({"SUCCESS", "FAILURE", "ROLLED_BACK"})


def _outcome(value: Any) -> str:
    if value not in _OUTCOMES:
        raise ValueError(f"unknown outcome {str(value)[:40]!r}")
    return str(value)


def _list(data: Any, key: str) -> list[Any]:
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RemoteServiceError(f"the manifest service sent no {key!r} list")
    return items


def _service_build(service: str, item: Any) -> ServiceBuild:
    if not isinstance(item, dict):
        raise RemoteServiceError("the manifest service sent an unexpected service build")
    try:
        return ServiceBuild.from_dict(service, {k: v for k, v in item.items() if k != "service"})
    except InvalidInputError as exc:
        raise RemoteServiceError(f"the manifest service sent a bad service build: {exc}") from exc


def _manifest(data: Any) -> Manifest:
    try:
        return Manifest.from_dict(data)
    except InvalidInputError as exc:
        raise RemoteServiceError(f"the manifest service sent a bad manifest: {exc}") from exc


def _lock(data: Any) -> Lock:
    try:
        return Lock.from_dict(data)
    except InvalidInputError as exc:
        raise RemoteServiceError(f"the manifest service sent a bad lock: {exc}") from exc


def _approval_request(data: Any) -> ApprovalRequest:
    try:
        return ApprovalRequest.from_dict(data)
    except (InvalidInputError, ValueError, TypeError) as exc:
        raise RemoteServiceError(
            f"the manifest service sent a bad approval request: {exc}"
        ) from exc
