"""``pipelinelib demo``: the whole pipeline as a local dry run, explained step by step.

Everything real except Jenkins and AWS: real git commits, the real store (SQLite in the work
directory), the real import/record use cases and the real orchestrate planning in dry-run mode.
The ECR and ECS checks need AWS, so they are named and skipped. The store is left behind so
``pipelinelib serve`` shows the board for the demo data.

The environments come from the repository's ``pipelinelib.toml`` (or ``--environments-file``):
the demo shows their promotion control too, as the store enforces it: a refused out-of-order
promotion, an environment lock, an approval by someone other than the requester and a rollback
of the last environment to its previous deployment.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pipelinelib import files, ledger, pipeline
from pipelinelib.environments import Environment, EnvironmentsConfig, load_environments
from pipelinelib.errors import (
    ConfirmationRequiredError,
    InvalidInputError,
    LockedError,
    PermissionDeniedError,
    PipelinelibError,
)
from pipelinelib.model import Manifest
from pipelinelib.promotion import holder_of, holding_lock
from pipelinelib.store import ManifestStore, open_store

Echo = Callable[[str], None]

REGISTRY = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com"
REGION = "ap-southeast-2"
SOURCE_TERRAFORM = Path(__file__).resolve().parents[1] / "terraform"
SOURCE_ENVIRONMENTS = Path(__file__).resolve().parents[1] / "pipelinelib.toml"
REQUESTER = "demo-dev"  # who starts the deploy builds
APPROVER = "demo-lead"  # who approves deployments to protected environments


def _git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "Demo Developer",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Demo Developer",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "HOME": str(repo),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


class _Demo:
    def __init__(
        self,
        workdir: Path,
        store: ManifestStore,
        echo: Echo,
        terraform: Path | None,
        environments: EnvironmentsConfig,
    ):
        self.workdir = workdir
        self.store = store
        self.echo = echo
        self.terraform = terraform
        self.environments = environments
        self.deploy_numbers: dict[str, int] = {}

    def step(self, title: str) -> None:
        self.echo("")
        self.echo(f"== {title}")

    def say(self, text: str) -> None:
        self.echo(f"   {text}")

    def command(self, text: str) -> None:
        self.echo(f"   $ {text}")

    # --- a service build job ------------------------------------------------------------------

    def service_build(self, service: str, number: int, message: str) -> None:
        repo = self.workdir / "src" / service
        if not (repo / ".git").exists():
            files.ensure_dir(repo)
            _git(repo, "init", "-q")
        files.write_atomic(repo / "CHANGES", f"{number}: {message}\n")
        _git(repo, "add", "CHANGES")
        _git(repo, "commit", "-q", "--cleanup=verbatim", "-m", message)
        image = f"{REGISTRY}/{service}:{number}"
        digest = "sha256:" + hashlib.sha256(image.encode()).hexdigest()
        self.say(f"{service}-build #{number}: git commit {message.splitlines()[0]!r}")
        self.say(f"docker build -t {image} . && docker push {image}   (skipped: no Docker here)")
        self.command(f"pipelinelib publish-artifact --service {service} --image {image}")
        result = pipeline.publish_artifact(
            service=service,
            build=number,
            job=f"{service}-build",
            image=image,
            digest=digest,
            workdir=repo,
            output_dir=self.workspace(f"{service}-build", number) / "output",
            store=self.store,
        )
        self.say(f"wrote {result.env_file.relative_to(self.workdir)}, recorded in the store")

    # --- a deploy job -------------------------------------------------------------------------

    def workspace(self, job: str, number: int) -> Path:
        return self.workdir / "jobs" / job / str(number)

    def next_number(self, job: str) -> int:
        number = self.deploy_numbers.get(job, 0) + 1
        self.deploy_numbers[job] = number
        return number

    def env(self, name: str) -> Environment:
        return self.environments.require(name)

    def stack(self, environment: str) -> str:
        return self.env(environment).stack or f"appcluster-{environment}"

    def first(self) -> str:
        return self.environments.names[0]

    def upstream_job(self, environment: str) -> str:
        upstream = self.env(environment).upstream
        assert upstream is not None
        return f"deploy-{upstream}"

    def approve(self, environment: str, job: str, number: int) -> None:
        """A protected environment: the build asks, someone else approves."""
        env = self.env(environment)
        if not (env.protected and env.approvals):
            return
        ref = f"{job}#{number}"
        self.command(f"pipelinelib request-approval {environment} --deployment {ref}")
        self.store.request_approval(environment, job, number, requested_by=REQUESTER)
        self.say(f"{environment} is protected: {env.approvals} approval(s) by someone else")
        for who in (REQUESTER, APPROVER)[: 1 + env.approvals]:
            self.command(f"pipelinelib approve {environment} --deployment {ref}   (as {who})")
            try:
                done = self.store.approve(
                    environment, job, number, approver=who, comment="checked the diff"
                )
            except PermissionDeniedError as exc:
                self.say(f"refused: {exc}")
                continue
            self.say(f"approved by {who}: {len(done.approvals)}/{done.required}")

    def freeze_reason(self, environment: str) -> str | None:
        window = self.env(environment).freeze_at(datetime.now(UTC))
        if window is None:
            return None
        self.say(f"{environment} is frozen now ({window.reason}): the demo overrides it")
        return "pipelinelib demo run inside a freeze window"

    def deploy(
        self,
        environment: str,
        *,
        upstream: list[str],
        selector: str = "lastSuccessful",
        confirm_live: bool = False,
        rollout: dict[str, str] | None = None,
    ) -> Manifest:
        """A deploy job: lock, import, (approvals), verify, apply, wait, record, unlock."""
        job = f"deploy-{environment}"
        number = self.next_number(job)
        ws = self.workspace(job, number)
        froms = " ".join(f"--from {j}" for j in upstream)
        holder = holder_of(job, number)
        self.say(f"{job} #{number}")
        self.command(f"pipelinelib lock {environment} --reason '{job} #{number}' --ttl 30m")
        with holding_lock(self.store, environment, holder=holder, reason=f"{job} #{number}"):
            self.command(f"pipelinelib import-artifacts {froms} --build {selector!r}")
            imported = pipeline.import_artifacts(
                self.store, from_jobs=upstream, selector=selector, target=ws / "import"
            )
            for name, entry in imported.manifest.services.items():
                self.say(f"  imported {name} {entry.build} ({entry.subject})")
            self.approve(environment, job, number)
            self.say("pipelinelib verify-images   (skipped: ECR needs AWS; deploy jobs run it)")
            stack = self.stack(environment)
            self.orchestrate(stack, ws / "import", confirm_live)
            self.say("pipelinelib wait-rollout --cluster " + stack + "   (skipped: ECS needs AWS)")
            self.command(f"pipelinelib record-deployment --environment {environment}")
            recorded = pipeline.record_deployment(
                self.store,
                environment=environment,
                job=job,
                number=number,
                import_dir=ws / "import",
                output_dir=ws / "output",
                deployed_by="demo",
                override_freeze=self.freeze_reason(environment),
                rollout=rollout,
            ).deployment
            self.command(f"pipelinelib unlock {environment}")
        self.say(f"recorded {job} #{number} in {environment}: {recorded.subject!r}")
        return recorded

    def refused_out_of_order(self, environment: str, skipping_from: str) -> None:
        """Promote a build of ``skipping_from`` straight to ``environment``: the store refuses."""
        job = f"deploy-{environment}"
        number = self.next_number(job)
        ws = self.workspace(job, number)
        self.say(f"{job} #{number} imports {skipping_from}'s build, skipping its upstream")
        self.command(f"pipelinelib import-artifacts --from {skipping_from}")
        pipeline.import_artifacts(self.store, from_jobs=[skipping_from], target=ws / "import")
        self.command(f"pipelinelib record-deployment --environment {environment}")
        try:
            pipeline.record_deployment(
                self.store,
                environment=environment,
                job=job,
                number=number,
                import_dir=ws / "import",
                output_dir=ws / "output",
            )
        except PipelinelibError as exc:
            self.say(f"refused: {exc}")
        else:  # pragma: no cover - the store's rule failed
            raise AssertionError("an out-of-order promotion was recorded")

    def rollback(self, environment: str) -> Manifest:
        from pipelinelib.pipeline.rollback import plan_rollback, run_rollback

        reason = "checkout errors after the last release"
        job = f"deploy-{environment}"
        number = self.next_number(job)
        ws = self.workspace(job, number)
        self.command(f"pipelinelib rollback --environment {environment} --dry-run")
        plan = plan_rollback(
            self.store, self.environments, environment, reason=reason, import_dir=Path("import")
        )
        self.say(
            f"{environment} runs {plan.current.job} #{plan.current.number}; its previous good "
            f"deployment is {plan.target.job} #{plan.target.number}"
        )
        for line in ledger.diff_lines(plan.diff):
            self.say(f"  {line}")
        for command in plan.commands:
            self.say(f"  would run: {command}")
        self.command(f"pipelinelib rollback --environment {environment} --reason {reason!r}")
        self.approve(environment, job, number)
        recorded = run_rollback(
            self.store,
            plan,
            job=job,
            number=number,
            reason=reason,
            config=self.environments,
            root=self.terraform,
            import_dir=ws / "import",
            output_dir=ws / "output",
            dry_run_terraform=True,
            deployed_by="demo",
        )
        self.say(f"recorded {job} #{number}: a rollback to {plan.target.job} #{plan.target.number}")
        return recorded

    def show_lock_refusal(self, environment: str) -> None:
        """While a deploy build holds the lock, someone else's lock attempt is refused."""
        job = f"deploy-{environment}"
        holder = holder_of(job, self.deploy_numbers.get(job, 0) + 1)
        self.store.acquire_lock(environment, holder=holder, reason=f"{holder} is deploying")
        self.command(f"pipelinelib lock {environment} --reason 'restart the cache'   (as ops)")
        try:
            self.store.acquire_lock(environment, holder="ops", reason="restart the cache")
        except LockedError as exc:
            self.say(f"refused: {exc}")
        finally:
            self.store.release_lock(environment, holder=holder)

    def orchestrate(self, stack: str, import_dir: Path, confirm_live: bool) -> None:
        if self.terraform is None:
            self.say(f"orchestrate apply {stack}   (skipped: no terraform/ folder installed)")
            return
        self.command(
            f"pipelinelib orchestrate apply {stack} {REGION} --import-dir import --dry-run"
            + (" --confirm-live" if confirm_live else "")
        )
        planned = pipeline.orchestrate(
            "apply",
            stack,
            REGION,
            root=self.terraform,
            import_dir=import_dir,
            dry_run=True,
            confirm_live=confirm_live,
        )
        for line in planned.describe():
            if not line.startswith("# copy "):
                self.say(f"  {line}")

    def pick(self, upstream: str) -> str:
        choices = pipeline.list_choices(self.store, upstream, limit=10)
        self.command(f"pipelinelib list-builds --job {upstream}   (the choice parameter)")
        for choice in choices:
            self.say(f"  {choice}")
        picked = str(choices[0])
        self.say(f"a person picks {picked!r}")
        return picked


def seed_history(demo: _Demo, line: list[str]) -> None:
    """Enough history for the metrics page and the board's drift marks to show something real:
    a failed rollout in the first environment and its fix, promoted one step (with the rollback
    before it, the demo records one failure and one rollback)."""
    from pipelinelib.insight import metrics_lines
    from pipelinelib.pipeline import query

    first, second = line[0], line[1]
    demo.service_build("service1", 92, "Cache search results")
    demo.say("wait-rollout: service1 did not reach a steady state within the timeout")
    demo.deploy(
        first, upstream=["service1-build", "service2-build"], rollout={"service1": "TIMED_OUT"}
    )
    demo.service_build("service1", 93, "Cache search results, bounded")
    demo.deploy(first, upstream=["service1-build", "service2-build"])
    upstream = demo.upstream_job(second)
    demo.deploy(second, upstream=[upstream], selector=demo.pick(upstream))
    demo.command("pipelinelib metrics --window 30d")
    for text in metrics_lines(query.metrics(demo.store, declared=line).to_dict()):
        demo.say(text)


def run(
    workdir: Path,
    echo: Echo,
    terraform_root: Path | None = None,
    environments: EnvironmentsConfig | Path | None = None,
) -> Path:
    """Run the demo in ``workdir`` (fresh or empty); return the SQLite store's path.

    ``environments``: the declared environments [default: the repository's pipelinelib.toml].
    """
    if workdir.exists() and any(workdir.iterdir()):
        raise InvalidInputError(f"{workdir} is not empty; give --workdir a fresh directory")
    if not isinstance(environments, EnvironmentsConfig):
        if environments is None and not SOURCE_ENVIRONMENTS.is_file():
            raise InvalidInputError("the demo needs an environments file: --environments-file")
        environments = load_environments(environments or SOURCE_ENVIRONMENTS)
    if len(environments.names) < 2:
        raise InvalidInputError("the demo needs at least two declared environments")
    files.ensure_dir(workdir)
    workdir = workdir.resolve()
    if terraform_root is None and (SOURCE_TERRAFORM / "src").is_dir():
        terraform_root = SOURCE_TERRAFORM
    # Where the CLI looks by default (PIPELINELIB_DB): `cd DIR && pipelinelib status` works.
    db = files.ensure_dir(workdir / ".pipelinelib") / "pipelinelib.db"
    store = open_store(db=f"sqlite:///{db}", environments=environments)
    try:
        demo = _Demo(workdir, store, echo, terraform_root, environments)
        # The main line: the first environment, then each one's first downstream to the end.
        line = [demo.first()]
        while downstream := environments.downstream(line[-1]):
            line.append(downstream[0])
        last = line[-1]
        echo(f"pipelinelib demo in {workdir}: no Jenkins, no AWS, nothing leaves this machine.")
        echo(f"environments ({environments.path}): {' -> '.join(line)}")

        def promote_line(names: list[str]) -> None:
            for name in names:
                demo.deploy(
                    name,
                    upstream=[demo.upstream_job(name)],
                    selector=demo.pick(demo.upstream_job(name)),
                    confirm_live=demo.stack(name).endswith("-live"),
                )

        demo.step("1. Two service build jobs push their images and publish manifests")
        demo.service_build(
            "service1", 90, "Fix 'quoted' login ${not interpolated}\n\nSessions now survive."
        )
        demo.service_build("service2", 45, "Add order history endpoint")

        demo.step(f"2. deploy-{line[0]} takes the newest successful build of every service")
        demo.deploy(line[0], upstream=["service1-build", "service2-build"])

        demo.step(f"3. Skipping environments is refused: {line[0]} straight to {last}")
        demo.refused_out_of_order(last, f"deploy-{line[0]}")

        demo.step(f"4. A person promotes exactly that set: {' -> '.join(line[:-1])}")
        promote_line(line[1:-1])

        demo.step(f"5. {last} needs a confirmation, holds a lock and an approval by someone else")
        try:
            demo.orchestrate(demo.stack(last), Path("unused"), confirm_live=False)
        except ConfirmationRequiredError as exc:
            demo.say(f"refused: {exc}")
        demo.show_lock_refusal(last)
        promote_line([last])

        demo.step(f"6. A new service1 build goes all the way to {last}")
        demo.service_build("service1", 91, "Fix logout redirect")
        demo.deploy(line[0], upstream=["service1-build", "service2-build"])
        promote_line(line[1:])

        demo.step(f"7. It misbehaves: roll {last} back to its previous deployment")
        demo.rollback(last)

        demo.step(f"8. More history: a failed rollout in {line[0]}, its fix promoted to {line[1]}")
        seed_history(demo, line)

        demo.step("9. What is where")
        demo.command("pipelinelib status")
        for text in ledger.status_lines(pipeline.status(store, declared=environments.names)):
            demo.say(text)

        demo.step(f"10. What promoting {line[0]} to {last} would change")
        demo.command(f"pipelinelib diff {line[0]} {last}")
        for text in ledger.diff_lines(pipeline.diff(store, line[0], last)):
            demo.say(text)

        echo("")
        echo("The store is where the CLI looks by default, so from that folder:")
        echo(f"   cd {workdir} && pipelinelib status")
        echo("The store is left for the web board:")
        echo(f"   pipelinelib serve --db sqlite:///{db} --insecure-allow-anonymous")
        echo("   then open http://127.0.0.1:8080/")
    finally:
        store.close()
    return db
