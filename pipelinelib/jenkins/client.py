"""Jenkins over its REST API: python-jenkins and exactly one ``requests.Session``.

Why one session: the crumb Jenkins issues is bound to the web session (its cookie) unless the
caller authenticates with an API token, connections are reused across the artifact downloads, and
the timeouts and retry policy live in one place. python-jenkins gets the same session (see
:attr:`JenkinsClient.python_jenkins`); the calls pipelinelib needs most (a ``tree=`` query with a
range on ``builds``, streamed artifact downloads, ``configSubmit``) are not in python-jenkins, so
they use the session directly.

Every error is translated here, once: 401 -> AuthenticationError, 403 -> PermissionDeniedError,
404 -> NotFoundError, the rest -> JenkinsError; messages name the URL, never the credentials.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import attrs
import requests
from requests.adapters import HTTPAdapter

from pipelinelib import __version__
from pipelinelib.config import Settings
from pipelinelib.errors import (
    AuthenticationError,
    DeadlineExceededError,
    InvalidInputError,
    JenkinsError,
    NotFoundError,
    OperationCancelledError,
    PermissionDeniedError,
    PipelinelibError,
)
from pipelinelib.model import Choice, subject_of, validate_build_number, validate_job_name
from pipelinelib.retrying import BackoffRetry

log = logging.getLogger(__name__)

BUILD_FIELDS = "number,result,displayName,building,timestamp,url"
ARTIFACT_TREE = "number,result,artifacts[displayPath,fileName,relativePath]"
CHUNK_SIZE = 256 * 1024

#: Statuses worth another try. A 500 is retried only on reads (GET is idempotent; Jenkins answers
#: 500 under load or while a build record is being written); writes only on gateway errors.
RETRY_STATUSES_READ = frozenset({500, 502, 503, 504})
RETRY_STATUSES_WRITE = frozenset({502, 503, 504})

RetryCallback = Callable[[str, int, float], None]


def _retry_statuses(method: str) -> frozenset[int]:
    return RETRY_STATUSES_READ if method in ("GET", "HEAD") else RETRY_STATUSES_WRITE


def job_path(job: str) -> str:
    """``team/svc`` -> ``job/team/job/svc/``, each folder segment URL-quoted."""
    validate_job_name(job)
    return "".join(f"job/{quote(segment, safe='')}/" for segment in job.split("/"))


def artifact_path(job: str, number: int, relative_path: str) -> str:
    segments = "/".join(quote(segment, safe="") for segment in relative_path.split("/"))
    return f"{job_path(job)}{number}/artifact/{segments}"


def redact(url: str) -> str:
    """The URL without user:password@, for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


def _reason(exc: BaseException) -> str:
    match = _ERRNO.search(str(exc))
    if match:
        return match.group(1).strip()
    return type(exc).__name__


@attrs.frozen
class RetryPolicy:
    """``attempts`` in all (the first included); before retry n, ``backoff * 2**(n-1)`` seconds,
    at most ``max_backoff``. Carried out by urllib3's ``Retry`` (:mod:`pipelinelib.retrying`)."""

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0


@attrs.frozen
class JenkinsBuild:
    """One entry of a job's ``builds``: what a choice and a listing need."""

    number: int
    result: str | None
    display_name: str | None
    building: bool
    timestamp: int | None = None
    url: str | None = None
    kind: str | None = None  # Jenkins' _class, e.g. org.jenkinsci.plugins.workflow.job.WorkflowRun

    @property
    def is_successful(self) -> bool:
        """``result`` is null while a build runs; only finished SUCCESS builds count."""
        return self.result == "SUCCESS" and not self.building

    @property
    def subject(self) -> str:
        return subject_of(self.display_name, self.number)

    @property
    def choice(self) -> Choice:
        return Choice(number=self.number, subject=self.subject)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "subject": self.subject,
            "display_name": self.display_name,
            "result": self.result,
            "building": self.building,
            "timestamp": self.timestamp,
            "url": self.url,
        }

    @classmethod
    def from_json(cls, data: Any) -> JenkinsBuild:
        if not isinstance(data, Mapping):
            raise JenkinsError(f"Jenkins listed a build that is not an object: {data!r:.80}")
        number = data.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise JenkinsError(f"Jenkins listed a build without a valid number: {number!r:.40}")
        result = data.get("result")
        display_name = data.get("displayName")
        timestamp = data.get("timestamp")
        url = data.get("url")
        kind = data.get("_class")
        if result is not None and not isinstance(result, str):
            raise JenkinsError(f"build #{number}: result is not a string")
        if display_name is not None and not isinstance(display_name, str):
            raise JenkinsError(f"build #{number}: displayName is not a string")
        return cls(
            number=number,
            result=result,
            display_name=display_name,
            building=data.get("building") is True,
            timestamp=timestamp if isinstance(timestamp, int) else None,
            url=url if isinstance(url, str) else None,
            kind=kind if isinstance(kind, str) else None,
        )


@attrs.frozen
class Artifact:
    """As Jenkins lists it. ``relative_path`` is untrusted: see copyartifact.safe_relative_path."""

    relative_path: str
    file_name: str
    display_path: str | None = None


@attrs.frozen
class ArtifactListing:
    job: str
    number: int
    result: str | None
    artifacts: tuple[Artifact, ...]


class JenkinsClient:
    """Jenkins' REST API with Basic auth, a crumb for POSTs, timeouts and retries.

    Library users build it from :class:`~pipelinelib.config.Settings` (``from_settings``) or
    directly. Retries are reported through ``on_retry(url, attempt, delay)`` and ``logging``.
    """

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        token: str | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        pool_size: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: RetryCallback | None = None,
    ) -> None:
        if not url:
            raise InvalidInputError("no Jenkins URL: pass --jenkins-url or set JENKINS_URL")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInputError(
                f"invalid Jenkins URL {redact(url)!r}: expected http(s)://host/"
            )
        if parts.username is not None:  # credentials in the URL move to the auth header
            user = user or parts.username
            token = token or parts.password
        base = redact(url)
        self.base_url = base if base.endswith("/") else base + "/"
        if bool(user) != bool(token):
            raise InvalidInputError("set both JENKINS_USER and JENKINS_API_TOKEN, or neither")
        self._user = user
        self._token = token
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry or RetryPolicy()
        self._on_retry = on_retry
        self.session = requests.Session()
        self._download_lock = threading.Lock()
        self._download_template: tuple[requests.PreparedRequest, Any] | None = None
        if user and token:
            self.session.auth = (user, token)
        # urllib3 retries (pipelinelib.retrying): connection errors and resets, and the
        # RETRY_STATUSES of the method; a read timeout is not retried, so a call stays bounded.
        policy = self.retry
        retries = max(0, policy.attempts - 1)
        self._retries = BackoffRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            redirect=0,
            allowed_methods=None,
            statuses_for=_retry_statuses,
            retry_read_timeouts=False,
            backoff_factor=policy.backoff,
            backoff_max=policy.max_backoff,
            raise_on_status=False,
            raise_on_redirect=False,
            respect_retry_after_header=False,
            sleep=sleep,
            on_retry=self._report_retry,
        )
        adapter = HTTPAdapter(
            pool_connections=2, pool_maxsize=max(1, pool_size), max_retries=self._retries
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = f"pipelinelib/{__version__}"
        self._crumb: dict[str, str] | None = None
        self._crumb_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> JenkinsClient:
        return cls(
            settings.jenkins_url or "",
            user=settings.jenkins_user,
            token=settings.jenkins_token,
            **kwargs,
        )

    # --- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> JenkinsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def python_jenkins(self) -> Any:
        """A ``jenkins.Jenkins`` (python-jenkins) that shares this client's one session."""
        import jenkins

        server = jenkins.Jenkins(
            self.base_url, username=self._user, password=self._token, timeout=self.timeout[1]
        )
        server._session = self.session
        return server

    def version(self) -> str:
        """The Jenkins version (python-jenkins' ``get_version``, over the shared session)."""
        import jenkins

        try:
            return str(self.python_jenkins.get_version())
        except jenkins.JenkinsException as exc:
            raise JenkinsError(
                f"cannot read the Jenkins version at {self.base_url}: {exc}"
            ) from exc

    # --- transport --------------------------------------------------------------------------

    def url_for(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        allow_redirects: bool = True,
        ok: tuple[int, ...] = (200,),
        what: str | None = None,
    ) -> requests.Response:
        """One call; urllib3 retries connection errors and gateway statuses (500 too on reads)."""
        url = self.url_for(path)
        with self._translated(method, url):
            response = self.session.request(
                method,
                url,
                params=params,
                data=data,
                headers=dict(headers or {}),
                timeout=self.timeout,
                stream=stream,
                allow_redirects=allow_redirects,
            )
        return self._accepted(response, ok, method, url, what)

    @contextlib.contextmanager
    def _translated(self, method: str, url: str) -> Iterator[None]:
        """requests' exceptions as JenkinsError, with what happened and where."""
        try:
            yield
        except requests.exceptions.ConnectionError as exc:  # refused, reset, connect timeout
            raise JenkinsError(
                f"cannot reach Jenkins at {redact(url)} after {self.retry.attempts} attempts "
                f"({_reason(exc)})"
            ) from exc
        except requests.exceptions.Timeout as exc:  # read timeout: not retried, stays bounded
            raise JenkinsError(
                f"Jenkins did not answer within {self.timeout[1]:g} s: {method} {redact(url)}"
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise JenkinsError(f"request to Jenkins failed: {method} {redact(url)}") from exc

    @staticmethod
    def _accepted(
        response: requests.Response,
        ok: tuple[int, ...],
        method: str,
        url: str,
        what: str | None,
    ) -> requests.Response:
        status = response.status_code
        if status in ok:
            return response
        response.close()
        raise _status_error(status, method, redact(response.url or url), what)

    def _download(self, path: str, what: str) -> requests.Response:
        """``GET`` an artifact's body (streamed) straight through the session's adapter.

        ``Session.request`` prepares every request anew (cookies, the environment's proxies and
        CA bundle, netrc, hooks): about half a millisecond of Python per artifact, as much as
        reading a 1 MiB body (bench jenkins_list). Artifacts all live under the base URL, so
        that preparation is done once per client and copied: same headers (auth included), same
        proxies, verification and certificate, same adapter and retries. A redirect (an artifact
        manager sending the body elsewhere) goes through :meth:`request`, which follows it as
        requests does."""
        url = self.url_for(path)
        with self._download_lock:
            if self._download_template is None:
                template = self.session.prepare_request(requests.Request("GET", self.base_url))
                merged: Any = self.session.merge_environment_settings(
                    self.base_url, {}, True, None, None
                )
                self._download_template = (template, merged)
            template, settings = self._download_template
        prepared = template.copy()
        prepared.prepare_url(url, None)
        with self._translated("GET", url):
            response = self.session.get_adapter(url).send(
                prepared,
                stream=True,
                timeout=self.timeout,
                verify=settings["verify"],
                cert=settings["cert"],
                proxies=settings["proxies"],
            )
        if response.is_redirect:
            response.close()
            return self.request("GET", path, stream=True, what=what)
        return self._accepted(response, (200,), "GET", url, what)

    def _report_retry(self, path: str, attempt: int, delay: float, reason: str) -> None:
        url = redact(self.base_url.rstrip("/") + path) if path.startswith("/") else redact(path)
        log.warning("Jenkins: %s for %s; retrying in %.1f s", reason, url, delay)
        if self._on_retry is not None:
            self._on_retry(url, attempt, delay)

    def get_json(
        self, path: str, *, params: Mapping[str, str] | None = None, what: str | None = None
    ) -> Any:
        response = self.request("GET", path, params=params, what=what)
        try:
            return response.json()
        except ValueError as exc:
            raise JenkinsError(
                f"Jenkins answered something that is not JSON for {redact(response.url)} "
                f"(content type {response.headers.get('Content-Type', 'unknown')!r})"
            ) from exc

    def crumb(self) -> dict[str, str]:
        """The CSRF crumb header, fetched once from ``crumbIssuer/api/json`` (none when disabled)."""
        with self._crumb_lock:
            if self._crumb is None:
                try:
                    data = self.get_json("crumbIssuer/api/json", what="the crumb issuer")
                except NotFoundError:  # CSRF protection is off: POSTs need no crumb
                    self._crumb = {}
                else:
                    field = data.get("crumbRequestField") if isinstance(data, Mapping) else None
                    value = data.get("crumb") if isinstance(data, Mapping) else None
                    if not isinstance(field, str) or not isinstance(value, str) or not field:
                        raise JenkinsError("Jenkins' crumb issuer answered without a crumb")
                    self._crumb = {field: value}
            return dict(self._crumb)

    def post_form(self, path: str, fields: Mapping[str, str], *, what: str | None = None) -> None:
        """POST a form with the crumb; Jenkins answers a form submission with a redirect."""
        ok = (200, 201, 204, 302, 303)
        headers = self.crumb()
        try:
            response = self.request(
                "POST", path, data=fields, headers=headers, allow_redirects=False, ok=ok, what=what
            )
        except PermissionDeniedError:
            if not headers:
                raise
            with self._crumb_lock:  # the crumb may have expired with the web session: once more
                self._crumb = None
            response = self.request(
                "POST",
                path,
                data=fields,
                headers=self.crumb(),
                allow_redirects=False,
                ok=ok,
                what=what,
            )
        response.close()

    # --- builds -----------------------------------------------------------------------------

    def successful_builds(self, job: str, *, limit: int = 100) -> list[JenkinsBuild]:
        """Newest successful builds, in one ``tree=builds[...]{0,N}`` request when it holds N.

        Pages further (``{N,2N}``, ...) only while the pages come back full and hold fewer than
        ``limit`` successes. Jenkins exports ``builds`` as the newest 100 builds only
        (``Job.getNewBuilds``), so nothing older than those is listed; ``allBuilds`` is never
        asked for, because it loads every build record of the job.
        """
        if limit < 1:
            raise InvalidInputError(f"limit must be at least 1, not {limit}")
        path = job_path(job) + "api/json"
        found: list[JenkinsBuild] = []
        seen: set[int] = set()
        start = 0
        while True:
            end = start + limit
            data = self.get_json(
                path,
                params={"tree": f"builds[{BUILD_FIELDS}]{{{start},{end}}}"},
                what=f"job {job!r}",
            )
            page = _builds_of(data, job)
            for item in page:
                build = JenkinsBuild.from_json(item)
                if build.number in seen or not build.is_successful:
                    continue
                seen.add(build.number)
                found.append(build)
                if len(found) == limit:
                    return found
            if len(page) < end - start:
                return found
            start = end

    def artifact_listing(self, job: str, build: str) -> ArtifactListing:
        """One request: the selected build's number, result and artifacts.

        ``build`` is a number or a permalink (``lastSuccessfulBuild``, ``lastStableBuild``, ...).
        """
        segment = quote(build, safe="")
        data = self.get_json(
            f"{job_path(job)}{segment}/api/json",
            params={"tree": ARTIFACT_TREE},
            what=f"build {build} of job {job!r}",
        )
        if not isinstance(data, Mapping):
            raise JenkinsError(f"Jenkins answered an unexpected build record for {job!r}")
        number = data.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise JenkinsError(f"Jenkins answered a build of {job!r} without a valid number")
        raw = data.get("artifacts")
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise JenkinsError(f"{job} #{number}: artifacts is not a list")
        artifacts = []
        for item in raw:
            if not isinstance(item, Mapping):
                raise JenkinsError(f"{job} #{number}: an artifact entry is not an object")
            rel = item.get("relativePath")
            name = item.get("fileName")
            display = item.get("displayPath")
            if not isinstance(rel, str) or not isinstance(name, str):
                raise JenkinsError(f"{job} #{number}: an artifact has no relativePath/fileName")
            artifacts.append(
                Artifact(rel, name, display if isinstance(display, str) else None),
            )
        result = data.get("result")
        return ArtifactListing(
            job=job,
            number=number,
            result=result if isinstance(result, str) else None,
            artifacts=tuple(artifacts),
        )

    def iter_artifact(self, job: str, number: int, relative_path: str) -> Iterator[bytes]:
        """Stream one artifact in chunks (constant memory); errors become JenkinsError."""
        path = artifact_path(job, number, relative_path)
        response = self._download(path, f"artifact {relative_path!r}")
        try:
            yield from response.iter_content(CHUNK_SIZE)
        except requests.exceptions.RequestException as exc:
            raise JenkinsError(
                f"download of {redact(response.url)} failed after it started ({_reason(exc)})"
            ) from exc
        finally:
            response.close()

    def iter_artifact_until(
        self,
        job: str,
        number: int,
        relative_path: str,
        *,
        deadline: float,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> Iterator[bytes]:
        """:meth:`iter_artifact` that ends by ``deadline`` (a ``time.monotonic()`` value).

        A slow server cannot stretch the download: each read returns what has arrived
        (``read1``) and the socket waits at most until the deadline, so a trickle of one byte a
        second fails at the deadline like a stall does. ``cancelled`` is asked between chunks.
        Raises :class:`DeadlineExceededError` or :class:`OperationCancelledError`.
        """
        from urllib3.exceptions import HTTPError as Urllib3Error

        path = artifact_path(job, number, relative_path)
        url = redact(self.url_for(path))
        _check_deadline(deadline, url)
        response = self._download(path, f"artifact {relative_path!r}")
        raw = response.raw
        try:
            while True:
                if cancelled():
                    raise OperationCancelledError(f"download of {url} cancelled")
                remaining = _check_deadline(deadline, url)
                sock = getattr(getattr(raw, "connection", None), "sock", None)
                if sock is not None:
                    sock.settimeout(min(remaining, self.timeout[1]))
                try:
                    chunk = raw.read1(CHUNK_SIZE, decode_content=True)
                except (Urllib3Error, OSError) as exc:
                    _check_deadline(deadline, url)
                    raise JenkinsError(
                        f"download of {url} failed after it started ({_reason(exc)})"
                    ) from exc
                if not chunk:
                    return
                yield chunk
        finally:
            response.close()

    def job_record(self, job: str) -> Mapping[str, Any]:
        """The job itself (``_class`` and name): NotFoundError/PermissionDeniedError if absent."""
        data = self.get_json(
            f"{job_path(job)}api/json", params={"tree": "_class,name"}, what=f"job {job!r}"
        )
        if not isinstance(data, Mapping):
            raise JenkinsError(f"Jenkins answered an unexpected record for job {job!r}")
        return data

    def build_description(self, job: str, number: int) -> str | None:
        number = validate_build_number(number)
        data = self.get_json(
            f"{job_path(job)}{number}/api/json",
            params={"tree": "description"},
            what=f"build #{number} of job {job!r}",
        )
        description = data.get("description") if isinstance(data, Mapping) else None
        return description if isinstance(description, str) else None

    def set_display_name(self, job: str, number: int, name: str) -> None:
        """POST ``configSubmit`` as Jenkins' own form does, keeping the build's description.

        The name is sent exactly (JSON with ASCII escapes, so no form charset can alter it);
        Jenkins itself trims it and treats an empty name as "no display name".
        """
        number = validate_build_number(number)
        description = self.build_description(job, number)
        payload = json.dumps({"displayName": name, "description": description or ""})
        self.post_form(
            f"{job_path(job)}{number}/configSubmit",
            {"json": payload},
            what=f"build #{number} of job {job!r}",
        )


def _check_deadline(deadline: float, url: str) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceededError(f"download of {url} did not finish before the deadline")
    return remaining


def _builds_of(data: Any, job: str) -> list[Any]:
    if not isinstance(data, Mapping):
        raise JenkinsError(f"Jenkins answered an unexpected record for job {job!r}")
    builds = data.get("builds")
    if builds is None:
        kind = data.get("_class", "an item")
        raise InvalidInputError(f"{job!r} is {kind}, not a job with builds")
    if not isinstance(builds, list):
        raise JenkinsError(f"job {job!r}: builds is not a list")
    return builds


def _status_error(status: int, method: str, url: str, what: str | None) -> PipelinelibError:
    subject = f" ({what})" if what else ""
    if status == 401:
        return AuthenticationError(
            f"Jenkins rejected the credentials (HTTP 401) for {method} {url}: "
            "check JENKINS_USER and JENKINS_API_TOKEN"
        )
    if status == 403:
        return PermissionDeniedError(
            f"Jenkins refused {method} {url} (HTTP 403){subject}: the user lacks the permission"
        )
    if status == 404:
        return NotFoundError(f"not found in Jenkins (HTTP 404){subject}: {url}")
    return JenkinsError(f"Jenkins answered HTTP {status} for {method} {url}{subject}")
