"""``pipelinelib rollback``: re-deploy an environment's previous good deployment, exactly.

The same steps as a promotion (import, verify images, orchestrate apply, wait for the rollout,
record), with the source being an earlier successful deployment of the same environment, so
the images are the ones it ran, pinned by digest. Recorded as ``kind: rollback`` with its
reason. As ecspresso ``rollback`` and ecs-deploy ``--rollback`` do for a task definition, but
for the whole manifest of the environment.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import attrs

from pipelinelib.environments import EnvironmentsConfig
from pipelinelib.errors import InvalidInputError, NotFoundError
from pipelinelib.ledger import EnvironmentDiff, diff_environments
from pipelinelib.model import Manifest, validate_build_number, validate_environment_name
from pipelinelib.store import ManifestStore


def parse_deployment_ref(text: str) -> tuple[str | None, int]:
    """``deploy-live#12`` -> (``deploy-live``, 12); a bare ``12`` -> (None, 12)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("a deployment is JOB#NUMBER, e.g. deploy-live#12")
    job, sep, number = text.strip().rpartition("#")
    try:
        if not sep:
            return None, validate_build_number(number, "deployment number")
        if not job:
            raise InvalidInputError("no job")
        return job, validate_build_number(number, "deployment number")
    except InvalidInputError:
        raise InvalidInputError(
            f"invalid deployment {text!r}: expected JOB#NUMBER, e.g. deploy-live#12"
        ) from None


@attrs.frozen
class RollbackPlan:
    environment: str
    current: Manifest
    target: Manifest
    diff: EnvironmentDiff
    commands: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "environment": self.environment,
            "current": {"job": self.current.job, "number": self.current.number},
            "target": {"job": self.target.job, "number": self.target.number},
            "diff": self.diff.to_dict(),
            "commands": list(self.commands),
        }


def _find_target(
    store: ManifestStore, environment: str, current: Manifest, to: str | None
) -> Manifest:
    if to is not None:
        job, number = parse_deployment_ref(to)
        target = store.get_build(job or current.job, number)
        if target.environment != environment:
            raise InvalidInputError(
                f"{target.job} #{target.number} is not a deployment of {environment}"
            )
        if not target.is_successful:
            raise InvalidInputError(
                f"{target.job} #{target.number} finished {target.result}; roll back only to a "
                "successful deployment"
            )
        if (target.job, target.number) == (current.job, current.number):
            raise InvalidInputError(f"{target.job} #{target.number} is what {environment} runs")
        return target
    for deployment in store.history(environment, limit=1000):
        if not deployment.is_successful or not deployment.services:
            continue
        if (deployment.job, deployment.number) == (current.job, current.number):
            continue
        if dict(deployment.services) != dict(current.services):
            return deployment
    raise NotFoundError(
        f"no previous deployment of {environment} to roll back to: no earlier successful "
        f"deployment differs from what it runs ({current.job} #{current.number})"
    )


def plan_rollback(
    store: ManifestStore,
    config: EnvironmentsConfig,
    environment: str,
    *,
    to: str | None = None,
    reason: str = "rollback",
    import_dir: Path = Path("import"),
) -> RollbackPlan:
    """What a rollback of ``environment`` would deploy, the diff, and the commands it runs.

    NotFoundError when nothing is deployed or there is no earlier different deployment;
    UnknownEnvironmentError (through the config) for an undeclared name.
    """
    validate_environment_name(environment)
    env = config.require(environment) if config.declared else None
    current = store.environments().get(environment)
    if current is None:
        raise NotFoundError(f"nothing is deployed to {environment}: nothing to roll back")
    target = _find_target(store, environment, current, to)
    diff = diff_environments(f"{target.job}#{target.number}", target, environment, current)
    q = shlex.quote
    stack = env.stack if env is not None and env.stack else f"<stack of {environment}>"
    region = f" {env.region}" if env is not None and env.region else ""
    confirm = " --confirm-live" if env is not None and env.protected else ""
    commands = [
        f"pipelinelib import-artifacts --from {q(target.job)} --build {target.number} "
        f"--target {q(str(import_dir))}",
        f"pipelinelib verify-images --import-dir {q(str(import_dir))}",
        f"pipelinelib orchestrate apply {q(stack)}{region} --import-dir {q(str(import_dir))}"
        + confirm,
    ]
    if env is not None and env.cluster:
        services = " ".join(f"--service {q(s)}" for s in target.services)
        commands.append(f"pipelinelib wait-rollout --cluster {q(env.cluster)} {services}")
    commands.append(
        f"pipelinelib record-deployment --environment {environment} --kind rollback "
        f"--reason {q(reason)} --import-dir {q(str(import_dir))}"
    )
    return RollbackPlan(environment, current, target, diff, tuple(commands))


def run_rollback(
    store: ManifestStore,
    plan: RollbackPlan,
    *,
    job: str,
    number: int | str,
    reason: str,
    config: EnvironmentsConfig,
    root: Path | None,
    import_dir: Path = Path("import"),
    output_dir: Path = Path("output"),
    verify: Callable[[Path], object] | None = None,
    wait: Callable[[str, list[str]], dict[str, str] | None] | None = None,
    dry_run_terraform: bool = False,
    deployed_by: str | None = None,
) -> Manifest:
    """Run the plan holding the environment's lock (as ``JOB#N``): import the target, verify
    its images, apply the stack, wait, record. The lock is released also when a step fails.

    ``root`` None skips terraform (nothing to apply). ``verify(import_dir)`` and
    ``wait(cluster, services)`` are the ECR and ECS steps (the CLI
    passes the real ones; they need AWS); ``wait`` returns the rollout states to record.
    """
    from pipelinelib.promotion import holder_of, holding_lock

    holder = holder_of(job, validate_build_number(number))
    with holding_lock(store, plan.environment, holder=holder, reason=f"rollback: {reason}"):
        return _run_rollback(
            store,
            plan,
            job=job,
            number=number,
            reason=reason,
            config=config,
            root=root,
            import_dir=import_dir,
            output_dir=output_dir,
            verify=verify,
            wait=wait,
            dry_run_terraform=dry_run_terraform,
            deployed_by=deployed_by,
            holder=holder,
        )


def _run_rollback(
    store: ManifestStore,
    plan: RollbackPlan,
    *,
    job: str,
    number: int | str,
    reason: str,
    config: EnvironmentsConfig,
    root: Path | None,
    import_dir: Path,
    output_dir: Path,
    verify: Callable[[Path], object] | None,
    wait: Callable[[str, list[str]], dict[str, str] | None] | None,
    dry_run_terraform: bool,
    deployed_by: str | None,
    holder: str,
) -> Manifest:
    from datetime import UTC, datetime

    from pipelinelib.pipeline.deploy import orchestrate
    from pipelinelib.pipeline.promote import import_artifacts, record_deployment

    started = datetime.now(UTC).isoformat()  # DeploymentInfo normalises it to ...Z
    env = config.get(plan.environment)
    import_artifacts(
        store,
        from_jobs=[plan.target.job],
        selector=str(plan.target.number),
        target=import_dir,
    )
    if verify is not None:
        verify(import_dir)
    if env is not None and env.stack and root is not None:
        orchestrate(
            "apply",
            env.stack,
            env.region,
            root=root,
            import_dir=import_dir,
            confirm_live=True,
            dry_run=dry_run_terraform,
        )
    rollout = None
    if wait is not None and env is not None and env.cluster:
        rollout = wait(env.cluster, list(plan.target.services))
    return record_deployment(
        store,
        environment=plan.environment,
        job=job,
        number=number,
        import_dir=import_dir,
        output_dir=output_dir,
        kind="rollback",
        reason=reason,
        rollout=rollout,
        deployed_by=deployed_by,
        lock_holder=holder,
        started_at=started,
    ).deployment
