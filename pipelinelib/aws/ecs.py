"""Amazon ECS rollouts: the only rollout vocabulary, its models and the wait loop.

A deploy step that reports success while ECS's deployment circuit breaker has rolled the service
back is the failure :func:`wait_rollout` guards against after ``terraform apply``. Waiting
reports progress through a callback and takes an injectable clock and sleep, so a test follows a
fifteen-minute rollout in milliseconds.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from pipelinelib.aws.session import Aws, aws_errors
from pipelinelib.errors import AwsError, InvalidInputError, NotFoundError, RolloutError
from pipelinelib.formats.duration import format_duration
from pipelinelib.model import clean_text

log = logging.getLogger(__name__)

DESCRIBE_SERVICES_BATCH = 10  # DescribeServices accepts at most 10 services
TRANSIENT_BACKOFF_CAP = 60.0  # seconds between polls that failed transiently, at most

# --- the rollout vocabulary (the only one: model.DeploymentInfo validates with it) ----------

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
ROLLED_BACK = "ROLLED_BACK"
TIMED_OUT = "TIMED_OUT"
UNCHANGED = "UNCHANGED"
ROLLOUT_STATES = (COMPLETED, UNCHANGED, FAILED, ROLLED_BACK, TIMED_OUT, IN_PROGRESS)
ROLLOUT_OK = (COMPLETED, UNCHANGED)  # the final states of a good rollout
ECS_SERVICE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}")  # ECS service names
_SUCCESS = ROLLOUT_OK
LAST_EVENTS = 5


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@attrs.frozen
class RolloutEvent:
    """One line of a service's ECS event log."""

    id: str
    created_at: datetime | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created_at": _iso(self.created_at), "message": self.message}

    def __str__(self) -> str:
        when = self.created_at.strftime("%H:%M:%S") if self.created_at else "--:--:--"
        return f"{when} {self.message}"


@attrs.frozen
class RolloutState:
    """One service as one DescribeServices poll saw it: its PRIMARY deployment's progress."""

    service: str
    status: str  # IN_PROGRESS, COMPLETED, FAILED, ROLLED_BACK, TIMED_OUT, UNCHANGED
    deployment_id: str | None
    task_definition: str | None
    running: int = 0
    desired: int = 0
    pending: int = 0
    failed_tasks: int = 0
    reason: str | None = None

    @property
    def is_done(self) -> bool:
        return self.status != IN_PROGRESS

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "status": self.status,
            "deployment_id": self.deployment_id,
            "task_definition": self.task_definition,
            "running": self.running,
            "desired": self.desired,
            "pending": self.pending,
            "failed_tasks": self.failed_tasks,
            "reason": self.reason,
        }


@attrs.frozen
class RolloutProgress:
    """What the ``on_progress`` callback receives after every poll of a followed service."""

    state: RolloutState
    new_events: tuple[RolloutEvent, ...]
    elapsed: float


@attrs.frozen
class ServiceRollout:
    """How one service's rollout ended."""

    state: RolloutState
    deployed_task_definition: str | None
    last_events: tuple[RolloutEvent, ...]
    elapsed: float

    @property
    def service(self) -> str:
        return self.state.service

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def is_successful(self) -> bool:
        return self.state.status in _SUCCESS

    def describe(self) -> str:
        state = self.state
        reason = f": {state.reason}" if state.reason else ""
        return f"{state.service} {state.status}{reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.state.to_dict(),
            "deployed_task_definition": self.deployed_task_definition,
            "elapsed_seconds": round(self.elapsed, 3),
            "last_events": [e.to_dict() for e in self.last_events],
        }


@attrs.frozen
class RolloutOutcome:
    """Every service's result; what ``record-deployment`` stores next to the manifest."""

    cluster: str
    services: tuple[ServiceRollout, ...]
    elapsed: float

    @property
    def is_successful(self) -> bool:
        return all(s.is_successful for s in self.services)

    @property
    def failures(self) -> tuple[ServiceRollout, ...]:
        return tuple(s for s in self.services if not s.is_successful)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "successful": self.is_successful,
            "elapsed_seconds": round(self.elapsed, 3),
            "services": {s.service: s.to_dict() for s in self.services},
        }

    @classmethod
    def from_dict(cls, data: Any) -> RolloutOutcome:
        """Read back what :meth:`to_dict` wrote (``wait-rollout --json``), validating every field.

        ``record-deployment`` runs in another process than ``wait-rollout``: this is how it reads
        the outcome file the deploy job saved.
        """
        try:
            services = data["services"]
            if not isinstance(services, Mapping):
                raise TypeError("services must be an object")
            results = []
            for name, item in services.items():
                state = RolloutState(
                    service=_str(item["service"]),
                    status=_status(item["status"]),
                    deployment_id=_opt_str(item["deployment_id"]),
                    task_definition=_opt_str(item["task_definition"]),
                    running=_count(item["running"]),
                    desired=_count(item["desired"]),
                    pending=_count(item["pending"]),
                    failed_tasks=_count(item["failed_tasks"]),
                    reason=_opt_str(item["reason"]),
                )
                if state.service != name:
                    raise ValueError(f"services.{name} names service {state.service!r}")
                events = tuple(
                    RolloutEvent(
                        id=_str(e["id"]),
                        created_at=(
                            datetime.fromisoformat(_str(e["created_at"]))
                            if e["created_at"] is not None
                            else None
                        ),
                        message=_str(e["message"]),
                    )
                    for e in item["last_events"]
                )
                results.append(
                    ServiceRollout(
                        state=state,
                        deployed_task_definition=_opt_str(item["deployed_task_definition"]),
                        last_events=events,
                        elapsed=float(item["elapsed_seconds"]),
                    )
                )
            outcome = cls(_str(data["cluster"]), tuple(results), float(data["elapsed_seconds"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInputError(f"not a wait-rollout outcome: {exc!s}") from exc
        if data.get("successful") is not None and data["successful"] != outcome.is_successful:
            raise InvalidInputError("not a wait-rollout outcome: 'successful' contradicts it")
        return outcome

    def raise_for_failure(self) -> None:
        failures = self.failures
        if not failures:
            return
        parts = []
        for failure in failures:
            events = " | ".join(e.message for e in failure.last_events[:3])
            parts.append(failure.describe() + (f" (last events: {events})" if events else ""))
        raise RolloutError(
            f"rollout on cluster {self.cluster} did not complete: " + "; ".join(parts),
            outcome=self,
        )


_STATUSES = ROLLOUT_STATES


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, not {type(value).__name__}")
    return clean_text(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError(f"expected a count, not {value!r}")
    return value


def _status(value: Any) -> str:
    if value not in _STATUSES:
        raise ValueError(f"unknown rollout status {value!r}")
    return str(value)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int) else 0


def _text(value: Any) -> str | None:
    # Event messages and reasons are shown in a terminal: control characters are dropped.
    if value is None:
        return None
    return "".join(c for c in clean_text(str(value)) if c.isprintable() or c == " ")


def _events(service: Mapping[str, Any]) -> list[RolloutEvent]:
    """Newest first, as ECS returns them."""
    return [
        RolloutEvent(str(e.get("id", "")), e.get("createdAt"), _text(e.get("message")) or "")
        for e in service.get("events", []) or []
    ]


def service_name(name_or_arn: str) -> str:
    """``arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME`` (or the old form) -> ``NAME``."""
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


@attrs.define
class _Follow:
    """Mutable bookkeeping of one followed service (private to the poll loop)."""

    name: str
    deployment_id: str | None = None
    task_definition: str | None = None
    seen_events: set[str] = attrs.Factory(set)
    latest: list[RolloutEvent] = attrs.Factory(list)  # newest first
    state: RolloutState | None = None  # set when the rollout ended
    last: RolloutState | None = None  # as the latest poll saw it
    finished_at: float | None = None
    seen: bool = False  # a poll has shown the followed deployment


def same_task_definition(a: str | None, b: str | None) -> bool:
    """ARNs and ``family:revision`` name the same task definition when family and revision agree."""
    if a is None or b is None:
        return a == b
    return a == b or a.rsplit("/", 1)[-1] == b.rsplit("/", 1)[-1]


def _primary(service: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for deployment in service.get("deployments", []) or []:
        if deployment.get("status") == "PRIMARY":
            return deployment  # type: ignore[no-any-return]
    return None


def _state(
    follow: _Follow,
    service: Mapping[str, Any],
    status: str,
    deployment: Mapping[str, Any] | None,
    reason: str | None = None,
) -> RolloutState:
    d = deployment or {}
    return RolloutState(
        service=follow.name,
        status=status,
        deployment_id=d.get("id"),
        task_definition=d.get("taskDefinition") or service.get("taskDefinition"),
        running=_int(d.get("runningCount", service.get("runningCount"))),
        desired=_int(d.get("desiredCount", service.get("desiredCount"))),
        pending=_int(d.get("pendingCount", service.get("pendingCount"))),
        failed_tasks=_int(d.get("failedTasks")),
        reason=reason if reason is not None else _text(d.get("rolloutStateReason")),
    )


def _judge_service(follow: _Follow, service: Mapping[str, Any], first: bool) -> RolloutState:
    deployments = list(service.get("deployments", []) or [])
    primary = _primary(service)
    if primary is None:
        return _state(follow, service, IN_PROGRESS, None, "no PRIMARY deployment yet")
    if first and follow.task_definition is None:
        failed = [d for d in deployments if d is not primary and d.get("rolloutState") == FAILED]
        follow.deployment_id = primary.get("id")
        follow.task_definition = primary.get("taskDefinition")
        if failed:  # the circuit breaker already rolled back before we started watching
            follow.task_definition = failed[0].get("taskDefinition")
            follow.deployment_id = failed[0].get("id")
    if follow.deployment_id is None:
        # an expected task definition was given: follow the deployment that carries it (ECS may
        # show it only at a later poll: DescribeServices is eventually consistent)
        for d in deployments:
            if same_task_definition(d.get("taskDefinition"), follow.task_definition):
                follow.deployment_id = d.get("id")
                break
    ours = next((d for d in deployments if d.get("id") == follow.deployment_id), None)
    if ours is not None:
        follow.seen = True
    current = primary.get("taskDefinition")
    service_td = service.get("taskDefinition")
    if not follow.seen and not same_task_definition(current, follow.task_definition):
        # DescribeServices is eventually consistent: right after UpdateService it may still show
        # only the old deployment. Not seeing ours is no verdict; only evidence is (a FAILED
        # deployment of our task definition, handled above by following it), or the deadline.
        return _state(
            follow,
            service,
            IN_PROGRESS,
            primary,
            f"ECS does not show a deployment of {follow.task_definition} yet "
            f"(the service runs {current})",
        )
    if not same_task_definition(current, follow.task_definition) or (
        service_td is not None and not same_task_definition(service_td, follow.task_definition)
    ):
        why = (ours or {}).get("rolloutStateReason")
        running = current if not same_task_definition(current, follow.task_definition) else None
        reason = (
            f"the service now runs {running or service_td}, not the deployed "
            f"{follow.task_definition}"
        )
        if why:
            reason += f" ({_text(why)})"
        return _state(follow, service, ROLLED_BACK, ours or primary, reason)
    if primary.get("id") != follow.deployment_id:
        follow.deployment_id = primary.get("id")  # a new deployment of the same task definition
    rollout = primary.get("rolloutState")
    if rollout == FAILED:
        return _state(follow, service, FAILED, primary)
    if rollout == COMPLETED:
        return _state(follow, service, COMPLETED, primary)
    steady = _int(primary.get("runningCount")) == _int(primary.get("desiredCount")) and not _int(
        primary.get("pendingCount")
    )
    if rollout is None and len(deployments) == 1 and steady:
        # no rolloutState (no circuit breaker, or an external controller): steady counts will do
        return _state(follow, service, COMPLETED, primary, "running count reached desired")
    return _state(follow, service, IN_PROGRESS, primary)


def _is_rolling_update(service: Mapping[str, Any]) -> bool:
    return bool((service.get("deploymentController") or {}).get("type", "ECS") == "ECS")


def _describe_services(
    aws: Aws, cluster: str, names: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    client = aws.ecs()
    found: dict[str, Mapping[str, Any]] = {}
    missing: list[str] = []
    for start in range(0, len(names), DESCRIBE_SERVICES_BATCH):
        batch = list(names[start : start + DESCRIBE_SERVICES_BATCH])
        with aws_errors(f"describe ECS services {', '.join(batch)} in cluster {cluster}"):
            response = client.describe_services(cluster=cluster, services=batch)
        for service in response.get("services", []):
            found[str(service["serviceName"])] = service
        missing += [service_name(str(f.get("arn", "?"))) for f in response.get("failures", [])]
    inactive = [n for n, s in found.items() if s.get("status") not in (None, "ACTIVE")]
    if missing or inactive:
        gone = sorted(set(missing) | set(inactive))
        raise NotFoundError(
            f"ECS services not found (or not ACTIVE) in cluster {cluster}: {', '.join(gone)}",
            services=gone,
        )
    return found


def list_services(cluster: str, *, aws: Aws | None = None) -> list[str]:
    """Every service name of a cluster (ListServices, paginated)."""
    client = (aws or Aws()).ecs()
    names: list[str] = []
    with aws_errors(f"list the services of ECS cluster {cluster}"):
        for page in client.get_paginator("list_services").paginate(cluster=cluster):
            names += [service_name(arn) for arn in page.get("serviceArns", [])]
    return sorted(names)


def wait_rollout(
    cluster: str,
    services: Sequence[str] = (),
    *,
    timeout: float = 900.0,
    poll_interval: float = 10.0,
    on_progress: Callable[[RolloutProgress], None] | None = None,
    expected_task_definitions: Mapping[str, str] | None = None,
    aws: Aws | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    raise_on_failure: bool = True,
    on_outcome: Callable[[RolloutOutcome], None] | None = None,
) -> RolloutOutcome:
    """Follow each service's PRIMARY deployment until ECS says COMPLETED, FAILED or rolled back.

    Without ``services``, every service of the cluster is looked at and only those with a rollout
    under way are followed (the others are UNCHANGED). The deployment to follow is the PRIMARY one
    at the first poll, or the one carrying ``expected_task_definitions[service]`` when given (use
    it when the apply output tells you the revision: a rollback that finished before this started
    is then caught too). A service whose PRIMARY deployment later carries another task definition
    was rolled back by the circuit breaker. ``on_progress`` gets a :class:`RolloutProgress` per
    followed service per poll (new events included). Raises :class:`RolloutError` (carrying
    ``outcome``) when any service did not complete, unless ``raise_on_failure`` is False.

    A poll that does not show the expected deployment yet (DescribeServices is eventually
    consistent) or that fails transiently (ThrottlingException after botocore's own retries, a
    5xx, a dropped connection) is no verdict: ROLLED_BACK and FAILED need evidence (a FAILED
    deployment, ours replaced after we saw it), and only ``timeout`` ends the wait.
    ``on_outcome`` is called exactly once with the outcome, however the wait ended (an error or
    SIGTERM included: unfinished services are then IN_PROGRESS with the reason), so an outcome
    file is always written.
    """
    if timeout <= 0 or poll_interval <= 0:
        raise InvalidInputError("timeout and poll interval must be positive")
    aws = aws or Aws()
    expected = dict(expected_task_definitions or {})
    names = list(dict.fromkeys(service_name(s) for s in services))
    named = bool(names)
    for name in expected:
        if name not in names:
            names.append(name)
            named = True
    if not names:
        names = list_services(cluster, aws=aws)
    start = clock()
    follows = {name: _Follow(name, task_definition=expected.get(name)) for name in names}
    try:
        _poll_until_done(
            aws, cluster, follows, named, start, timeout, poll_interval, on_progress, clock, sleep
        )
    except BaseException as exc:
        if on_outcome is not None:  # the outcome file is written whatever ended the wait
            on_outcome(_outcome(cluster, follows, start, clock, ended_by=exc))
        raise
    outcome = _outcome(cluster, follows, start, clock)
    if on_outcome is not None:
        on_outcome(outcome)
    if raise_on_failure:
        outcome.raise_for_failure()
    return outcome


def _outcome(
    cluster: str,
    follows: Mapping[str, _Follow],
    start: float,
    clock: Callable[[], float],
    ended_by: BaseException | None = None,
) -> RolloutOutcome:
    """The outcome so far; services still followed when ``ended_by`` struck stay IN_PROGRESS."""
    now = clock()
    results = []
    for follow in follows.values():
        state = follow.state
        if state is None:
            last = follow.last or RolloutState(
                follow.name, IN_PROGRESS, follow.deployment_id, follow.task_definition
            )
            why = f"{type(ended_by).__name__}: {ended_by}" if ended_by is not None else "?"
            state = attrs.evolve(
                last,
                status=IN_PROGRESS,
                reason=f"the wait ended before a verdict ({why.strip(': ')})",
            )
        results.append(
            ServiceRollout(
                state=state,
                deployed_task_definition=follow.task_definition,
                last_events=tuple(follow.latest),
                elapsed=(follow.finished_at if follow.finished_at is not None else now) - start,
            )
        )
    return RolloutOutcome(cluster, tuple(results), now - start)


def _poll_until_done(
    aws: Aws,
    cluster: str,
    follows: dict[str, _Follow],
    named: bool,
    start: float,
    timeout: float,
    poll_interval: float,
    on_progress: Callable[[RolloutProgress], None] | None,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    """Poll until every followed service has a verdict or the deadline passed.

    A poll that fails transiently (throttling, a 5xx, a dropped connection: errors marked
    ``transient`` by :func:`translate_error`) is no verdict: it is logged and retried with backoff
    (doubling from the poll interval, at most 60 s) until the deadline. Only the deadline ends
    the wait; then each service still followed is TIMED_OUT.
    """
    first = True
    failures = 0
    last_error: str | None = None
    while True:
        try:
            described = _describe_services(
                aws, cluster, [n for n, f in follows.items() if not f.state]
            )
        except AwsError as exc:
            if not exc.context.get("transient"):
                raise
            failures += 1
            last_error = str(exc)
            remaining = timeout - (clock() - start)
            if remaining <= 0:
                _time_out(follows, timeout, clock, last_error)
                return
            delay = min(poll_interval * 2 ** (failures - 1), TRANSIENT_BACKOFF_CAP, remaining)
            log.warning("ECS poll failed (%s); retrying in %.0f s", exc, delay)
            sleep(delay)
            continue
        failures = 0
        now = clock()
        external = sorted(n for n, s in described.items() if not _is_rolling_update(s))
        if external and named:
            raise InvalidInputError(
                f"ECS services {', '.join(external)} in cluster {cluster} are not deployed by the "
                "ECS rolling-update controller (CODE_DEPLOY or EXTERNAL): wait-rollout cannot "
                "follow them",
                services=external,
            )
        for name, service in described.items():
            follow = follows[name]
            if name in external:  # listed, not named: nothing this command can follow
                follow.state = follow.last = RolloutState(
                    name, UNCHANGED, None, service.get("taskDefinition"), reason="not ECS-deployed"
                )
                follow.finished_at = now
                continue
            state = _judge_service(follow, service, first)
            if (
                first
                and not named
                and state.status == COMPLETED
                and len(service["deployments"]) == 1
            ):
                state = attrs.evolve(state, status=UNCHANGED, reason="no rollout under way")
            events = _events(service)
            if first:
                # events about earlier deployments are history, not progress of this one
                since = next(
                    (
                        d.get("createdAt")
                        for d in service.get("deployments", [])
                        if d.get("id") == follow.deployment_id
                    ),
                    None,
                )
                follow.seen_events.update(
                    e.id
                    for e in events
                    if since is None or e.created_at is None or e.created_at < since
                )
            new = [e for e in reversed(events) if e.id not in follow.seen_events]
            follow.seen_events.update(e.id for e in new)
            follow.latest = events[:LAST_EVENTS]
            follow.last = state
            if state.is_done:
                follow.state = state
                follow.finished_at = now
            if on_progress is not None and state.status != UNCHANGED:
                on_progress(RolloutProgress(state, tuple(new), now - start))
        first = False
        if all(f.state is not None for f in follows.values()):
            return
        remaining = timeout - (clock() - start)
        if remaining <= 0:
            _time_out(follows, timeout, clock, None)
            return
        sleep(min(poll_interval, remaining))


def _time_out(
    follows: Mapping[str, _Follow],
    timeout: float,
    clock: Callable[[], float],
    last_error: str | None,
) -> None:
    for follow in follows.values():
        if follow.state is not None:
            continue
        last = follow.last or RolloutState(
            follow.name, IN_PROGRESS, follow.deployment_id, follow.task_definition
        )
        reason = (
            f"not COMPLETED after {format_duration(timeout)} (running "
            f"{last.running}/{last.desired}, pending {last.pending})"
        )
        if not follow.seen and follow.task_definition is not None and follow.last is not None:
            reason += f"; {last.reason}" if last.reason else ""
        if last_error is not None:
            reason += f"; the last poll failed: {last_error}"
        follow.state = attrs.evolve(last, status=TIMED_OUT, reason=reason)
        follow.finished_at = clock()
