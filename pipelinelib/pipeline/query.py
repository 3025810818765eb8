"""Reading the store: list builds, choices, what is where (status), diff, history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelinelib import names
from pipelinelib.errors import (
    NotFoundError,
)
from pipelinelib.model import (
    Choice,
    Manifest,
    validate_environment_name,
    validate_job_name,
)
from pipelinelib.store import ManifestStore

if TYPE_CHECKING:
    from pipelinelib.jenkins.client import JenkinsBuild, JenkinsClient
    from pipelinelib.ledger import EnvironmentDiff


def list_builds(store: ManifestStore, job: str, *, limit: int = 100) -> list[Manifest]:
    """Newest successful builds of a job (at most ``limit``, 1-1000), newest first.

    InvalidNameError for a bad job name; StoreUnavailableError when the store cannot answer;
    NotFoundError (with a did-you-mean) for a job the store has never recorded a build of.
    """
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
    """``NUMBER-SUBJECT`` choices of a job's newest successful builds (at most ``limit``),
    newest first, as the Active Choices parameter of a deploy job shows them.

    InvalidNameError for a bad job name; StoreUnavailableError when the store cannot answer;
    NotFoundError for an unknown job, as :func:`list_builds`.
    """
    choices = store.choices(validate_job_name(job), limit=limit)
    if not choices:
        require_known_job(store, job)
    return choices


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


def list_jenkins_builds(
    jenkins: JenkinsClient, job: str, *, limit: int = 100
) -> list[JenkinsBuild]:
    """Newest successful builds of a job as Jenkins itself lists them (``--source jenkins``)."""
    return jenkins.successful_builds(validate_job_name(job), limit=limit)
