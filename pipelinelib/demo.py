"""``pipelinelib demo``: the whole pipeline as a local dry run, explained step by step.

Everything real except Jenkins and AWS: real git commits, the real store (SQLite in the work
directory), the real import/record use cases and the real orchestrate planning in dry-run mode.
The ECR and ECS checks need AWS, so they are named and skipped. The store is left behind so
``pipelinelib serve`` shows the board for the demo data.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path

from pipelinelib import files, ledger, pipeline
from pipelinelib.errors import ConfirmationRequiredError, InvalidInputError
from pipelinelib.model import Manifest
from pipelinelib.store import ManifestStore

Echo = Callable[[str], None]

REGISTRY = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com"
REGION = "ap-southeast-2"
SOURCE_TERRAFORM = Path(__file__).resolve().parents[1] / "terraform"


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
    def __init__(self, workdir: Path, store: ManifestStore, echo: Echo, terraform: Path | None):
        self.workdir = workdir
        self.store = store
        self.echo = echo
        self.terraform = terraform
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

    def deploy(
        self,
        environment: str,
        *,
        upstream: list[str],
        selector: str = "lastSuccessful",
        confirm_live: bool = False,
    ) -> Manifest:
        job = f"deploy-{environment}"
        number = self.deploy_numbers.get(job, 0) + 1
        self.deploy_numbers[job] = number
        ws = self.workspace(job, number)
        froms = " ".join(f"--from {j}" for j in upstream)
        self.say(f"{job} #{number}")
        self.command(f"pipelinelib import-artifacts {froms} --build {selector!r}")
        imported = pipeline.import_artifacts(
            self.store, from_jobs=upstream, selector=selector, target=ws / "import"
        )
        for name, entry in imported.manifest.services.items():
            self.say(f"  imported {name} {entry.build} ({entry.subject})")
        self.say("pipelinelib verify-images   (skipped: ECR needs AWS; deploy jobs run it)")
        stack = f"appcluster-{environment}"
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
        ).deployment
        self.say(f"recorded {job} #{number} in {environment}: {recorded.subject!r}")
        return recorded

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


def run(workdir: Path, echo: Echo, terraform_root: Path | None = None) -> Path:
    """Run the demo in ``workdir`` (fresh or empty); return the SQLite store's path."""
    from pipelinelib.store import open_store

    if workdir.exists() and any(workdir.iterdir()):
        raise InvalidInputError(f"{workdir} is not empty; give --workdir a fresh directory")
    files.ensure_dir(workdir)
    workdir = workdir.resolve()
    if terraform_root is None and (SOURCE_TERRAFORM / "src").is_dir():
        terraform_root = SOURCE_TERRAFORM
    # Where the CLI looks by default (PIPELINELIB_DB): `cd DIR && pipelinelib status` works.
    db = files.ensure_dir(workdir / ".pipelinelib") / "pipelinelib.db"
    store = open_store(db=f"sqlite:///{db}")
    try:
        demo = _Demo(workdir, store, echo, terraform_root)
        echo(f"pipelinelib demo in {workdir}: no Jenkins, no AWS, nothing leaves this machine.")

        demo.step("1. Two service build jobs push their images and publish manifests")
        demo.service_build(
            "service1", 90, "Fix 'quoted' login ${not interpolated}\n\nSessions now survive."
        )
        demo.service_build("service2", 45, "Add order history endpoint")

        demo.step("2. deploy-test takes the newest successful build of every service")
        demo.deploy("test", upstream=["service1-build", "service2-build"])

        demo.step("3. A person promotes exactly that set: test -> beta -> staging")
        demo.deploy("beta", upstream=["deploy-test"], selector=demo.pick("deploy-test"))
        demo.deploy("staging", upstream=["deploy-beta"], selector=demo.pick("deploy-beta"))

        demo.step("4. Live needs a confirmation")
        picked = demo.pick("deploy-staging")
        try:
            demo.orchestrate("appcluster-live", Path("unused"), confirm_live=False)
        except ConfirmationRequiredError as exc:
            demo.say(f"refused: {exc}")
        demo.deploy("live", upstream=["deploy-staging"], selector=picked, confirm_live=True)

        demo.step("5. A new service1 build goes to test only")
        demo.service_build("service1", 91, "Fix logout redirect")
        demo.deploy("test", upstream=["service1-build", "service2-build"])

        demo.step("6. What is where")
        demo.command("pipelinelib status")
        for line in ledger.status_lines(pipeline.status(store)):
            demo.say(line)

        demo.step("7. What promoting test to live would change")
        demo.command("pipelinelib diff test live")
        for line in ledger.diff_lines(pipeline.diff(store, "test", "live")):
            demo.say(line)

        echo("")
        echo("The store is where the CLI looks by default, so from that folder:")
        echo(f"   cd {workdir} && pipelinelib status")
        echo("The store is left for the web board:")
        echo(f"   pipelinelib serve --db sqlite:///{db} --insecure-allow-anonymous")
        echo("   then open http://127.0.0.1:8080/")
    finally:
        store.close()
    return db
