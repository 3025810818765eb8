"""Promotion control commands: environments, lock, unlock, locks, request-approval, approve,
approvals, rollback (docs/promotion.md). Registered on :data:`pipelinelib.cli.cli`.

Parse, call one verb, render; heavy imports stay inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pipelinelib.cli import (
    _emit_json,
    _parse_duration,
    _print,
    build_option,
    cli,
    environments_option,
    import_dir_option,
    job_option,
    json_option,
    load_environments_option,
    open_store,
    output_dir_option,
    store_options,
)
from pipelinelib.config import ENV_BUILD, ENV_BUILD_USER, ENV_JOB
from pipelinelib.errors import InvalidInputError, PromotionRefusedError

ROLLBACK_WAIT = 15 * 60.0  # seconds wait-rollout follows a rollback (as the deploy jobs do)
ROLLBACK_POLL = 10.0


def _default_holder(job: str | None, build: str | None) -> str | None:
    from pipelinelib.config import local_identity

    if job and build:
        return f"{job}#{build}"
    return local_identity()


def _deployment(text: str) -> tuple[str, int]:
    from pipelinelib.pipeline.rollback import parse_deployment_ref

    job, number = parse_deployment_ref(text)
    if job is None:
        raise InvalidInputError(f"--deployment needs JOB#NUMBER, e.g. deploy-live#{number}")
    return job, number


def _lock_line(lock: Any) -> str:
    state = " (expired)" if lock.expired else ""
    return (
        f"{lock.environment}: locked by {lock.holder} until {lock.expires_at}{state}: {lock.reason}"
    )


@cli.command("environments")
@environments_option
@click.option("--server", envvar="PIPELINELIB_SERVER", help="Ask the manifest service instead.")
@json_option
def environments_cmd(server: str | None, as_json: bool) -> None:
    """The declared environments: promotion order, upstream, protection, approvals, freezes.

    Jenkinsfiles read this instead of naming environments themselves.

    \b
    Example:
      pipelinelib environments --json
    """
    if server:
        from pipelinelib.store.http import HttpStore

        store = HttpStore(server)
        try:
            data = store.environments_config()
        finally:
            store.close()
    else:
        data = load_environments_option().to_dict()
    if as_json:
        _emit_json(data)
        return
    if not data["order"]:
        _print("no environments file: no promotion rules (see docs/promotion.md)")
        return
    for name in data["order"]:
        env = data["environments"][name]
        source = f"<- {env['upstream']}" if env["upstream"] else "<- service builds"
        flags = f" protected, {env['approvals']} approval(s)" if env["protected"] else ""
        _print(f"{name:<12} {source}{flags}")
        for window in env["freeze"]:
            _print(f"{'':<12} frozen {window['start']} .. {window['end']}: {window['reason']}")


@cli.command("lock")
@click.argument("environment")
@click.option("--reason", required=True, help="Why: shown to everyone the lock refuses.")
@click.option(
    "--ttl",
    default="2h",
    show_default=True,
    callback=_parse_duration,
    help="How long until the lock expires by itself (90s, 30m, 2h; at most 7 days).",
)
@click.option("--holder", help="Who holds it [default: JOB#BUILD in Jenkins, else your login].")
@job_option()
@build_option
@store_options
@json_option
def lock_cmd(
    environment: str,
    reason: str,
    ttl: float,
    holder: str | None,
    job: str | None,
    build: str | None,
    server: str | None,
    token: str | None,
    db: str,
    as_json: bool,
) -> None:
    """Lock an environment: other deployments, rollbacks and destroys of it are refused.

    Taking a lock you already hold extends it. Over the service the holder defaults to the
    token's identity.

    \b
    Example:
      pipelinelib lock live --reason "database migration INC-42" --ttl 1h
    """
    if holder is None and not server:
        holder = _default_holder(job, build)
    if holder is None and not server:
        raise InvalidInputError("no holder: pass --holder")
    with open_store(server, token, db) as store:
        from pipelinelib.pipeline import promote

        taken = promote.acquire_lock(store, environment, holder=holder, reason=reason, ttl=ttl)  # type: ignore[arg-type]
    if as_json:
        _emit_json(taken.to_dict())
        return
    _print(_lock_line(taken))


@cli.command("unlock")
@click.argument("environment")
@click.option("--holder", help="Whose lock [default: JOB#BUILD in Jenkins, else your login].")
@click.option("--force", is_flag=True, help="Break someone else's lock.")
@job_option()
@build_option
@store_options
@json_option
def unlock_cmd(
    environment: str,
    holder: str | None,
    force: bool,
    job: str | None,
    build: str | None,
    server: str | None,
    token: str | None,
    db: str,
    as_json: bool,
) -> None:
    """Release an environment's lock (your own; --force for anyone's).

    \b
    Example:
      pipelinelib unlock live
    """
    if holder is None and not server:
        holder = _default_holder(job, build)
    if holder is None and not server:
        raise InvalidInputError("no holder: pass --holder")
    with open_store(server, token, db) as store:
        from pipelinelib.pipeline import promote

        released = promote.release_lock(store, environment, holder=holder, force=force)  # type: ignore[arg-type]
    if as_json:
        _emit_json(released.to_dict())
        return
    _print(f"unlocked {environment} (was held by {released.holder})")


@cli.command("locks")
@store_options
@json_option
def locks_cmd(server: str | None, token: str | None, db: str, as_json: bool) -> None:
    """Every environment lock, who holds it, why and until when.

    \b
    Example:
      pipelinelib locks --json
    """
    with open_store(server, token, db) as store:
        from pipelinelib.pipeline import query

        found = query.locks(store)
    if as_json:
        _emit_json({"locks": [lock.to_dict() for lock in found]})
        return
    _print("\n".join(_lock_line(lock) for lock in found) if found else "no locks")


def _request_lines(request: Any) -> list[str]:
    state = "approved" if request.is_approved else "waiting"
    lines = [
        f"{request.job}#{request.number} -> {request.environment}: requested by "
        f"{request.requested_by}; {len(request.approvals)}/{request.required} approval(s), {state}"
    ]
    for approval in request.approvals:
        comment = f": {approval.comment}" if approval.comment else ""
        lines.append(f"  approved by {approval.by} at {approval.at}{comment}")
    return lines


@cli.command("request-approval")
@click.argument("environment")
@click.option("--deployment", required=True, help="The deploy build, JOB#NUMBER.")
@click.option(
    "--requested-by",
    envvar=ENV_BUILD_USER,
    show_envvar=True,
    help="Who asks (Jenkins' build-user-vars plugin sets BUILD_USER_ID) [default: the token's "
    "identity, or your login on a local store].",
)
@store_options
@json_option
def request_approval_cmd(
    environment: str,
    deployment: str,
    requested_by: str | None,
    server: str | None,
    token: str | None,
    db: str,
    as_json: bool,
) -> None:
    """A deploy build to a protected environment asks for its approvals.

    \b
    Example (deploy-live, before its input step):
      pipelinelib request-approval live --deployment deploy-live#12
    """
    from pipelinelib.config import local_identity

    job, number = _deployment(deployment)
    if requested_by is None and not server:
        requested_by = local_identity()
    if requested_by is None and not server:
        raise InvalidInputError("no requester: pass --requested-by")
    with open_store(server, token, db) as store:
        from pipelinelib.pipeline import promote

        found = promote.request_approval(store, environment, job, number, requested_by=requested_by)  # type: ignore[arg-type]
    if as_json:
        _emit_json(found.to_dict())
        return
    _print("\n".join(_request_lines(found)))


@cli.command("approve")
@click.argument("environment")
@click.option("--deployment", required=True, help="The deploy build, JOB#NUMBER.")
@click.option("--comment", help="Recorded with the approval.")
@click.option(
    "--as",
    "identity",
    help="Your identity on a local store (no authentication there) [default: your login]; "
    "the service takes it from the token.",
)
@store_options
@json_option
def approve_cmd(
    environment: str,
    deployment: str,
    comment: str | None,
    identity: str | None,
    server: str | None,
    token: str | None,
    db: str,
    as_json: bool,
) -> None:
    """Approve a requested deployment to a protected environment (not your own request).

    Through the service the approver is the identity of the token (tokens file
    'TOKEN approve identity=NAME').

    \b
    Example:
      PIPELINELIB_TOKEN=... pipelinelib approve live --deployment deploy-live#12 --comment "ok"
    """
    from pipelinelib.config import local_identity

    job, number = _deployment(deployment)
    if server and identity:
        raise InvalidInputError("--as is for local stores; the service uses the token's identity")
    approver = identity or (None if server else local_identity())
    if approver is None and not server:
        raise InvalidInputError("no identity: pass --as NAME")
    with open_store(server, token, db) as store:
        from pipelinelib.pipeline import promote

        found = promote.approve(store, environment, job, number, approver=approver, comment=comment)  # type: ignore[arg-type]
    if as_json:
        _emit_json(found.to_dict())
        return
    _print("\n".join(_request_lines(found)))


@cli.command("approvals")
@click.argument("environment")
@click.option("--deployment", required=True, help="The deploy build, JOB#NUMBER.")
@click.option(
    "--check", is_flag=True, help="Exit 2 unless the deployment has the approvals it needs."
)
@store_options
@json_option
def approvals_cmd(
    environment: str,
    deployment: str,
    check: bool,
    server: str | None,
    token: str | None,
    db: str,
    as_json: bool,
) -> None:
    """A deployment's approval request and its approvals.

    \b
    Example (deploy-live, after its input step and before apply):
      pipelinelib approvals live --deployment deploy-live#12 --check
    """
    job, number = _deployment(deployment)
    with open_store(server, token, db) as store:
        from pipelinelib.pipeline import query

        found = query.approval_request(store, environment, job, number)
    if as_json:
        _emit_json(found.to_dict())
    else:
        _print("\n".join(_request_lines(found)))
    if check and not found.is_approved:
        raise PromotionRefusedError(
            f"{job}#{number} has {len(found.approvals)} of the {found.required} approval(s) "
            f"{environment} needs"
        )


@cli.command("rollback")
@click.option("--environment", required=True, help="The environment to roll back.")
@click.option(
    "--to", "to", help="The deployment to return to, JOB#NUMBER [default: the previous good one]."
)
@click.option("--reason", default="rollback", show_default=True, help="Recorded with it.")
@click.option("--dry-run", is_flag=True, help="Print the diff and the commands; change nothing.")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("terraform"),
    show_default=True,
    help="The Terraform orchestration root.",
)
@click.option("--skip-verify", is_flag=True, help="Do not check the images in ECR first.")
@click.option("--no-wait", is_flag=True, help="Do not follow the ECS rollout.")
@job_option()
@build_option
@import_dir_option
@output_dir_option
@store_options
@json_option
def rollback_cmd(
    environment: str,
    to: str | None,
    reason: str,
    dry_run: bool,
    root: Path,
    skip_verify: bool,
    no_wait: bool,
    job: str | None,
    build: str | None,
    import_dir: Path,
    output_dir: Path,
    server: str | None,
    token: str | None,
    db: str,
    as_json: bool,
) -> None:
    """Re-deploy an environment's previous good deployment (or --to one), pinned by digest.

    Runs the promotion's own steps (import, verify-images, orchestrate apply, wait-rollout,
    record-deployment --kind rollback); the store's rules apply (locks, freeze windows,
    approvals of protected environments). --dry-run prints what would change and the commands.

    \b
    Example:
      pipelinelib rollback --environment live --reason "checkout errors after #14" --dry-run
    """
    from pipelinelib.ledger import diff_lines
    from pipelinelib.pipeline.rollback import plan_rollback, run_rollback

    config = load_environments_option()
    with open_store(server, token, db) as store:
        plan = plan_rollback(
            store, config, environment, to=to, reason=reason, import_dir=import_dir
        )
        if dry_run:
            if as_json:
                _emit_json(plan.to_dict())
                return
            _print(
                f"rollback of {environment}: {plan.current.job} #{plan.current.number} -> "
                f"{plan.target.job} #{plan.target.number} ({plan.target.subject})"
            )
            _print("\n".join(diff_lines(plan.diff)))
            _print("commands:")
            _print("\n".join(f"  {c}" for c in plan.commands))
            return
        if job is None or build is None:
            raise InvalidInputError(
                f"a rollback is recorded as a build: set {ENV_JOB} and {ENV_BUILD}"
            )
        from pipelinelib import pipeline

        verify = None
        if not skip_verify:

            def verify(path: Path) -> object:
                return pipeline.verify_imported_images(path, strict=True)

        wait = None
        if not no_wait:

            def wait(cluster: str, services: list[str]) -> dict[str, str]:
                outcome = pipeline.wait_rollout(
                    cluster, services, timeout=ROLLBACK_WAIT, poll_interval=ROLLBACK_POLL
                )
                return {s.service: s.status for s in outcome.services}

        recorded = run_rollback(
            store,
            plan,
            job=job,
            number=build,
            reason=reason,
            config=config,
            root=root,
            import_dir=import_dir,
            output_dir=output_dir,
            verify=verify,
            wait=wait,
        )
    if as_json:
        _emit_json(recorded.to_dict())
        return
    _print(
        f"rolled back {environment} to {plan.target.job} #{plan.target.number}: recorded "
        f"{recorded.job} #{recorded.number} ({recorded.result})"
    )
