"""Links from the board to the Jenkins build and the commit: configurable URL templates.

Templates are ``str.format`` text with named placeholders only, checked once when the service
starts (InvalidInputError otherwise):

* build: ``{job}`` (the full name URL-quoted, ``/`` kept), ``{job_path}`` (Jenkins' own form,
  ``job/team/job/service1-build``), ``{number}``;
* commit: ``{service}``, ``{commit}``.

Only ``http`` and ``https`` URLs are ever produced: a template with another scheme is refused, and
a build's recorded ``url`` (``BUILD_URL``, untrusted: it comes from the request body) is shown
only when it is http(s). Every substituted value is percent-quoted, so a name cannot add a
scheme, a host or a query.
"""

from __future__ import annotations

import string
from urllib.parse import quote, urlsplit

import attrs

from pipelinelib.errors import InvalidInputError

_BUILD_FIELDS = frozenset({"job", "job_path", "number"})
_COMMIT_FIELDS = frozenset({"service", "commit"})
DEFAULT_REFRESH = 60


def is_http_url(url: str | None) -> bool:
    if not url or any(c in url for c in "\r\n\t\\ ") or len(url) > 2048:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _check(template: str | None, fields: frozenset[str], what: str) -> str | None:
    if template is None:
        return None
    try:
        names = {
            name for _, name, spec, conv in string.Formatter().parse(template) if name is not None
        }
        specs = [(spec, conv) for _, name, spec, conv in string.Formatter().parse(template) if name]
    except ValueError as exc:
        raise InvalidInputError(f"the {what} URL template is not valid: {exc}") from None
    if not names <= fields or any(spec or conv for spec, conv in specs):
        allowed = ", ".join("{" + f + "}" for f in sorted(fields))
        raise InvalidInputError(f"the {what} URL template may only use {allowed}")
    sample = template.format(**{f: "x" for f in fields})
    if not is_http_url(sample):
        raise InvalidInputError(f"the {what} URL template must be an http(s) URL")
    return template


@attrs.frozen
class Links:
    build_template: str | None = attrs.field(default=None)
    commit_template: str | None = attrs.field(default=None)
    refresh: int = DEFAULT_REFRESH

    def __attrs_post_init__(self) -> None:
        _check(self.build_template, _BUILD_FIELDS, "build")
        _check(self.commit_template, _COMMIT_FIELDS, "commit")
        if not 0 <= self.refresh <= 86_400:
            raise InvalidInputError("the board refresh must be 0-86400 seconds")

    @classmethod
    def from_config(cls, values: dict[str, str | None]) -> Links:
        raw = values.get("refresh")
        if raw is not None and not (raw.isascii() and raw.isdigit() and len(raw) < 6):
            raise InvalidInputError("PIPELINELIB_BOARD_REFRESH must be a number of seconds")
        return cls(values.get("build"), values.get("commit"), int(raw) if raw else DEFAULT_REFRESH)

    def build(self, job: str, number: int, recorded_url: str | None = None) -> str | None:
        """The Jenkins build page: the template when set, else the build's recorded http(s)
        ``url``, else None."""
        if self.build_template is not None:
            url = self.build_template.format(
                job=quote(job, safe="/"),
                job_path="/".join(f"job/{quote(part, safe='')}" for part in job.split("/")),
                number=number,
            )
            return url if is_http_url(url) else None
        return recorded_url if is_http_url(recorded_url) else None

    def commit(self, service: str, commit: str | None) -> str | None:
        if self.commit_template is None or not commit:
            return None
        url = self.commit_template.format(
            service=quote(service, safe=""), commit=quote(commit, safe="")
        )
        return url if is_http_url(url) else None
