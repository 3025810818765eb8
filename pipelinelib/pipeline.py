"""Use cases: what a build or deploy job does, independent of the CLI that drives it.

Each function takes plain values and a store, and returns models; nothing here prints.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from pipelinelib import files, git, names
from pipelinelib.errors import (
    ArtifactFormatError,
    ConflictError,
    FileAccessError,
    InvalidInputError,
    NotFoundError,
    PipelinelibError,
    VerificationError,
)
from pipelinelib.formats import groovy, strict_json
from pipelinelib.formats import manifest as manifest_json
from pipelinelib.model import (
    MAX_SUBJECT,
    MAX_TEXT,
    ROLLOUT_OK,
    Choice,
    DeploymentInfo,
    Manifest,
    ServiceBuild,
    SourceRef,
    validate_build_number,
    validate_environment_name,
    validate_job_name,
    validate_service_name,
)
from pipelinelib.store import ManifestStore
from pipelinelib.textfit import fit_display_name, fit_environment_value, fit_store_text

if TYPE_CHECKING:
    from pipelinelib.aws import Aws, ImageVerification
    from pipelinelib.jenkins.client import JenkinsClient
    from pipelinelib.ledger import EnvironmentDiff
    from pipelinelib.orchestrate import Orchestration


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
    # Longer than the store keeps: cut and marked, never refused (the image is already pushed).
    message = fit_store_text(message, MAX_TEXT)
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
    check_artifacts_loadable(manifest, env_file, manifest_file)
    created = store.publish(manifest) if store is not None else None
    return PublishResult(manifest, env_file, manifest_file, created, warnings)


def check_artifacts_loadable(manifest: Manifest, env_file: Path, manifest_file: Path) -> None:
    """Read back what was written, as its consumers will, before anything is registered.

    The env.groovy must parse to exactly the variables rendered (each within the Groovy constant
    limit, :mod:`pipelinelib.textfit`) and the manifest file must give back the same manifest.
    Raises :class:`ArtifactFormatError` naming the file otherwise.
    """
    expected: dict[str, str] = {}
    for entry in manifest.services.values():
        expected.update(groovy.service_variables(entry))
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
        parsed = groovy.parse_env_groovy(files.read_text(path), str(path))
        for key, value in groovy.with_legacy_service_names(parsed, path.name).items():
            if key in variables and variables[key] != value:
                raise ArtifactFormatError(
                    f"{key} is {variables[key]!r} in {origin[key]} but {value!r} in {path}"
                )
            variables[key] = value
            origin[key] = path
    return variables


def service_builds(variables: Mapping[str, str]) -> dict[str, str]:
    """``{service: build}`` from env variables.

    A service's name comes from its ``<KEY>_SERVICE`` variable (:func:`load_env` adds it for a
    legacy file named after the service, see :func:`groovy.legacy_service_name`); other legacy
    variables give the key lower-cased (``ORDER_API_BUILD`` -> ``order_api``). Build numbers are
    range-checked (1 to 2**31-1, a Java int as Jenkins keeps them).
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
        try:
            builds[name] = str(validate_build_number(value, key))
        except InvalidInputError as exc:
            raise ArtifactFormatError(str(exc)) from exc
    return builds


def shell_variables(variables: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """``(owned, ignored)``: the variables an env.groovy file owns, checked, and the rest.

    A file owns ``<KEY>_BUILD``/``_IMAGE``/``_DIGEST``/``_COMMIT``/``_COMMIT_MSG``/``_SERVICE`` of
    each service it names by a ``<KEY>_BUILD``; every value is checked as the model checks it
    (build 1 to 2**31-1, image, digest, commit patterns) and the commit message is cut to what one
    environment variable holds (:func:`pipelinelib.textfit.fit_environment_value`). Anything
    else (``PATH``, ``LD_PRELOAD``, ``X_IMAGE`` without ``X_BUILD``) is never emitted.
    """
    owned: dict[str, str] = {}
    for entry in services_from_env(variables):
        for key, value in groovy.service_variables(entry, fit=False).items():
            owned[key] = fit_environment_value(key, value)
    ignored = sorted(set(variables) - set(owned))
    return owned, ignored


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
    # Imported here: its models and patterns cost start-up time the build jobs need not pay.
    from pipelinelib.orchestrate import execute, plan_orchestration, validate_request

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


# --- listing and importing through a store ----------------------------------------------------


def list_builds(store: ManifestStore, job: str, *, limit: int = 100) -> list[Manifest]:
    """Newest successful builds of a job; NotFoundError (with a did-you-mean) for a job the
    store has never recorded a build of."""
    builds = store.list_builds(validate_job_name(job), result="SUCCESS", limit=limit)
    if not builds:
        require_known_job(store, job)
    return builds


def require_known_job(store: ManifestStore, job: str) -> None:
    """NotFoundError unless the store holds some build of ``job`` (any result).

    The did-you-mean draws on the jobs the store names in its deployments (deploy jobs and the
    jobs they imported from).
    """
    if store.list_builds(job, result=None, limit=1):
        return
    known: set[str] = set()
    for manifest in store.environments().values():
        known.add(manifest.job)
        if manifest.source is not None:
            known.add(manifest.source.job)
    raise NotFoundError(
        f"no build of job {job!r} is recorded in the store{names.did_you_mean(job, known)}",
        job=job,
    )


def list_choices(store: ManifestStore, job: str, *, limit: int = 100) -> list[Choice]:
    """``NUMBER-SUBJECT`` of the newest successful builds; unknown jobs as in list_builds."""
    choices = store.choices(validate_job_name(job), limit=limit)
    if not choices:
        require_known_job(store, job)
    return choices


LAST_SUCCESSFUL = "lastSuccessful"


def select_build(store: ManifestStore, job: str, selector: str = LAST_SUCCESSFUL) -> Manifest:
    """The build a selector names: ``lastSuccessful``, a number, or a choice ``12-Fix login``.

    Only successful builds can be selected: importing a failed build's images is how broken
    releases reach production.
    """
    validate_job_name(job)
    if selector == LAST_SUCCESSFUL:
        newest = store.list_builds(job, result="SUCCESS", limit=1)
        if not newest:
            require_known_job(store, job)
            raise NotFoundError(f"job {job} has no successful build in the store", job=job)
        return newest[0]
    choice = Choice.parse(selector)
    number = choice.number
    manifest = store.get_build(job, number)
    if choice.subject and not _same_subject(choice.subject, manifest.subject):
        # A choice names a build twice, by number and subject: if they disagree, the person
        # picked something else than this build (a stale list, a typo): refuse, never guess.
        raise InvalidInputError(
            f"the choice {selector!r} does not match {job} #{number}, whose choice is "
            f"{str(manifest.choice)!r}; pick again from the current list",
            job=job,
            number=number,
        )
    if not manifest.is_successful:
        raise InvalidInputError(
            f"{job} #{number} finished {manifest.result}; only successful builds can be imported",
            job=job,
            number=number,
        )
    return manifest


def _same_subject(picked: str, actual: str) -> bool:
    """Whether a picked choice's subject names this build's subject.

    Tolerates what a choice list may do to a long subject: cut at 120 characters with or without
    the ``…`` marker (older lists, other renderers), and white space trimmed by Jenkins.
    """
    a = picked.strip().removesuffix("\u2026").rstrip()
    b = actual.strip().removesuffix("\u2026").rstrip()
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= MAX_SUBJECT - 2 and longer.startswith(shorter)


def parse_overrides(values: Iterable[str]) -> dict[str, int]:
    overrides: dict[str, int] = {}
    for value in values:
        service, sep, build = value.partition("=")
        if not sep:
            raise InvalidInputError(f"invalid override {value!r}: expected SERVICE=BUILD")
        validate_service_name(service.strip())
        if service.strip() in overrides:
            raise InvalidInputError(f"service {service.strip()!r} is overridden twice")
        overrides[service.strip()] = validate_build_number(build, f"override build of {service}")
    return overrides


@attrs.frozen
class ImportResult:
    """What ``import-artifacts`` wrote.

    ``manifest.source`` is set when the imported services are exactly those of one upstream
    build (one ``--from``, no override): ``record-deployment`` records it as "deployed exactly
    job #N". It is None for a composition (several ``--from`` or an override), whose services
    are then the only truth; ``imports`` tells where each one came from.
    """

    manifest: Manifest
    upstream: tuple[Manifest, ...]
    overrides: Mapping[str, ServiceBuild]
    env_files: tuple[Path, ...]
    manifest_file: Path
    imports_file: Path


def import_artifacts(
    store: ManifestStore,
    *,
    from_jobs: Iterable[str],
    selector: str = LAST_SUCCESSFUL,
    target: Path = Path("import"),
    overrides: Mapping[str, int] | None = None,
) -> ImportResult:
    """The Copy Artifact step through the store: the selected upstream manifests become files.

    Writes ``<target>/<service>.env.groovy`` per service, ``<target>/manifest.json`` (the merged
    manifest, see :class:`ImportResult`) and ``<target>/imports.json`` (per service: which job
    #number it came from, or that it was overridden). Stale ``*.env.groovy`` files of an earlier
    import in the same directory are removed, so ``load-env import/*.env.groovy`` sees only this
    import.
    """
    jobs = list(dict.fromkeys(validate_job_name(j) for j in from_jobs))
    if not jobs:
        raise InvalidInputError("nothing to import: give at least one --from job")
    upstream = [select_build(store, job, selector) for job in jobs]
    services: dict[str, ServiceBuild] = {}
    origin: dict[str, dict[str, object]] = {}
    for manifest in upstream:
        for name, entry in manifest.services.items():
            previous = services.get(name)
            if previous is not None and previous != entry:
                came = origin[name]
                raise ConflictError(
                    f"service {name} is build {previous.build} in {came['job']} "
                    f"#{came['number']} but build {entry.build} in {manifest.job} "
                    f"#{manifest.number}; import from one of them or use --override {name}=N"
                )
            services[name] = entry
            origin[name] = {"job": manifest.job, "number": manifest.number}
    if not services:
        raise InvalidInputError(
            "the selected builds have no services: "
            + ", ".join(f"{m.job} #{m.number}" for m in upstream)
        )
    applied: dict[str, ServiceBuild] = {}
    for name, build in (overrides or {}).items():
        if name not in services:
            raise InvalidInputError(
                f"cannot override {name}: it is not among the imported services "
                f"({', '.join(sorted(services))})"
            )
        applied[name] = store.find_service_build(name, build)
        services[name] = applied[name]
        origin[name] = {"override": build}
    first = upstream[0]
    exact = len(upstream) == 1 and not applied
    merged = Manifest(
        job=first.job,
        number=first.number,
        display_name=first.display_name,
        result="SUCCESS",
        environment=None,
        source=SourceRef(first.job, first.number) if exact else None,
        url=first.url,
        services=list(services.values()),
    )
    files.ensure_dir(target)
    keep = {f"{name}.env.groovy" for name in services}
    for stale in sorted(target.glob("*.env.groovy")):
        if stale.name not in keep:
            try:
                stale.unlink()
            except OSError as exc:
                raise FileAccessError(f"cannot remove stale {stale}: {exc.strerror}") from exc
    env_files = tuple(
        files.write_atomic(target / f"{name}.env.groovy", groovy.render_env_groovy([entry]))
        for name, entry in merged.services.items()
    )
    imports = {
        "exact": exact,
        "sources": [{"job": m.job, "number": m.number} for m in upstream],
        "services": origin,
    }
    imports_file = files.write_atomic(
        target / "imports.json", json.dumps(imports, indent=2, ensure_ascii=True) + "\n"
    )
    manifest_file = files.write_atomic(target / "manifest.json", manifest_json.dumps(merged))
    return ImportResult(merged, tuple(upstream), applied, env_files, manifest_file, imports_file)


# --- the environments ledger -----------------------------------------------------------------


@attrs.frozen
class DeploymentResult:
    deployment: Manifest
    created: bool
    env_files: tuple[Path, ...]
    manifest_file: Path


def _imported(import_dir: Path) -> tuple[Manifest, SourceRef | None, tuple[str, ...]]:
    """The imported manifest, the build it came from (one upstream only) and the overrides."""
    manifest = manifest_json.read(import_dir / "manifest.json")
    imports_path = import_dir / "imports.json"
    if not imports_path.exists():
        return manifest, manifest.source, ()
    imports = strict_json.loads(
        files.read_text(imports_path), str(imports_path), ArtifactFormatError
    )
    try:
        sources = imports["sources"]
        origins = imports["services"]
        overrides = tuple(sorted(n for n, o in origins.items() if "override" in o))
        source = SourceRef(sources[0]["job"], sources[0]["number"]) if len(sources) == 1 else None
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise ArtifactFormatError(
            f"{imports_path}: not what import-artifacts writes ({exc})"
        ) from exc
    return manifest, source, overrides


def _summary_name(services: Iterable[ServiceBuild]) -> str:
    return " | ".join(f"{s.name} #{s.build} {s.subject}" for s in services)


def record_deployment(
    store: ManifestStore,
    *,
    environment: str,
    job: str,
    number: int | str,
    import_dir: Path = Path("import"),
    output_dir: Path = Path("output"),
    display_name: str | None = None,
    url: str | None = None,
    deployed_by: str | None = None,
    rollout: Mapping[str, str] | None = None,
    destroyed: bool = False,
) -> DeploymentResult:
    """Record this deploy build with the imported manifest unchanged, and re-archive it.

    The store checks that the services are exactly the source build's (or published service
    builds, and declared overrides); nothing is recorded otherwise. A rollout with a service
    that did not complete records the build as FAILURE, so the environment's current
    deployment stays the last good one while the history shows the attempt. ``destroyed``
    records an empty deployment: the environment runs nothing (the nightly destroy-test).
    """
    if destroyed:
        services: list[ServiceBuild] = []
        source: SourceRef | None = None
        overrides: tuple[str, ...] = ()
        default_name = f"destroyed {environment}"
    else:
        imported, source, overrides = _imported(import_dir)
        services = list(imported.services.values())
        default_name = (
            imported.display_name or imported.subject
            if source is not None
            else _summary_name(services)
        )
    result = "SUCCESS"
    if rollout and any(state not in ROLLOUT_OK for state in rollout.values()):
        result = "FAILURE"
    deployment = Manifest(
        job=job,
        number=number,
        display_name=display_name if display_name is not None else default_name,
        result=result,
        environment=environment,
        source=source,
        url=url,
        services=services,
        deployment=DeploymentInfo(deployed_by=deployed_by, overrides=overrides, rollout=rollout),
    )
    created = store.publish(deployment)
    env_files = tuple(
        files.write_atomic(output_dir / f"{name}.env.groovy", groovy.render_env_groovy([entry]))
        for name, entry in deployment.services.items()
    )
    manifest_file = files.write_atomic(
        output_dir / "manifest.json", manifest_json.dumps(deployment)
    )
    return DeploymentResult(deployment, created, env_files, manifest_file)


def status(store: ManifestStore, environment: str | None = None) -> dict[str, Manifest]:
    """What is where: the newest successful deployment per environment (or of one)."""
    from pipelinelib.ledger import order_environments

    if environment is not None:
        validate_environment_name(environment)
    current = store.environments()
    if environment is not None:
        names.require_known("environment", environment, {*current, *names.DEFAULT_ENVIRONMENTS})
        if environment not in current:
            known = ", ".join(order_environments(current)) or "none yet"
            raise NotFoundError(f"nothing is deployed to {environment} (deployed: {known})")
        return {environment: current[environment]}
    return {name: current[name] for name in order_environments(current)}


def diff(store: ManifestStore, from_environment: str, to_environment: str) -> EnvironmentDiff:
    """What promoting FROM to TO would change, per service, with the commits it brings."""
    from pipelinelib.ledger import diff_environments

    for name in (from_environment, to_environment):
        validate_environment_name(name)
    current = store.environments()
    for name in (from_environment, to_environment):
        names.require_known("environment", name, {*current, *names.DEFAULT_ENVIRONMENTS})
    if from_environment not in current:
        raise NotFoundError(f"nothing is deployed to {from_environment}: nothing to promote")
    target = current.get(to_environment)
    return diff_environments(
        from_environment,
        current[from_environment],
        to_environment,
        target,
        store.service_builds_between,
    )
