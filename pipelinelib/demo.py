"""``pipelinelib demo``: the pipeline as a local dry run, explained step by step."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from pipelinelib import files, pipeline
from pipelinelib.errors import InvalidInputError
from pipelinelib.formats import tfvars

Echo = Callable[[str], None]

REGISTRY = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com"


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


def _service_repo(root: Path, name: str, message: str) -> Path:
    repo = files.ensure_dir(root / name)
    _git(repo, "init", "-q")
    files.write_atomic(repo / "Dockerfile", f"FROM alpine:3.20\nLABEL service={name}\n")
    _git(repo, "add", "Dockerfile")
    _git(repo, "commit", "-q", "-m", message)
    return repo


def run(workdir: Path, echo: Echo) -> None:
    if workdir.exists() and any(workdir.iterdir()):
        raise InvalidInputError(f"{workdir} is not empty; give --workdir a fresh directory")
    files.ensure_dir(workdir)
    echo(f"== pipelinelib demo in {workdir} (nothing leaves this machine)")
    outputs = []
    for number, (name, message) in enumerate(
        [
            ("service1", "Fix 'quoted' login ${not interpolated}\n\nDetails of the fix"),
            ("service2", "Add order history endpoint"),
        ],
        start=90,
    ):
        repo = _service_repo(workdir / "src", name, message)
        echo(f"-- {name}-build #{number}: committed {message.splitlines()[0]!r}")
        result = pipeline.publish_artifact(
            service=name,
            build=number,
            job=f"{name}-build",
            image=f"{REGISTRY}/{name}:{number}",
            output_dir=workdir / "jobs" / f"{name}-build" / str(number) / "output",
            workdir=repo,
        )
        echo(f"   publish-artifact wrote {result.env_file.relative_to(workdir)}")
        outputs.append(result.env_file)
    variables = pipeline.load_env(outputs)
    echo("-- load-env of both artifacts, as terraform will receive them:")
    echo(tfvars.render_tfvars_json(pipeline.service_builds(variables)).rstrip())
