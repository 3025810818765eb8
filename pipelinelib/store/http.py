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
from collections.abc import Callable
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
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PipelinelibError,
    RemoteServiceError,
    StoreUnavailableError,
)
from pipelinelib.model import (
    Choice,
    Manifest,
    ServiceBuild,
    validate_build_number,
    validate_environment_name,
    validate_job_name,
    validate_service_name,
)
from pipelinelib.retrying import BackoffRetry

if TYPE_CHECKING:
    from pipelinelib.ledger import DeploymentEntry

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({502, 503, 504})
_ERRORS: dict[int, type[PipelinelibError]] = {
    400: InvalidInputError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: DeploymentRefusedError,
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


def _list(data: Any, key: str) -> list[Any]:
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RemoteServiceError(f"the manifest service sent no {key!r} list")
    return items


def _manifest(data: Any) -> Manifest:
    try:
        return Manifest.from_dict(data)
    except InvalidInputError as exc:
        raise RemoteServiceError(f"the manifest service sent a bad manifest: {exc}") from exc
