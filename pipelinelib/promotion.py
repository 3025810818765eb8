"""Promotion control rules: order, freeze windows, locks and approvals (docs/promotion.md).

Pure functions over the declared environments (:mod:`pipelinelib.environments`), a deployment
about to be recorded and what the store knows (its source build, the environment's lock, the
recorded approvals). The store calls :func:`check_promotion` inside the transaction that records
the deployment, so nothing is recorded when it raises.

Rules taken from peers: approvals by someone other than the requester (Spinnaker manual
judgment, Jenkins Promoted Builds' manual approval), promotion windows (Kargo), rollback to the
previous good deployment pinned by digest (ecspresso ``rollback``, ecs-deploy ``--rollback``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pipelinelib.environments import EnvironmentsConfig
from pipelinelib.errors import (
    LockedError,
    LockExpiredError,
    NotFoundError,
    PromotionRefusedError,
    UnknownEnvironmentError,
)
from pipelinelib.model import (
    Approval,
    ApprovalRequest,
    Lock,
    Manifest,
    validate_build_number,
    validate_job_name,
)

if TYPE_CHECKING:
    from pipelinelib.store import ManifestStore

GetBuild = Callable[[str, int], Manifest]

DEFAULT_LOCK_TTL = timedelta(hours=2)
MAX_LOCK_TTL = timedelta(days=7)


def rfc3339(when: datetime) -> str:
    """UTC, seconds precision, ``Z``: the text form of every time the control records."""
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def holder_of(job: str, number: int) -> str:
    """The lock holder name of a deploy build: ``deploy-live#12``."""
    return f"{job}#{number}"


def check_environment(config: EnvironmentsConfig, name: str) -> None:
    """UnknownEnvironmentError (with a suggestion) when a declared config lacks ``name``."""
    if config.declared and config.get(name) is None:
        from pipelinelib.environments import unknown_environment_message

        raise UnknownEnvironmentError(unknown_environment_message(name, config.names), name=name)


def check_order(deployment: Manifest, config: EnvironmentsConfig, get_build: GetBuild) -> None:
    """The source must be a successful deployment of the declared upstream (service builds
    for a first environment); a rollback's, a deployment of the same environment.

    ``skip_order`` (a reason) lifts the rule for a hotfix; an empty deployment (a destroy)
    has no source and is not a promotion.
    """
    assert deployment.environment is not None
    env = config.get(deployment.environment)
    info = deployment.deployment
    if env is None or (info is not None and info.skip_order):
        return
    if not deployment.services and deployment.source is None:
        return
    where = f"{deployment.job} #{deployment.number} ({env.name})"
    hint = "; a hotfix may skip the order with --skip-order --reason TEXT"
    if info is not None and info.is_rollback:
        if deployment.source is None:
            raise PromotionRefusedError(f"refusing rollback {where}: it names no deployment")
        source = _source(deployment, get_build)
        if source.environment != env.name:
            raise PromotionRefusedError(
                f"refusing rollback {where}: {source.job} #{source.number} is a deployment of "
                f"{source.environment or 'no environment (a service build)'}, not of {env.name}"
            )
        return
    if deployment.source is None:
        if env.is_first:
            return  # deploy-test composes the newest service builds; check_deployment checks them
        raise PromotionRefusedError(
            f"refusing {where}: its services do not come from one deployment of "
            f"{env.upstream}, the declared upstream{hint}"
        )
    source = _source(deployment, get_build)
    if env.is_first:
        if source.environment is not None:
            raise PromotionRefusedError(
                f"refusing {where}: {env.name} is the first environment and takes service "
                f"builds, not {source.job} #{source.number} of {source.environment}{hint}"
            )
        return
    if source.environment != env.upstream:
        found = source.environment or "no environment (a service build)"
        raise PromotionRefusedError(
            f"refusing {where}: its source {source.job} #{source.number} is a deployment of "
            f"{found}; {env.name} takes deployments of {env.upstream} only{hint}"
        )


def _source(deployment: Manifest, get_build: GetBuild) -> Manifest:
    assert deployment.source is not None
    try:
        return get_build(deployment.source.job, deployment.source.number)
    except NotFoundError:
        raise PromotionRefusedError(
            f"refusing {deployment.job} #{deployment.number}: its source "
            f"{deployment.source.job} #{deployment.source.number} is not recorded"
        ) from None


def check_freeze(deployment: Manifest, config: EnvironmentsConfig, now: datetime) -> None:
    assert deployment.environment is not None
    env = config.get(deployment.environment)
    info = deployment.deployment
    if env is None or (info is not None and info.override_freeze):
        return
    window = env.freeze_at(now)
    if window is not None:
        raise PromotionRefusedError(
            f"refusing {deployment.job} #{deployment.number}: {env.name} is frozen until "
            f"{rfc3339(window.end)} ({window.reason}); deploy anyway only with "
            "--override-freeze --reason TEXT"
        )


def lock_message(lock: Lock) -> str:
    return f"{lock.environment} is locked by {lock.holder} until {lock.expires_at}: {lock.reason}"


def check_lock(deployment: Manifest, lock: Lock | None) -> None:
    """A lock held by someone else refuses the deployment; a claimed lock must still be held."""
    assert deployment.environment is not None
    claimed = deployment.deployment.lock if deployment.deployment else None
    held = lock if lock is not None and not lock.expired else None
    if held is not None and held.holder != claimed:
        raise LockedError(
            f"refusing {deployment.job} #{deployment.number}: {lock_message(held)}",
            holder=held.holder,
        )
    if claimed is not None and held is None:
        when = f" (it expired at {lock.expires_at})" if lock is not None else ""
        raise LockExpiredError(
            f"refusing {deployment.job} #{deployment.number}: it claims the lock of "
            f"{deployment.environment} as {claimed}, but that lock is not held{when}; "
            "take it again with `pipelinelib lock` and retry"
        )


def check_approvals(
    deployment: Manifest, config: EnvironmentsConfig, request: ApprovalRequest | None
) -> None:
    """A protected environment needs its declared number of approvals, by identities other
    than the requester's, recorded in the store and listed in the deployment."""
    assert deployment.environment is not None
    env = config.get(deployment.environment)
    if env is None or not env.protected or env.approvals == 0:
        return
    where = f"{deployment.job} #{deployment.number} ({env.name})"
    listed: Sequence[Approval] = deployment.deployment.approvals if deployment.deployment else ()
    if request is None:
        raise PromotionRefusedError(
            f"refusing {where}: {env.name} is protected and needs {env.approvals} approval(s); "
            f"request them with `pipelinelib request-approval {env.name} --deployment "
            f"{deployment.job}#{deployment.number}`"
        )
    recorded = {a.by: a for a in request.approvals}
    for approval in listed:
        if recorded.get(approval.by) != approval:
            raise PromotionRefusedError(
                f"refusing {where}: the approval by {approval.by} is not recorded in the store"
            )
    requested_by = deployment.deployment.requested_by if deployment.deployment else None
    if requested_by != request.requested_by:
        raise PromotionRefusedError(
            f"refusing {where}: requested_by must be {request.requested_by!r}, who requested it"
        )
    if len(listed) < env.approvals:
        raise PromotionRefusedError(
            f"refusing {where}: {env.name} needs {env.approvals} approval(s), it has "
            f"{len(listed)}; approve with `pipelinelib approve {env.name} --deployment "
            f"{deployment.job}#{deployment.number}`"
        )


def check_promotion(
    deployment: Manifest,
    config: EnvironmentsConfig,
    *,
    get_build: GetBuild,
    lock: Lock | None,
    request: ApprovalRequest | None,
    now: datetime,
) -> None:
    """Every rule, in the order a person would fix them: name, order, lock, freeze, approvals.

    Locks apply with or without a declared environments file; the other rules need one.
    """
    if not deployment.is_deployment:
        return
    assert deployment.environment is not None
    check_environment(config, deployment.environment)
    check_order(deployment, config, get_build)
    check_lock(deployment, lock)
    check_freeze(deployment, config, now)
    check_approvals(deployment, config, request)


def deployment_controls(
    store: ManifestStore, environment: str, job: str, number: int | str, lock_holder: str | None
) -> dict[str, Any]:
    """What the store holds about deploy build ``job #number``: the lock it holds and the
    approvals recorded for it, as :class:`~pipelinelib.model.DeploymentInfo` fields.

    The lock is claimed when ``lock_holder`` is given, or when the environment's lock row is
    held (or was held and expired) by ``JOB#N``; the store then refuses an expired claim.
    """
    validate_job_name(job)
    number = validate_build_number(number)
    holder = lock_holder
    if holder is None:
        mine = holder_of(job, number)
        if any(lk.environment == environment and lk.holder == mine for lk in store.locks()):
            holder = mine
    controls: dict[str, Any] = {"lock": holder}
    try:
        request = store.approval_request(environment, job, number)
    except NotFoundError:
        return controls
    controls["requested_by"] = request.requested_by
    controls["approvals"] = request.approvals
    return controls


@contextmanager
def holding_lock(
    store: ManifestStore,
    environment: str,
    *,
    holder: str,
    reason: str,
    ttl: timedelta | float = DEFAULT_LOCK_TTL,
) -> Iterator[Lock]:
    """Hold the environment's lock for the duration of a deploy, rollback or destroy.

    Released when the block ends, also when it fails; a crashed process's lock expires after
    ``ttl``. LockedError (before anything runs) when someone else holds it.
    """
    lock = store.acquire_lock(environment, holder=holder, reason=reason, ttl=ttl)
    try:
        yield lock
    finally:
        try:
            store.release_lock(environment, holder=holder)
        except NotFoundError:
            pass  # expired and taken over, or broken with --force: nothing of ours to release
        except LockedError:
            pass
