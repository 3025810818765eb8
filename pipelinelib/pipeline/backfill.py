"""Back-fill the store from Jenkins: builds made before the migration become promotable.

A team that ran the seed's pipeline has its history in Jenkins only: each service build archived
``output/<service>.env.groovy`` (``env.SERVICE1_BUILD=90``, ``env.SERVICE1_COMMIT_MSG="…"``) and
each deploy job re-archived the files it deployed. :func:`backfill` reads a job's successful
builds (number, display name, url: ``Job.builds``, the newest 100 Jenkins exports), copies each
build's ``*.env.groovy`` artifacts with the Copy Artifact code (:mod:`pipelinelib.jenkins.
copyartifact`), and records one manifest per build:

* a service build job: a manifest of the services its files hold;
* a deploy job (``environment`` given): a deployment of that environment, which the store accepts
  only when every service build in it was published (back-fill the service jobs first).

Each build is recorded whole or not at all; a build whose artifacts cannot be read is refused with
its reason in the report. Running it again records nothing new (the store answers an identical
manifest as already recorded), so it is safe to repeat.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from pipelinelib.errors import (
    ArtifactFormatError,
    ConflictError,
    DeploymentRefusedError,
    InvalidInputError,
    NotFoundError,
    UnsafeArtifactPathError,
)
from pipelinelib.model import Manifest, validate_environment_name, validate_job_name

if TYPE_CHECKING:
    from pipelinelib.jenkins.client import JenkinsBuild, JenkinsClient
    from pipelinelib.store import ManifestStore

ENV_FILES = "**/*.env.groovy"
RECORDED = "recorded"
ALREADY = "already recorded"
REFUSED = "refused"
PLANNED = "would record"


@attrs.frozen
class BuildOutcome:
    """What happened to one Jenkins build: its status, why (when refused) and its services."""

    number: int
    status: str
    reason: str | None = None
    services: dict[str, int] = attrs.field(factory=dict)
    subject: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "status": self.status,
            "reason": self.reason,
            "services": dict(self.services),
            "subject": self.subject,
        }


@attrs.frozen
class BackfillReport:
    job: str
    environment: str | None
    outcomes: tuple[BuildOutcome, ...]

    @property
    def refused(self) -> list[BuildOutcome]:
        return [o for o in self.outcomes if o.status == REFUSED]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "environment": self.environment,
            "builds": [o.to_dict() for o in self.outcomes],
        }


def _display_name(build: JenkinsBuild) -> str | None:
    """Jenkins reports ``#N`` when no display name was set (Run.getDisplayName)."""
    name = build.display_name
    return None if name is None or name == f"#{build.number}" else name


def read_build(
    client: JenkinsClient, job: str, build: JenkinsBuild, workdir: Path, environment: str | None
) -> Manifest:
    """One Jenkins build as the manifest it would have been; errors say what is unreadable."""
    from pipelinelib.jenkins.copyartifact import copy_artifacts, parse_selector
    from pipelinelib.pipeline.importdir import load_env, services_from_env

    target = workdir / str(build.number)
    result = copy_artifacts(
        client,
        job=job,
        selector=parse_selector(str(build.number)),
        target=target,
        includes=ENV_FILES,
        flatten=True,
    )
    paths = sorted(target / f.path for f in result.files)
    try:
        services = services_from_env(load_env(paths))
    except ArtifactFormatError as exc:  # name the artifact, not the temporary copy
        raise ArtifactFormatError(str(exc).replace(f"{target}/", "")) from exc
    if not services:
        raise ArtifactFormatError("its env.groovy artifacts hold no <SERVICE>_BUILD variable")
    return Manifest(
        job=job,
        number=build.number,
        display_name=_display_name(build),
        result="SUCCESS",
        environment=environment,
        url=build.url,
        services=services,
    )


def backfill(
    client: JenkinsClient,
    store: ManifestStore | None,
    *,
    job: str,
    limit: int = 100,
    environment: str | None = None,
    progress: Callable[[BuildOutcome], None] | None = None,
) -> BackfillReport:
    """Record ``job``'s newest ``limit`` successful builds in ``store``, oldest first.

    ``store`` None is a dry run: every build is read and checked, nothing is recorded (status
    ``would record``). Returns the per-build report; refusals never stop the other builds.
    Raises (nothing recorded) only when Jenkins cannot list the job at all.
    """
    validate_job_name(job)
    if environment is not None:
        validate_environment_name(environment)
    if limit < 1:
        raise InvalidInputError(f"--limit must be at least 1, not {limit}")
    builds = sorted(client.successful_builds(job, limit=limit), key=lambda b: b.number)
    outcomes: list[BuildOutcome] = []
    with tempfile.TemporaryDirectory(prefix="pipelinelib-backfill-") as tmp:
        for build in builds:
            outcome = _one(client, store, job, build, Path(tmp), environment)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    return BackfillReport(job=job, environment=environment, outcomes=tuple(outcomes))


def _one(
    client: JenkinsClient,
    store: ManifestStore | None,
    job: str,
    build: JenkinsBuild,
    workdir: Path,
    environment: str | None,
) -> BuildOutcome:
    try:
        manifest = read_build(client, job, build, workdir, environment)
    except (ArtifactFormatError, NotFoundError, UnsafeArtifactPathError, InvalidInputError) as exc:
        return BuildOutcome(build.number, REFUSED, f"cannot read its artifacts: {exc}")
    services = {name: s.build for name, s in manifest.services.items()}
    if store is None:
        return BuildOutcome(build.number, PLANNED, None, services, manifest.subject)
    try:
        created = store.publish(manifest)
    except DeploymentRefusedError as exc:
        hint = " (back-fill the service build jobs first)" if "never published" in str(exc) else ""
        return BuildOutcome(build.number, REFUSED, f"{exc}{hint}", services, manifest.subject)
    except ConflictError as exc:
        return BuildOutcome(
            build.number, REFUSED, f"recorded before with different content: {exc}", services
        )
    return BuildOutcome(
        build.number, RECORDED if created else ALREADY, None, services, manifest.subject
    )
