"""Promotion: select an upstream build, import it (``import-artifacts``), record the deployment.

Every function takes plain values and a store, and returns models; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from pipelinelib import files
from pipelinelib.aws.ecs import ROLLOUT_OK
from pipelinelib.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from pipelinelib.formats import groovy
from pipelinelib.formats import manifest as manifest_json
from pipelinelib.model import (
    MAX_SUBJECT,
    Choice,
    DeploymentInfo,
    Manifest,
    ServiceBuild,
    SourceRef,
    java_trim,
    validate_build_number,
    validate_job_name,
    validate_service_name,
)
from pipelinelib.pipeline import importdir
from pipelinelib.pipeline.importdir import read_import
from pipelinelib.pipeline.query import require_known_job
from pipelinelib.store import ManifestStore

if TYPE_CHECKING:
    from pipelinelib.jenkins.client import JenkinsClient
    from pipelinelib.jenkins.copyartifact import CopiedFile, CopyResult
    from pipelinelib.model import ApprovalRequest, Lock


LAST_SUCCESSFUL = "lastSuccessful"


def validate_selector(selector: str) -> int | None:
    """The build number a selector names, or None for ``lastSuccessful``.

    ``lastSuccessful``, a number, or a choice ``NUMBER-SUBJECT`` (``12-Fix login``);
    InvalidInputError otherwise. ``groovy/src/io/pipelinelib/Args.groovy`` gives the same verdicts
    (tests/integration/test_validation_corpus.py).
    """
    if selector == LAST_SUCCESSFUL:
        return None
    if "\x00" in selector:  # no environment variable (nor argv) can carry it
        raise InvalidInputError("build selector contains a NUL character")
    return Choice.parse(selector).number


def select_build(store: ManifestStore, job: str, selector: str = LAST_SUCCESSFUL) -> Manifest:
    """The build a selector names: ``lastSuccessful``, a number, or a choice ``12-Fix login``.

    Only successful builds can be selected: importing a failed build's images is how broken
    releases reach production.
    """
    validate_job_name(job)
    number = validate_selector(selector)
    if number is None:
        newest = store.list_builds(job, result="SUCCESS", limit=1)
        if not newest:
            require_known_job(store, job)
            raise NotFoundError(f"job {job} has no successful build in the store", job=job)
        return newest[0]
    manifest = store.get_build(job, number)
    subject = Choice.parse(selector).subject
    if subject and not _same_subject(subject, manifest.subject):
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
    """``["service1=95", ...]`` (``--override``) -> ``{"service1": 95}``.

    InvalidInputError for a value without ``=``, a bad service name or build number, or a
    service overridden twice.
    """
    overrides: dict[str, int] = {}
    for value in values:
        service, sep, build = value.partition("=")
        service = java_trim(service)
        if not sep:
            raise InvalidInputError(f"invalid override {value!r}: expected SERVICE=BUILD")
        validate_service_name(service)
        if service in overrides:
            raise InvalidInputError(f"service {service!r} is overridden twice")
        overrides[service] = validate_build_number(build, f"override build of {service}")
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
    imports = {
        "exact": exact,
        "sources": [{"job": m.job, "number": m.number} for m in upstream],
        "services": origin,
    }
    env_files, manifest_file, imports_file = importdir.write(target, merged, imports)
    return ImportResult(merged, tuple(upstream), applied, env_files, manifest_file, imports_file)


@attrs.frozen
class DeploymentResult:
    deployment: Manifest
    created: bool
    env_files: tuple[Path, ...]
    manifest_file: Path | None


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
    kind: str = "deploy",
    reason: str | None = None,
    skip_order: str | None = None,
    override_freeze: str | None = None,
    lock_holder: str | None = None,
    check_only: bool = False,
    started_at: str | None = None,
) -> DeploymentResult:
    """Record this deploy build with the imported manifest unchanged, and re-archive it.

    ``started_at``: when the deploy build started (RFC 3339 with an offset), so the history
    shows how long the deployment took; None leaves the duration unknown.

    The store checks that the services are exactly the source build's (or published service
    builds, and declared overrides); nothing is recorded otherwise. A rollout with a service
    that did not complete records the build as FAILURE, so the environment's current
    deployment stays the last good one while the history shows the attempt. ``destroyed``
    records an empty deployment: the environment runs nothing (the nightly destroy-test).

    Promotion control (docs/promotion.md): ``kind`` ``rollback`` with its ``reason``;
    ``skip_order`` / ``override_freeze`` are the reasons given for lifting those rules; the
    environment lock held as ``lock_holder`` (default: this build, ``JOB#N``, when the store
    shows a lock by it) and the approvals recorded for this build are written into the
    deployment, so its history says who approved and who held the lock. ``check_only`` runs
    every check of the store and records and writes nothing (deploy jobs run it before apply);
    ``created`` then says whether recording would create it, ``manifest_file`` is None.
    """
    from pipelinelib.promotion import deployment_controls

    controls = deployment_controls(store, environment, job, number, lock_holder)
    if destroyed:
        services: list[ServiceBuild] = []
        source: SourceRef | None = None
        overrides: tuple[str, ...] = ()
        default_name = f"destroyed {environment}"
    else:
        imported, source, overrides = read_import(import_dir)
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
        deployment=DeploymentInfo(
            deployed_by=deployed_by,
            overrides=overrides,
            rollout=rollout,
            kind=kind,
            reason=reason,
            skip_order=skip_order,
            override_freeze=override_freeze,
            started_at=started_at,
            **controls,
        ),
    )
    if check_only:
        return DeploymentResult(deployment, store.check_publish(deployment), (), None)
    created = store.publish(deployment)
    env_files = tuple(
        files.write_atomic(output_dir / f"{name}.env.groovy", groovy.render_env_groovy([entry]))
        for name, entry in deployment.services.items()
    )
    manifest_file = files.write_atomic(
        output_dir / "manifest.json", manifest_json.dumps(deployment)
    )
    return DeploymentResult(deployment, created, env_files, manifest_file)


def copy_artifact(
    jenkins: JenkinsClient,
    *,
    project: str,
    selector: str,
    target: Path,
    includes: str | None = None,
    excludes: str | None = None,
    flatten: bool = False,
    optional: bool = False,
    fingerprint: bool = False,
    workers: int = 4,
    deadline: float | None = None,
    on_bytes: Callable[[int], None] | None = None,
    on_file: Callable[[CopiedFile], None] | None = None,
) -> CopyResult:
    """The Copy Artifact step over Jenkins' REST API (:func:`pipelinelib.jenkins.copyartifact.
    copy_artifacts`): ``selector`` is ``lastSuccessful``, ``lastStable``, ``lastCompleted`` or a
    build number; the result lists the files written below ``target``. ``deadline`` (a
    ``time.monotonic()`` value) bounds the whole copy; ``on_bytes``/``on_file`` report progress;
    ``optional`` never forgives a missing or forbidden job."""
    from pipelinelib.jenkins import copyartifact

    return copyartifact.copy_artifacts(
        jenkins,
        deadline=deadline,
        on_bytes=on_bytes,
        on_file=on_file,
        job=project,
        selector=copyartifact.parse_selector(selector),
        target=target,
        includes=includes,
        excludes=excludes,
        flatten=flatten,
        optional=optional,
        fingerprint=fingerprint,
        workers=workers,
    )


def fingerprint_lines(result: CopyResult) -> list[str]:
    """The ``--fingerprint`` lines of a copy: ``MD5  PATH`` per file, as md5sum prints them."""
    from pipelinelib.jenkins import copyartifact

    return list(copyartifact.iter_fingerprint_lines(result))


# --- environment locks and approvals (the control routes of the service) ---------------------


def acquire_lock(
    store: ManifestStore, environment: str, *, holder: str, reason: str = "", ttl: float = 7200
) -> Lock:
    """Lock an environment against promotions for ``ttl`` seconds. LockedError when another
    holder has it."""
    return store.acquire_lock(environment, holder=holder, reason=reason, ttl=ttl)


def release_lock(
    store: ManifestStore, environment: str, *, holder: str, force: bool = False
) -> Lock:
    """Release an environment's lock; only its holder may, unless ``force`` or the lock has
    expired. NotFoundError when the environment is not locked; LockedError for another holder's."""
    return store.release_lock(environment, holder=holder, force=force)


def request_approval(
    store: ManifestStore,
    environment: str,
    job: str,
    number: int,
    *,
    requested_by: str,
    requested_via: str | None = None,
) -> ApprovalRequest:
    """Ask for approvals to promote a build to an environment; ``requested_via`` is the
    identity of the token that asked on behalf of ``requested_by`` (neither may approve)."""
    return store.request_approval(
        environment, job, number, requested_by=requested_by, requested_via=requested_via
    )


def approve(
    store: ManifestStore,
    environment: str,
    job: str,
    number: int,
    *,
    approver: str,
    comment: str | None = None,
) -> ApprovalRequest:
    """Approve a requested promotion; PermissionDeniedError for the requester themselves."""
    return store.approve(environment, job, number, approver=approver, comment=comment)
