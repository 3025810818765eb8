"""The values pipelinelib moves around: frozen, validated at construction, never raw dicts.

Everything that reaches these classes may come from people (commit messages, display names) or
other systems (Jenkins, HTTP bodies), so every constructor validates, and text is normalised once
here so that the manifest JSON, the env.groovy files and the store all agree on one value:

* lone UTF-16 surrogates (what Python's ``surrogateescape`` makes of invalid UTF-8) and U+FFFF
  (the end-of-input sentinel of Groovy's lexer, which no Groovy literal can carry) become U+FFFD;
* everything else, NUL and other control characters included, is kept as it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import attrs

from pipelinelib.errors import InvalidInputError, InvalidNameError
from pipelinelib.textfit import CHOICE_SUBJECT_CHARS, fit_subject

SERVICE_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
ENVIRONMENT_NAME_RE = SERVICE_NAME_RE
# Job names: what Jenkins itself can produce (see validate_job_name for the sources).
_JOB_SEGMENT_FORBIDDEN = frozenset("?*/\\!@#$^&|<>[]:;")  # Jenkins.checkGoodName, less '%'
_NAME_ENCODER_RAW = frozenset("/?#[]\\")  # never raw in a NameEncoder-encoded branch name
_PERCENT_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Characters that are never part of a name a person can read and type: bidi overrides and
# isolates, zero-width characters, the BOM, line/paragraph separators, noncharacters.
_INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff\u2028\u2029\ufffe\uffff"
)
MAX_JOB_NAME = 255
MAX_BUILD_NUMBER = 2**31 - 1  # Jenkins stores build numbers in a Java int
# Commit messages and display names, in characters, as the store keeps them whole. Longer text is
# cut (marked) by publish-artifact, never refused; every other consumer gets a shorter cut copy
# (pipelinelib.textfit). 262,144 characters of ASCII keep a manifest under the service's 1 MiB body.
MAX_TEXT = 262_144
MAX_SUBJECT = CHOICE_SUBJECT_CHARS
RESULTS = ("SUCCESS", "UNSTABLE", "FAILURE", "ABORTED", "NOT_BUILT")
DIGEST_RE = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,256}")
COMMIT_RE = re.compile(r"[0-9a-f]{7,64}")
IMAGE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,511}")

_SURROGATES_AND_FFFF = re.compile("[\ud800-\udfff\uffff]")


_JAVA_BLANKS = "".join(map(chr, range(0x21)))


def java_trim(value: str) -> str:
    """``value`` without leading and trailing characters up to U+0020, as Java's
    ``String.trim()`` (which Jenkins and groovy/src/io/pipelinelib/Args.groovy use) removes them;
    ``str.strip()`` would also remove U+00A0 and the other Unicode spaces."""
    return value.strip(_JAVA_BLANKS)


def clean_text(value: str) -> str:
    """Replace what no env.groovy literal can carry (see the module docstring) with U+FFFD."""
    return _SURROGATES_AND_FFFF.sub("\ufffd", value)


def validate_service_name(name: str) -> str:
    if not isinstance(name, str) or not SERVICE_NAME_RE.fullmatch(name):
        raise InvalidNameError(
            f"invalid service name {name!r}: use 1-63 characters a-z, 0-9, '-' and '_', "
            "starting with a letter or digit",
            name=name,
        )
    return name


def validate_environment_name(name: str) -> str:
    if not isinstance(name, str) or not ENVIRONMENT_NAME_RE.fullmatch(name):
        raise InvalidNameError(
            f"invalid environment name {name!r}: use 1-63 characters a-z, 0-9, '-' and '_', "
            "starting with a letter or digit",
            name=name,
        )
    return name


def _job_segment_problem(segment: str) -> str | None:
    if segment in ("", ".", ".."):
        return "empty, '.' and '..' folder segments are not allowed"
    if segment != java_trim(segment):
        return "a segment starts or ends with white space"
    for ch in segment:
        category = unicodedata.category(ch)
        if category == "Cs":
            return f"it holds a lone surrogate (U+{ord(ch):04X}), which no text encoding can carry"
        if category in ("Cc", "Cf") or ch in _INVISIBLE:
            return f"it holds the invisible or control character U+{ord(ch):04X}"
    if _PERCENT_ESCAPE.search(segment):
        return "'%' is only allowed as an escape such as %2F (multibranch NameEncoder)"
    if "%" in segment:  # an encoded multibranch branch: NameEncoder leaves all but 7 characters
        bad = sorted({c for c in segment if c in _NAME_ENCODER_RAW})
    else:
        bad = sorted({c for c in segment if c in _JOB_SEGMENT_FORBIDDEN})
    if bad:
        return f"characters {''.join(bad)!r} are not allowed"
    return None


def validate_job_name(name: str) -> str:
    """A Jenkins full name: folder segments joined by ``/``, each a name Jenkins can produce.

    The one job-name rule of pipelinelib (CLI options, HTTP routes, manifests, the store). A
    segment is accepted when Jenkins itself can create it:

    * a name typed by a person passes ``jenkins.model.Jenkins#checkGoodName`` (core, used by
      ``ItemGroupMixIn#createTopLevelItem``): not empty, not ``.``/``..``, no ISO control
      character, none of ``?*/\\%!@#$^&|<>[]:;``. Spaces, quotes and any other Unicode are fine;
    * a multibranch branch or pull request is named by ``jenkins.branch.NameEncoder#encode``
      (branch-api): ``/ ? # [ ] \\ %`` become ``%2F %3F %23 %5B %5D %5C %25`` and everything else
      is kept, so a segment with a ``%XX`` escape may hold ``!@$^&|<>:;*`` too
      (``team/service1/feature%2Flogin``).

    Refused as never a name (Jenkins could store them, but no person can read or type them, and
    they break databases and logs): lone UTF-16 surrogates, format characters (bidi controls such
    as U+202E, zero-width characters, the BOM), line/paragraph separators, noncharacters, and
    white space at either end of a segment. At most 255 characters (the store's column).

    Raises :class:`InvalidNameError` saying what is wrong.
    """
    if not isinstance(name, str) or not name:
        raise InvalidNameError("job name must not be empty", name=name)
    if len(name) > MAX_JOB_NAME:
        raise InvalidNameError(f"job name is longer than {MAX_JOB_NAME} characters", name=name)
    for segment in name.split("/"):
        problem = _job_segment_problem(segment)
        if problem is not None:
            shown = (
                name.encode("unicode_escape").decode("ascii") if not name.isprintable() else name
            )
            raise InvalidNameError(f"invalid job name {shown!r}: {problem}", name=shown)
    return name


def validate_build_number(value: Any, what: str = "build number") -> int:
    """Accept ints and decimal strings (as Jenkins' BUILD_NUMBER is); refuse everything else."""
    if isinstance(value, bool):
        raise InvalidInputError(f"{what} must be a positive integer, not {value!r}")
    if isinstance(value, str):
        text = java_trim(value)
        if not text.isascii() or not text.isdigit():
            raise InvalidInputError(f"{what} must be a positive integer, not {value!r}")
        if len(text) > 10:
            raise InvalidInputError(f"{what} {value!r} is larger than {MAX_BUILD_NUMBER}")
        value = int(text)
    if not isinstance(value, int):
        raise InvalidInputError(f"{what} must be a positive integer, not {value!r}")
    if not 1 <= value <= MAX_BUILD_NUMBER:
        raise InvalidInputError(f"{what} must be between 1 and {MAX_BUILD_NUMBER}, not {value}")
    return value


def env_key(service: str) -> str:
    """``order-api`` -> ``ORDER_API``: the prefix of a service's variables in env.groovy."""
    return validate_service_name(service).upper().replace("-", "_")


#: Unicode's general category Cc ("control"), which is exactly U+0000-U+001F and U+007F-U+009F
#: (Unicode 15, UnicodeData.txt); tests/unit check it against unicodedata for every code point.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def subject_of(display_name: str | None, number: int) -> str:
    """The first line of a display name, control characters removed, at most 120 characters.

    A longer line is cut to 119 characters and ``…`` (:func:`pipelinelib.textfit.fit_subject`).

    A build without a display name is shown by Jenkins as ``#NUMBER``; so are we.
    """
    if display_name is None:
        return f"#{number}"
    lines = display_name.strip().splitlines()
    first = lines[0] if lines else ""
    first = CONTROL_CHARACTERS.sub("", first).strip()
    return fit_subject(first) if first else f"#{number}"


def _text(value: Any, limit: int, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, not {type(value).__name__}")
    if len(value) > limit:
        raise InvalidInputError(f"{what} is longer than {limit} characters")
    return clean_text(value)


def _pattern(value: Any, regex: re.Pattern[str], what: str, hint: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not regex.fullmatch(value):
        raise InvalidInputError(f"invalid {what} {value!r}: {hint}")
    return value


def _image(value: Any) -> str | None:
    return _pattern(value, IMAGE_RE, "image", "expected a registry/repository:tag reference")


def _digest(value: Any) -> str | None:
    return _pattern(value, DIGEST_RE, "digest", "expected algorithm:hex such as sha256:...")


def _commit(value: Any) -> str | None:
    return _pattern(value, COMMIT_RE, "commit", "expected 7-64 lower-case hex digits")


def _commit_message(value: Any) -> str | None:
    return _text(value, MAX_TEXT, "commit message")


def _instant(value: Any, field: str) -> str | None:
    """RFC 3339 with an offset, kept as text so the manifest's content hash is stable;
    normalised to UTC ``...Z`` so equal instants compare equal."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInputError(f"{field} must be an RFC 3339 date-time text")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            f"{field} must be an RFC 3339 date-time such as 2026-11-29T10:00:00Z, "
            f"not {value[:40]!r}"
        ) from None
    if parsed.tzinfo is None:
        raise InvalidInputError(f"{field} {value[:40]!r} needs an offset (Z or +HH:MM)")
    return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _commit_time(value: Any) -> str | None:
    """``git log --format=%cI``: see :func:`_instant`."""
    return _instant(value, "commit_time")


def _started_at(value: Any) -> str | None:
    """When the deploy build started (Jenkins ``currentBuild.startTimeInMillis``)."""
    return _instant(value, "deployment.started_at")


def _display_name(value: Any) -> str | None:
    return _text(value, MAX_TEXT, "display name")


def _url(value: Any) -> str | None:
    """An absolute ``http(s)://host/...`` URL (Jenkins' BUILD_URL), at most 2,048 characters.

    Anything else (``javascript:``, ``data:``, relative or schemeless text) would become a link
    on the board that runs or goes somewhere unintended, so it is refused.
    """
    text = _text(value, 2048, "url")
    if text is None:
        return None
    if not _HTTP_URL_RE.fullmatch(text):
        raise InvalidInputError(
            f"url must be an absolute http:// or https:// URL such as Jenkins' BUILD_URL, "
            f"not {text[:80]!r}"
        )
    return text


# scheme, then a host of URL characters (no white space, no control or quote characters)
_HTTP_URL_RE = re.compile(
    r"https?://[A-Za-z0-9._~%!$&'()*+,;=:@\[\]-]+(?:[/?#][^\s\x00-\x1f\x7f\"<>\\^`{|}]*)?", re.I
)


@attrs.frozen
class ServiceBuild:
    """One service's image as a build produced it."""

    name: str = attrs.field(converter=validate_service_name)
    build: int = attrs.field(converter=validate_build_number)
    image: str | None = attrs.field(default=None, converter=_image)
    digest: str | None = attrs.field(default=None, converter=_digest)
    commit: str | None = attrs.field(default=None, converter=_commit)
    commit_message: str | None = attrs.field(default=None, converter=_commit_message)
    # When the commit was made (RFC 3339, UTC); the start of DORA's lead time for changes.
    # Optional and written only when known, so manifests recorded before keep their hash.
    commit_time: str | None = attrs.field(default=None, converter=_commit_time)

    @property
    def committed_at(self) -> datetime | None:
        return datetime.fromisoformat(self.commit_time) if self.commit_time else None

    @property
    def env_key(self) -> str:
        return env_key(self.name)

    @property
    def subject(self) -> str:
        return subject_of(self.commit_message, self.build)

    def to_dict(self) -> dict[str, Any]:
        return {
            "build": self.build,
            "image": self.image,
            "digest": self.digest,
            "commit": self.commit,
            "commit_message": self.commit_message,
            **({"commit_time": self.commit_time} if self.commit_time else {}),
        }

    @classmethod
    def from_dict(cls, name: str, data: Any) -> ServiceBuild:
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"services.{name} must be an object")
        unknown = set(data) - {
            "build",
            "image",
            "digest",
            "commit",
            "commit_message",
            "commit_time",
        }
        if unknown:
            raise InvalidInputError(f"services.{name}: unknown fields {sorted(unknown)}")
        if "build" not in data:
            raise InvalidInputError(f"services.{name}.build is required")
        if not isinstance(data["build"], int):
            raise InvalidInputError(f"services.{name}.build must be an integer")
        return cls(
            name=name,
            build=data["build"],
            image=data.get("image"),
            digest=data.get("digest"),
            commit=data.get("commit"),
            commit_message=data.get("commit_message"),
            commit_time=data.get("commit_time"),
        )


@attrs.frozen
class SourceRef:
    """The upstream build a deployment imported its manifest from."""

    job: str = attrs.field(converter=validate_job_name)
    number: int = attrs.field(converter=validate_build_number)

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job, "number": self.number}


def _services(value: Any) -> Mapping[str, ServiceBuild]:
    if isinstance(value, Mapping):
        items: Iterable[ServiceBuild] = value.values()
    else:
        items = value
    by_name: dict[str, ServiceBuild] = {}
    keys: dict[str, str] = {}
    for service in items:
        if not isinstance(service, ServiceBuild):
            raise InvalidInputError("services must be ServiceBuild values")
        if service.name in by_name:
            raise InvalidInputError(f"service {service.name!r} appears twice")
        other = keys.get(service.env_key)
        if other is not None:
            raise InvalidInputError(
                f"services {other!r} and {service.name!r} share the env prefix "
                f"{service.env_key}; rename one of them"
            )
        keys[service.env_key] = service.name
        by_name[service.name] = service
    return MappingProxyType(dict(sorted(by_name.items())))


def _result(value: Any) -> str:
    if value not in RESULTS:
        raise InvalidInputError(f"result must be one of {', '.join(RESULTS)}, not {value!r}")
    return str(value)


def _overrides(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInputError("deployment.overrides must be a list of service names")
    return tuple(sorted({validate_service_name(v) for v in value}))


def _rollout(value: Any) -> Mapping[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidInputError("deployment.rollout must be an object of service: state")
    # The rollout vocabulary has one owner, pipelinelib.aws.ecs (it imports this module, so it is
    # imported here, when a deployment's rollout is read; it loads no AWS library).
    from pipelinelib.aws.ecs import ECS_SERVICE_RE, ROLLOUT_STATES

    for name, state in value.items():
        if not isinstance(name, str) or not ECS_SERVICE_RE.fullmatch(name):
            raise InvalidInputError(f"deployment.rollout: {name!r} is not an ECS service name")
        if state not in ROLLOUT_STATES:
            raise InvalidInputError(
                f"deployment.rollout.{name} must be one of {', '.join(ROLLOUT_STATES)}"
            )
    return MappingProxyType(dict(sorted(value.items())))


def _deployed_by(value: Any) -> str | None:
    return _text(value, 255, "deployment.deployed_by")


DEPLOYMENT_KINDS = ("deploy", "rollback")
MAX_REASON = 1000
IDENTITY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,254}")


def validate_identity(value: Any, what: str = "identity") -> str:
    """Who did something: a token's identity, a Jenkins user id or a lock holder (1-255
    characters: letters, digits and ``. _ @ + -``; a job build is written ``JOB#N``)."""
    if not isinstance(value, str) or not IDENTITY_RE.fullmatch(value):
        raise InvalidInputError(
            f"invalid {what} {value!r}: use 1-255 letters, digits and . _ @ + -", name=value
        )
    return value


def validate_reason(value: Any, what: str = "reason") -> str:
    """A reason a person gives (lock, override, rollback): non-empty text, at most 1000 chars."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{what} must be a non-empty text")
    if len(value) > MAX_REASON:
        raise InvalidInputError(f"{what} is longer than {MAX_REASON} characters")
    return clean_text(value.strip())


def _reason(value: Any) -> str | None:
    return None if value is None else validate_reason(value, "reason")


def _comment(value: Any) -> str | None:
    return None if value is None else validate_reason(value, "comment")


def _skip_order(value: Any) -> str | None:
    return None if value is None else validate_reason(value, "the --skip-order reason")


def _override_freeze(value: Any) -> str | None:
    return None if value is None else validate_reason(value, "the --override-freeze reason")


def _approver(value: Any) -> str:
    return validate_identity(value, "approver")


def _approval_time(value: Any) -> str:
    return _text(value, 64, "approval time") or ""


MAX_HOLDER = 300


def validate_holder(value: Any) -> str:
    """A lock holder: a person's identity or a build (``deploy-live#12``); printable text."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_HOLDER:
        raise InvalidInputError(f"a lock holder must be 1-{MAX_HOLDER} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in value):
        raise InvalidInputError(f"lock holder {value!r} contains control characters")
    return value.strip()


def _requested_by(value: Any) -> str | None:
    return None if value is None else validate_identity(value, "requested_by")


def _requested_via(value: Any) -> str | None:
    return None if value is None else validate_identity(value, "requested_via")


def _holder(value: Any) -> str | None:
    return None if value is None else validate_holder(value)


def _kind(value: Any) -> str:
    if value not in DEPLOYMENT_KINDS:
        raise InvalidInputError(f"deployment.kind must be one of {', '.join(DEPLOYMENT_KINDS)}")
    return str(value)


@attrs.frozen
class Approval:
    """One recorded approval of a deployment to a protected environment.

    ``at`` is the RFC 3339 UTC time the store recorded it (text, so the manifest's content hash
    is stable); ``by`` is the approver's identity, never the requester's.
    """

    by: str = attrs.field(converter=_approver)
    at: str = attrs.field(converter=_approval_time)
    comment: str | None = attrs.field(default=None, converter=_comment)

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "at": self.at, "comment": self.comment}

    @classmethod
    def from_dict(cls, data: Any) -> Approval:
        if not isinstance(data, Mapping) or set(data) - {"by", "at", "comment"}:
            raise InvalidInputError("an approval must be {by, at, comment}")
        if "by" not in data or "at" not in data:
            raise InvalidInputError("an approval needs 'by' and 'at'")
        return cls(by=data["by"], at=data["at"], comment=data.get("comment"))


def _approvals(value: Any) -> tuple[Approval, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInputError("deployment.approvals must be a list")
    items = tuple(v if isinstance(v, Approval) else Approval.from_dict(v) for v in value)
    if len({a.by for a in items}) != len(items):
        raise InvalidInputError("deployment.approvals: one approval per identity")
    return items


_DEPLOYMENT_FIELDS = {
    "deployed_by",
    "overrides",
    "rollout",
    "kind",
    "reason",
    "requested_by",
    "approvals",
    "skip_order",
    "override_freeze",
    "lock",
    "started_at",
}


@attrs.frozen(eq=True, hash=False)
class DeploymentInfo:
    """What a deploy build adds to the manifest it deployed (an addition to the contract).

    ``overrides`` names the services whose build was replaced at import (``--override S=N``):
    only those may differ from the source build. ``rollout`` is the ECS outcome per service.

    Promotion control (docs/promotion.md): ``kind`` is ``deploy`` or ``rollback`` (a rollback's
    source is an earlier deployment of the same environment); ``reason`` why (a rollback's);
    ``requested_by`` who asked for it; ``approvals`` the recorded approvals it went out with;
    ``skip_order`` / ``override_freeze`` the reasons given for skipping the declared upstream
    or deploying inside a freeze window; ``lock`` the holder of the environment lock it held;
    ``started_at`` when the deploy build started (RFC 3339; history's duration).
    The new fields appear in JSON only when set, so manifests recorded before keep their hash.
    """

    deployed_by: str | None = attrs.field(default=None, converter=_deployed_by)
    overrides: tuple[str, ...] = attrs.field(default=(), converter=_overrides)
    rollout: Mapping[str, str] | None = attrs.field(default=None, converter=_rollout)
    kind: str = attrs.field(default="deploy", converter=_kind)
    reason: str | None = attrs.field(default=None, converter=_reason)
    requested_by: str | None = attrs.field(default=None, converter=_requested_by)
    approvals: tuple[Approval, ...] = attrs.field(default=(), converter=_approvals)
    skip_order: str | None = attrs.field(default=None, converter=_skip_order)
    override_freeze: str | None = attrs.field(default=None, converter=_override_freeze)
    lock: str | None = attrs.field(default=None, converter=_holder)
    started_at: str | None = attrs.field(default=None, converter=_started_at)

    @property
    def is_rollback(self) -> bool:
        return self.kind == "rollback"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "deployed_by": self.deployed_by,
            "overrides": list(self.overrides),
            "rollout": dict(self.rollout) if self.rollout is not None else None,
        }
        if self.kind != "deploy":
            data["kind"] = self.kind
        for key in (
            "reason",
            "requested_by",
            "skip_order",
            "override_freeze",
            "lock",
            "started_at",
        ):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.approvals:
            data["approvals"] = [a.to_dict() for a in self.approvals]
        return data

    @classmethod
    def from_dict(cls, data: Any) -> DeploymentInfo:
        if not isinstance(data, Mapping):
            raise InvalidInputError("manifest field 'deployment' must be an object or null")
        unknown = set(data) - _DEPLOYMENT_FIELDS
        if unknown:
            raise InvalidInputError(f"unknown deployment fields: {sorted(unknown)}")
        return cls(
            deployed_by=data.get("deployed_by"),
            overrides=data.get("overrides"),
            rollout=data.get("rollout"),
            kind=data.get("kind", "deploy"),
            reason=data.get("reason"),
            requested_by=data.get("requested_by"),
            approvals=data.get("approvals"),
            skip_order=data.get("skip_order"),
            override_freeze=data.get("override_freeze"),
            lock=data.get("lock"),
            started_at=data.get("started_at"),
        )


_MANIFEST_FIELDS = {
    "deployment",
    "job",
    "number",
    "display_name",
    "result",
    "environment",
    "source",
    "url",
    "services",
}


@attrs.frozen(eq=True, hash=False)
class Manifest:
    """What one build produced or deployed. Immutable: promotion copies it unchanged."""

    job: str = attrs.field(converter=validate_job_name)
    number: int = attrs.field(converter=validate_build_number)
    services: Mapping[str, ServiceBuild] = attrs.field(converter=_services)
    display_name: str | None = attrs.field(default=None, converter=_display_name)
    result: str = attrs.field(default="SUCCESS", converter=_result)
    environment: str | None = attrs.field(
        default=None,
        converter=attrs.converters.optional(validate_environment_name),
    )
    source: SourceRef | None = None
    deployment: DeploymentInfo | None = None
    url: str | None = attrs.field(default=None, converter=_url)

    @property
    def is_successful(self) -> bool:
        return self.result == "SUCCESS"

    @property
    def is_deployment(self) -> bool:
        return self.environment is not None

    @property
    def subject(self) -> str:
        return subject_of(self.display_name, self.number)

    @property
    def choice(self) -> Choice:
        return Choice(self.number, self.subject)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "number": self.number,
            "display_name": self.display_name,
            "result": self.result,
            "environment": self.environment,
            "source": self.source.to_dict() if self.source else None,
            "url": self.url,
            "services": {name: s.to_dict() for name, s in self.services.items()},
            **({"deployment": self.deployment.to_dict()} if self.deployment else {}),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        """Build from untrusted JSON: unknown fields and wrong types are errors, not guesses."""
        if not isinstance(data, Mapping):
            raise InvalidInputError("a manifest must be a JSON object")
        unknown = set(data) - _MANIFEST_FIELDS
        if unknown:
            raise InvalidInputError(f"unknown manifest fields: {sorted(unknown)}")
        for required in ("job", "number", "services"):
            if required not in data:
                raise InvalidInputError(f"manifest field {required!r} is required")
        if not isinstance(data["number"], int) or isinstance(data["number"], bool):
            raise InvalidInputError("manifest field 'number' must be an integer")
        services = data["services"]
        if not isinstance(services, Mapping):
            raise InvalidInputError("manifest field 'services' must be an object")
        source = data.get("source")
        source_ref = None
        if source is not None:
            if not isinstance(source, Mapping) or set(source) != {"job", "number"}:
                raise InvalidInputError("manifest field 'source' must be {job, number} or null")
            if not isinstance(source["number"], int) or isinstance(source["number"], bool):
                raise InvalidInputError("source.number must be an integer")
            source_ref = SourceRef(job=source["job"], number=source["number"])
        for name in services:
            if not isinstance(name, str):
                raise InvalidInputError("service names must be strings")
        return cls(
            job=data["job"],
            number=data["number"],
            display_name=data.get("display_name"),
            result=data.get("result", "SUCCESS"),
            environment=data.get("environment"),
            source=source_ref,
            deployment=(
                DeploymentInfo.from_dict(data["deployment"])
                if data.get("deployment") is not None
                else None
            ),
            url=data.get("url"),
            services=[ServiceBuild.from_dict(name, body) for name, body in services.items()],
        )


@attrs.frozen
class Choice:
    """``NUMBER-SUBJECT``, what a person picks in a choice parameter."""

    number: int = attrs.field(converter=validate_build_number)
    subject: str = ""

    def __str__(self) -> str:
        return f"{self.number}-{self.subject}" if self.subject else str(self.number)

    @classmethod
    def parse(cls, text: str) -> Choice:
        """Take the text before the first '-' as the number; the subject may contain '-'."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError("a choice must look like NUMBER-SUBJECT, got nothing")
        number, _, subject = text.strip().partition("-")
        try:
            return cls(number=validate_build_number(number, "choice number"), subject=subject)
        except InvalidInputError:
            raise InvalidInputError(
                f"invalid choice {text!r}: expected NUMBER-SUBJECT such as '12-Fix login'"
            ) from None


@attrs.frozen
class Lock:
    """An environment lock: held by ``holder`` until ``expires_at`` (RFC 3339 UTC text).

    ``expired`` is computed by whoever read it, at the time it was read.
    """

    environment: str = attrs.field(converter=validate_environment_name)
    holder: str = attrs.field(converter=validate_holder)
    reason: str = attrs.field(converter=validate_reason)
    acquired_at: str
    expires_at: str
    expired: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "holder": self.holder,
            "reason": self.reason,
            "acquired_at": self.acquired_at,
            "expires_at": self.expires_at,
            "expired": self.expired,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Lock:
        if not isinstance(data, Mapping):
            raise InvalidInputError("a lock must be an object")
        try:
            return cls(
                environment=data["environment"],
                holder=data["holder"],
                reason=data["reason"],
                acquired_at=str(data["acquired_at"]),
                expires_at=str(data["expires_at"]),
                expired=bool(data.get("expired", False)),
            )
        except KeyError as exc:
            raise InvalidInputError(f"a lock needs {exc.args[0]!r}") from None


@attrs.frozen
class ApprovalRequest:
    """A deployment waiting for approvals: deploy build ``job #number`` to ``environment``.

    ``requested_by`` is who asked (Jenkins' BUILD_USER_ID); ``requested_via`` the identity of
    the token that recorded the request. Neither may approve it.
    """

    environment: str = attrs.field(converter=validate_environment_name)
    job: str = attrs.field(converter=validate_job_name)
    number: int = attrs.field(converter=validate_build_number)
    requested_by: str = attrs.field(converter=validate_identity)
    requested_via: str | None = attrs.field(default=None, converter=_requested_via)
    requested_at: str = ""
    required: int = 0
    approvals: tuple[Approval, ...] = attrs.field(default=(), converter=_approvals)

    @property
    def is_approved(self) -> bool:
        return len(self.approvals) >= self.required

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "job": self.job,
            "number": self.number,
            "requested_by": self.requested_by,
            "requested_via": self.requested_via,
            "requested_at": self.requested_at,
            "required": self.required,
            "approved": self.is_approved,
            "approvals": [a.to_dict() for a in self.approvals],
        }

    @classmethod
    def from_dict(cls, data: Any) -> ApprovalRequest:
        if not isinstance(data, Mapping):
            raise InvalidInputError("an approval request must be an object")
        try:
            return cls(
                environment=data["environment"],
                job=data["job"],
                number=data["number"],
                requested_by=data["requested_by"],
                requested_via=data.get("requested_via"),
                requested_at=str(data.get("requested_at", "")),
                required=int(data.get("required", 0)),
                approvals=data.get("approvals"),
            )
        except KeyError as exc:
            raise InvalidInputError(f"an approval request needs {exc.args[0]!r}") from None
