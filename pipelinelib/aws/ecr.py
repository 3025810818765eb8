"""Amazon ECR: image references, verifying that a manifest's images exist, and digests.

Deploying a tag that was never pushed (or was pushed again with other content) is the failure
:func:`verify_images` guards against before ``terraform apply``. Functions return the frozen
models below, never response dicts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs

from pipelinelib.aws.session import Aws, aws_errors
from pipelinelib.errors import InvalidInputError, NotFoundError, VerificationError
from pipelinelib.model import DIGEST_RE, Manifest, ServiceBuild

DESCRIBE_IMAGES_BATCH = 100  # DescribeImages accepts at most 100 imageIds

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
