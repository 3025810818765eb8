"""Deploying what was imported: verify the images, orchestrate Terraform, wait for the rollout."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipelinelib import files
from pipelinelib.errors import (
    InvalidInputError,
    RolloutError,
)
from pipelinelib.formats import strict_json
from pipelinelib.pipeline import importdir
from pipelinelib.pipeline.importdir import imported_services

if TYPE_CHECKING:
    from pipelinelib.aws.ecr import ImageVerification
    from pipelinelib.aws.ecs import RolloutOutcome, RolloutProgress
    from pipelinelib.aws.session import Aws
    from pipelinelib.orchestrate import Orchestration


def verify_imported_images(
    import_dir: Path, *, aws: Aws | None = None, region: str | None = None, strict: bool = False
) -> ImageVerification:
    """:func:`pipelinelib.aws.ecr.verify_images` for what ``import-artifacts`` brought in.

    The import directory is read through :mod:`pipelinelib.pipeline.importdir`; ``region`` is
    the AWS region of the clients when no ``aws`` session is given.
    """
    from pipelinelib.aws import ecr
    from pipelinelib.aws.session import Aws

    services = imported_services(import_dir)
    return ecr.verify_images(services, aws=aws if aws is not None else Aws(region), strict=strict)


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
    terraform_image: str | None = None,
    output: Callable[[str], None] | None = None,
    builds_style: str | None = None,
) -> Orchestration:
    """Deploy a stack: the imported builds become ``service_builds`` and the imported images
    ``service_images`` (by digest when recorded); terraform runs unless dry.

    ``builds_style`` ``legacy`` passes the builds as ``-var <service>-build=N`` to stacks not
    migrated yet (see :func:`pipelinelib.orchestrate.plan_orchestration`).

    Everything is validated (names, folders, live confirmation, imported files) before any
    process starts; the returned :class:`Orchestration` lists what ran (or would run).
    """
    # Imported here: its models and patterns cost start-up time the build jobs need not pay.
    from pipelinelib.orchestrate import execute, image_refs, plan_orchestration, validate_request

    validate_request(
        command, stack, runner=runner, confirm_live=confirm_live, tf_args=tuple(extra_args)
    )
    imported = importdir.read(import_dir) if import_dir is not None else None
    builds = imported.builds if imported is not None else None
    images = image_refs(imported.services) if imported is not None else None
    planned = plan_orchestration(
        command,
        stack,
        region,
        root=root,
        service_builds=builds,
        service_images=images,
        runner=runner,
        extra_args=extra_args,
        confirm_live=confirm_live,
        terraform=terraform,
        terraform_image=terraform_image,
        dry_run=dry_run,
        builds_style=builds_style,
    )
    if not dry_run:
        execute(planned, output=output)
    return planned


def wait_rollout(
    cluster: str,
    services: Sequence[str] = (),
    *,
    timeout: float,
    poll_interval: float,
    on_progress: Callable[[RolloutProgress], None] | None = None,
    expected_task_definitions: Mapping[str, str] | None = None,
    output: Path | None = None,
    region: str | None = None,
    aws: Aws | None = None,
) -> RolloutOutcome:
    """Follow each ECS service's rollout (:func:`pipelinelib.aws.ecs.wait_rollout`), in seconds.

    With ``output``, the outcome JSON (:meth:`RolloutOutcome.to_dict`) is written there
    however the wait ends -- success, failure, an error or SIGTERM (unfinished services are then
    IN_PROGRESS with the reason) -- before any error propagates, so
    ``record-deployment --rollout`` can record a failed rollout in the ledger's history
    (:func:`read_rollout_file` reads it back). The failed outcome is in the error's
    ``context["outcome"]`` (see :func:`failed_outcome`).
    """
    from pipelinelib.aws.ecs import wait_rollout as follow
    from pipelinelib.aws.session import Aws

    def save(outcome: RolloutOutcome) -> None:
        if output is not None:
            _write_outcome(output, outcome)

    return follow(
        cluster,
        services,
        timeout=timeout,
        poll_interval=poll_interval,
        on_progress=on_progress,
        expected_task_definitions=expected_task_definitions,
        aws=aws if aws is not None else Aws(region),
        on_outcome=save,
    )


def failed_outcome(exc: RolloutError) -> RolloutOutcome | None:
    """The outcome a failed :func:`wait_rollout` carries, if it got as far as having one."""
    from pipelinelib.aws.ecs import RolloutOutcome

    outcome = exc.context.get("outcome")
    return outcome if isinstance(outcome, RolloutOutcome) else None


def _write_outcome(path: Path, outcome: RolloutOutcome) -> None:
    files.write_atomic(path, json.dumps(outcome.to_dict(), indent=2, ensure_ascii=True) + "\n")


def read_rollout_file(path: Path) -> dict[str, str]:
    """``{ecs_service: final_state}`` from the file ``wait-rollout --output`` (or ``--json``) wrote.

    Raises :class:`~pipelinelib.errors.InvalidInputError` when it is not that JSON.
    """
    from pipelinelib.aws.ecs import RolloutOutcome

    try:
        outcome = RolloutOutcome.from_dict(strict_json.loads(files.read_text(path), "JSON"))
    except (ValueError, InvalidInputError) as exc:
        raise InvalidInputError(f"{path}: not the JSON of wait-rollout ({exc})") from exc
    return {s.service: s.status for s in outcome.services}
