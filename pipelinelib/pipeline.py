"""Use cases: what a build or deploy job does, independent of the CLI that drives it.

Each function takes plain values and a store, and returns models; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
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
    Manifest,
    ServiceBuild,
    validate_build_number,
    validate_job_name,
    validate_service_name,
)
from pipelinelib.orchestrate import (
    Orchestration,
    execute,
    plan_orchestration,
    validate_request,
)
from pipelinelib.store import ManifestStore

if TYPE_CHECKING:
    from pipelinelib.aws import Aws, ImageVerification
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
    url: str | None = None,
    workdir: Path | None = None,
    store: ManifestStore | None = None,
    resolve_digest: bool = False,
    aws: Aws | None = None,
) -> PublishResult:
    """Write ``<service>.env.groovy`` and ``<service>.manifest.json``; register the build.

    Commit and message default to the workspace's git, the way the old pipelines read them.
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
    entry = ServiceBuild(
        name=service,
        build=build,
        image=image,
        digest=digest,
        commit=commit,
        commit_message=message,
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
        output_dir / f"{service}.env.groovy", groovy.render_env_groovy([entry])
    )
    manifest_file = files.write_atomic(
        output_dir / f"{service}.manifest.json", manifest_json.dumps(manifest)
    )
    created = store.publish(manifest) if store is not None else None
    return PublishResult(manifest, env_file, manifest_file, created, warnings)


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
    from pipelinelib import aws as aws_mod

    ref = aws_mod.parse_image(image)
    if not ref.is_ecr:
        return None, None
    if ref.digest:
        return ref.digest, None
    try:
        return aws_mod.image_digest(image, aws=aws), None
    except NotFoundError as exc:
        raise VerificationError(
            f"{exc}: was it pushed? (publish-artifact --no-resolve-digest skips this check)"
        ) from exc
    except PipelinelibError as exc:
        return None, f"could not resolve the digest of {image} ({exc}); published without a digest"


def services_from_env(variables: Mapping[str, str]) -> list[ServiceBuild]:
    """Each service's build, image and digest from env.groovy variables (new and legacy forms)."""
    prefixes = {
        key[: -len("_SERVICE")]: value
        for key, value in variables.items()
        if key.endswith("_SERVICE")
    }
    result = []
    for name, build in service_builds(variables).items():
        prefix = next((p for p, n in prefixes.items() if n == name), name.upper())
        try:
            result.append(
                ServiceBuild(
                    name=name,
                    build=build,
                    image=variables.get(f"{prefix}_IMAGE"),
                    digest=variables.get(f"{prefix}_DIGEST"),
                    commit=variables.get(f"{prefix}_COMMIT"),
                    commit_message=variables.get(f"{prefix}_COMMIT_MSG"),
                )
            )
        except InvalidInputError as exc:
            raise ArtifactFormatError(f"service {name}: {exc}") from exc
    return result


def imported_services(import_dir: Path) -> list[ServiceBuild]:
    """The services an import directory holds: ``manifest.json``, else its ``*.env.groovy`` files."""
    manifest_file = import_dir / "manifest.json"
    if manifest_file.is_file():
        return list(manifest_json.read(manifest_file).services.values())
    env_files = sorted(import_dir.glob("*.env.groovy"))
    if not env_files:
        raise NotFoundError(f"{import_dir}: no manifest.json and no *.env.groovy files to read")
    return services_from_env(load_env(env_files))


def verify_imported_images(
    import_dir: Path, *, aws: Aws | None = None, strict: bool = False
) -> ImageVerification:
    """:func:`pipelinelib.aws.verify_images` for what ``import-artifacts`` brought in."""
    from pipelinelib import aws as aws_mod

    return aws_mod.verify_images(imported_services(import_dir), aws=aws, strict=strict)


def load_env(paths: Iterable[Path]) -> dict[str, str]:
    """The variables of several env.groovy files; the same name with two values is an error."""
    variables: dict[str, str] = {}
    origin: dict[str, Path] = {}
    for path in paths:
        for key, value in groovy.parse_env_groovy(files.read_text(path), str(path)).items():
            if key in variables and variables[key] != value:
                raise ArtifactFormatError(
                    f"{key} is {variables[key]!r} in {origin[key]} but {value!r} in {path}"
                )
            variables[key] = value
            origin[key] = path
    return variables


def service_builds(variables: Mapping[str, str]) -> dict[str, str]:
    """``{service: build}`` from env variables.

    A service's name comes from its ``<KEY>_SERVICE`` variable; legacy files that only have
    ``<KEY>_BUILD`` give the key lower-cased (``ORDER_API_BUILD`` -> ``order_api``).
    """
    names = {
        key[: -len("_SERVICE")]: value
        for key, value in variables.items()
        if key.endswith("_SERVICE")
    }
    builds: dict[str, str] = {}
    for key, value in variables.items():
        if not key.endswith("_BUILD"):
            continue
        prefix = key[: -len("_BUILD")]
        name = names.get(prefix, prefix.lower())
        try:
            validate_service_name(name)
        except InvalidInputError as exc:
            raise ArtifactFormatError(f"{key}: cannot tell the service name ({exc})") from exc
        if not value.isascii() or not value.isdigit():
            raise ArtifactFormatError(f"{key} must be a build number, not {value!r}")
        builds[name] = value
    return builds


def import_service_builds(import_dir: Path) -> dict[str, str]:
    """``{service: build}`` from every ``*.env.groovy`` an import step left in ``import_dir``."""
    if not import_dir.is_dir():
        raise NotFoundError(f"import directory {str(import_dir)!r} does not exist")
    paths = sorted(import_dir.glob("*.env.groovy"))
    if not paths:
        raise InvalidInputError(f"no *.env.groovy files in {str(import_dir)!r}")
    builds = service_builds(load_env(paths))
    if not builds:
        raise ArtifactFormatError(f"no <SERVICE>_BUILD variables in the files of {import_dir}")
    return builds


def orchestrate(
    command: str,
    stack: str,
    region: str | None = None,
    *,
    root: Path,
    import_dir: Path | None = None,
    runner: str = "native",
    extra_args: Sequence[str] = (),
    confirm_live: bool = False,
    dry_run: bool = False,
    terraform: str | None = None,
    output: Callable[[str], None] | None = None,
) -> Orchestration:
    """Deploy a stack: the imported builds become ``service_builds``; terraform runs unless dry.

    Everything is validated (names, folders, live confirmation, imported files) before any
    process starts; the returned :class:`Orchestration` lists what ran (or would run).
    """
    validate_request(command, stack, runner=runner, confirm_live=confirm_live)
    builds = import_service_builds(import_dir) if import_dir is not None else None
    planned = plan_orchestration(
        command,
        stack,
        region,
        root=root,
        service_builds=builds,
        runner=runner,
        extra_args=extra_args,
        confirm_live=confirm_live,
        terraform=terraform,
        dry_run=dry_run,
    )
    if not dry_run:
        execute(planned, output=output)
    return planned


@attrs.frozen
class DisplayNameResult:
    job: str
    number: int
    name: str
    recorded: bool | None  # None: no store configured; False: the store does not know the build


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
    jenkins.set_display_name(job, number, name)
    recorded: bool | None = None
    if store is not None:
        try:
            store.set_display_name(job, number, name)
            recorded = True
        except NotFoundError:
            recorded = False
    return DisplayNameResult(job, number, name, recorded)
