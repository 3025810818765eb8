"""Publishing a service build: ``publish-artifact`` and the build's display name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from pipelinelib import files, git
from pipelinelib.errors import (
    ArtifactFormatError,
    InvalidInputError,
    NotFoundError,
    PipelinelibError,
    VerificationError,
)
from pipelinelib.formats import groovy
from pipelinelib.formats import manifest as manifest_json
from pipelinelib.model import (
    MAX_TEXT,
    Manifest,
    ServiceBuild,
    validate_build_number,
    validate_job_name,
    validate_service_name,
)
from pipelinelib.store import ManifestStore
from pipelinelib.textfit import fit_display_name, fit_store_text

if TYPE_CHECKING:
    from pipelinelib.aws.session import Aws
    from pipelinelib.jenkins.client import JenkinsClient


@attrs.frozen
class PublishResult:
    manifest: Manifest
    env_file: Path
    manifest_file: Path
    created: bool | None  # None when not registered
    warnings: tuple[str, ...] = ()  # e.g. the digest could not be resolved


def publish_artifact(
    *,
    service: str,
    build: int | str,
    job: str,
    output_dir: Path,
    image: str | None = None,
    digest: str | None = None,
    commit: str | None = None,
    message: str | None = None,
    commit_time: str | None = None,
    url: str | None = None,
    workdir: Path | None = None,
    store: ManifestStore | None = None,
    resolve_digest: bool = False,
    aws: Aws | None = None,
    legacy_keys: Sequence[str] = (),
) -> PublishResult:
    """Write ``<service>.env.groovy`` and ``<service>.manifest.json``; register the build.

    ``legacy_keys`` (``["SERVICE1"]``) adds the variables again under those keys, so deploy
    jobs that still read ``env.SERVICE1_BUILD`` see this build during a migration.

    Commit and message default to the workspace's git, the way the old pipelines read them;
    ``commit_time`` (RFC 3339) to the commit's time there (``git log -1 --format=%cI``), or
    None when git does not know the commit (the start of the lead time for changes).
    Files are written before registering: a failed registration leaves files that a retry
    rewrites identically, and the store answers an identical replay as a no-op.

    With ``resolve_digest`` and an ECR ``image`` but no ``digest``, ECR is asked for the digest
    the tag points at (see :func:`resolve_image_digest`).
    """
    validate_service_name(service)
    warnings: tuple[str, ...] = ()
    if resolve_digest and image is not None and digest is None:
        digest, warning = resolve_image_digest(image, aws=aws)
        warnings = (warning,) if warning else ()
    if commit is None:
        commit = git.head_commit(workdir)
    if message is None:
        message = git.head_message(workdir)
    if commit_time is None:
        commit_time = git.commit_time(commit, workdir)
    # Longer than the store keeps: cut and marked, never refused (the image is already pushed).
    message = fit_store_text(message, MAX_TEXT)
    entry = ServiceBuild(
        name=service,
        build=build,
        image=image,
        digest=digest,
        commit=commit,
        commit_message=message,
        commit_time=commit_time,
    )
    manifest = Manifest(
        job=job,
        number=entry.build,
        display_name=message.strip() or None,
        result="SUCCESS",
        url=url,
        services=[entry],
    )
    env_file = files.write_atomic(
        output_dir / f"{service}.env.groovy",
        groovy.render_env_groovy([entry]) + groovy.render_legacy_aliases(entry, legacy_keys),
    )
    manifest_file = files.write_atomic(
        output_dir / f"{service}.manifest.json", manifest_json.dumps(manifest)
    )
    check_artifacts_loadable(manifest, env_file, manifest_file, legacy_keys)
    created = store.publish(manifest) if store is not None else None
    return PublishResult(manifest, env_file, manifest_file, created, warnings)


def check_artifacts_loadable(
    manifest: Manifest, env_file: Path, manifest_file: Path, legacy_keys: Sequence[str] = ()
) -> None:
    """Read back what was written, as its consumers will, before anything is registered.

    The env.groovy must parse to exactly the variables rendered (each within the Groovy constant
    limit, :mod:`pipelinelib.textfit`), the ``legacy_keys`` aliases included, and the manifest
    file must give back the same manifest.
    Raises :class:`ArtifactFormatError` naming the file otherwise.
    """
    expected: dict[str, str] = {}
    for entry in manifest.services.values():
        expected.update(groovy.service_variables(entry))
        expected.update(groovy.legacy_alias_variables(entry, legacy_keys))
    loaded = groovy.parse_env_groovy(files.read_text(env_file), str(env_file))
    if loaded != expected:
        raise ArtifactFormatError(f"{env_file}: does not read back as written; nothing registered")
    if manifest_json.read(manifest_file) != manifest:
        raise ArtifactFormatError(
            f"{manifest_file}: does not read back as written; nothing registered"
        )


def resolve_image_digest(image: str, *, aws: Aws | None = None) -> tuple[str | None, str | None]:
    """``(digest, warning)`` for an image about to be published.

    * not an ECR image: ``(None, None)``, nothing to ask;
    * a digest in the URI (``REPO@sha256:...``): that digest;
    * ECR knows the tag: its digest;
    * ECR answers that the repository or tag does not exist: :class:`VerificationError`, since
      publishing a build whose image was never pushed is the failure this guards against;
    * ECR cannot answer (no credentials, access denied, throttled, unreachable): ``(None,
      warning)``: the build is published without a digest rather than failed by an AWS outage.
    """
    from pipelinelib.aws import ecr

    ref = ecr.parse_image(image)
    if not ref.is_ecr:
        return None, None
    if ref.digest:
        return ref.digest, None
    try:
        return ecr.image_digest(image, aws=aws), None
    except NotFoundError as exc:
        raise VerificationError(
            f"{exc}: was it pushed? (publish-artifact --no-resolve-digest skips this check)"
        ) from exc
    except PipelinelibError as exc:
        return None, f"could not resolve the digest of {image} ({exc}); published without a digest"


@attrs.frozen
class DisplayNameResult:
    job: str
    number: int
    name: str
    recorded: bool | None  # None: no store configured; False: the store does not know the build


def jenkins_display_name(text: str) -> str:
    """``text`` trimmed and cut to what Jenkins accepts as a display name (marked when cut).

    See :func:`pipelinelib.textfit.fit_display_name` for the limit and its source.
    """
    return fit_display_name(text.strip())


def set_display_name(
    jenkins: JenkinsClient,
    *,
    job: str,
    build: int | str,
    name: str,
    store: ManifestStore | None = None,
) -> DisplayNameResult:
    """Set the Jenkins build's display name, then record it in the store when one is given.

    Jenkins first: it is what people see. A build the store does not know yet (the usual case
    when the name is set at the start of a build, before publish-artifact) is not an error:
    publish-artifact records the same name with the manifest.
    """
    number = validate_build_number(build)
    validate_job_name(job)
    if not name.strip():
        raise InvalidInputError(
            "the display name is empty (Jenkins would show #NUMBER); pass --name or commit a message"
        )
    name = jenkins_display_name(name)
    jenkins.set_display_name(job, number, name)
    recorded: bool | None = None
    if store is not None:
        try:
            store.set_display_name(job, number, name)
            recorded = True
        except NotFoundError:
            recorded = False
    return DisplayNameResult(job, number, name, recorded)


def register_build(store: ManifestStore, manifest: Manifest) -> bool:
    """Record a build's manifest: True when created, False for an identical replay (a no-op).

    ConflictError when the job and number are already recorded with other content; for a
    deployment, the errors of the promotion rules the store enforces (docs/promotion.md).
    """
    return store.publish(manifest)


def check_build(store: ManifestStore, manifest: Manifest) -> bool:
    """Whether :func:`register_build` would create the build, recording nothing
    (``record-deployment --check``). The errors :func:`register_build` would raise;
    InvalidInputError when the store cannot check without recording."""
    check = getattr(store, "check_publish", None)
    if check is None:
        raise InvalidInputError("this store cannot check without recording")
    return bool(check(manifest))


def record_display_name(store: ManifestStore, job: str, build: int, name: str) -> Manifest:
    """Record a build's display name in the store (not in Jenkins: see
    :func:`set_display_name`) and return the build's manifest. NotFoundError when the store
    does not know the build."""
    store.set_display_name(validate_job_name(job), build, name)
    return store.get_build(job, build)
