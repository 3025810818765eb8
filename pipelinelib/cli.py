"""The ``pipelinelib`` command line: parse, call a use case in :mod:`pipelinelib.pipeline`, render.

No logic lives here. Heavy libraries (SQLAlchemy, Flask, boto3, python-jenkins) are imported
inside the commands that need them, so ``pipelinelib --help`` and the file-only commands start
fast (tests/unit/test_startup.py holds us to it).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pipelinelib import __version__
from pipelinelib.config import (
    DEFAULT_DB,
    ENV_BUILD,
    ENV_DB,
    ENV_JOB,
    ENV_SERVER,
    ENV_TOKEN,
    ENV_TOKENS_FILE,
    ENV_URL,
)
from pipelinelib.errors import InvalidInputError, PipelinelibError, StoreUnavailableError

if TYPE_CHECKING:
    from pipelinelib.store import ManifestStore

F = TypeVar("F", bound=Callable[..., Any])


# --- options shared by several commands: defined once, flag beats environment ---------------


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(f)


def output_dir_option(f: F) -> F:
    return click.option(
        "--output-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("output"),
        show_default=True,
        help="Directory the artifacts are written to.",
    )(f)


def job_option(
    required: bool = False, help: str = "Jenkins job full name (folders allowed)."
) -> Callable[[F], F]:
    def decorate(f: F) -> F:
        return click.option(
            "--job", envvar=ENV_JOB, required=required, show_envvar=True, help=help
        )(f)

    return decorate


def build_option(f: F) -> F:
    return click.option(
        "--build", envvar=ENV_BUILD, show_envvar=True, help="Build number (positive integer)."
    )(f)


def url_option(f: F) -> F:
    return click.option("--url", envvar=ENV_URL, show_envvar=True, help="The build's URL.")(f)


def store_options(f: F) -> F:
    f = click.option(
        "--server",
        envvar=ENV_SERVER,
        show_envvar=True,
        help="Manifest service base URL; when set it is the store.",
    )(f)
    f = click.option(
        "--token", envvar=ENV_TOKEN, show_envvar=True, help="Bearer token for writes to --server."
    )(f)
    f = click.option(
        "--db",
        envvar=ENV_DB,
        default=DEFAULT_DB,
        show_default=True,
        show_envvar=True,
        help="SQLAlchemy URL of the local store (used when no --server is given).",
    )(f)
    return f


@contextmanager
def open_store(server: str | None, token: str | None, db: str) -> Iterator[ManifestStore]:
    """The HTTP store when a server is configured, else the local SQL store."""
    store: ManifestStore
    try:
        if server:
            from pipelinelib.client import HttpStore

            store = HttpStore(server, token=token)
        else:
            from pipelinelib.store.sql import SqlStore

            store = SqlStore.from_url(db)
    except ImportError as exc:  # pragma: no cover - only when the package is installed partially
        raise StoreUnavailableError(
            f"the store is not available in this installation: {exc}"
        ) from exc
    try:
        yield store
    finally:
        store.close()


def _print(text: str, nl: bool = True) -> None:
    """Print data exactly: click.echo would strip ANSI sequences from commit messages."""
    click.echo(text, nl=nl, color=True)


def _emit_json(data: Any) -> None:
    _print(json.dumps(data, indent=2, ensure_ascii=False))


# --- the command group ----------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="pipelinelib")
def cli() -> None:
    """Promote one set of container images through Jenkins, Terraform and Amazon ECS.

    \b
    Example:
      pipelinelib publish-artifact --service service1 --image 1234.dkr.ecr.ap-southeast-2.amazonaws.com/service1:90
    """


@cli.command("publish-artifact")
@click.option("--service", required=True, help="Service name (a-z, 0-9, '-', '_').")
@build_option
@job_option()
@click.option("--image", help="Image URI that was pushed, e.g. REGISTRY/service1:90.")
@click.option("--digest", help="Image digest (sha256:...).")
@click.option("--commit", help="Commit SHA [default: git rev-parse HEAD].")
@click.option("--message", help="Commit message [default: git log -1 --no-merges --format=%B].")
@url_option
@output_dir_option
@click.option("--no-register", is_flag=True, help="Only write the files; do not record the build.")
@store_options
@json_option
def publish_artifact_cmd(
    service: str,
    build: str | None,
    job: str | None,
    image: str | None,
    digest: str | None,
    commit: str | None,
    message: str | None,
    url: str | None,
    output_dir: Path,
    no_register: bool,
    server: str | None,
    token: str | None,
    db: str,
    as_json: bool,
) -> None:
    """Write output/SERVICE.env.groovy and output/SERVICE.manifest.json and record the build.

    \b
    Example (in a Jenkins service build, where BUILD_NUMBER and JOB_NAME are set):
      pipelinelib publish-artifact --service service1 \\
        --image 999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1:$BUILD_NUMBER
    """
    from pipelinelib import pipeline

    if build is None:
        raise InvalidInputError(f"no build number: pass --build or set {ENV_BUILD}")
    if job is None:
        raise InvalidInputError(f"no job name: pass --job or set {ENV_JOB}")

    def run(store: ManifestStore | None) -> pipeline.PublishResult:
        return pipeline.publish_artifact(
            service=service,
            build=build,
            job=job,
            image=image,
            digest=digest,
            commit=commit,
            message=message,
            url=url,
            output_dir=output_dir,
            store=store,
        )

    if no_register:
        result = run(None)
    else:
        with open_store(server, token, db) as store:
            result = run(store)
    if as_json:
        _emit_json(result.manifest.to_dict())
        return
    click.echo(f"wrote {result.env_file}")
    click.echo(f"wrote {result.manifest_file}")
    if result.created is not None:
        state = "recorded" if result.created else "already recorded"
        click.echo(f"{state}: {result.manifest.job} #{result.manifest.number}")


@cli.command("load-env")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["tfvars-json", "terraform-args", "shell", "json"]),
    default="tfvars-json",
    show_default=True,
    help="Output form.",
)
def load_env_cmd(files: tuple[Path, ...], fmt: str) -> None:
    """Read env.groovy files (new and legacy forms) without evaluating them.

    \b
    Formats:
      tfvars-json     {"service_builds": {"service1": "90"}} for terraform -var-file
      terraform-args  -var=service_builds={...}, shell-quoted on one line
      shell           export NAME='value' lines, safe to eval
      json            every variable as a JSON object
    \b
    Example:
      pipelinelib load-env import/*.env.groovy --format tfvars-json > builds.tfvars.json
    """
    import shlex

    from pipelinelib import pipeline
    from pipelinelib.formats import dotenv, tfvars

    variables = pipeline.load_env(files)
    if fmt == "json":
        _emit_json(variables)
    elif fmt == "shell":
        _print(dotenv.render_shell(variables), nl=False)
    elif fmt == "tfvars-json":
        _print(tfvars.render_tfvars_json(pipeline.service_builds(variables)), nl=False)
    else:
        args = tfvars.terraform_var_args(pipeline.service_builds(variables))
        _print(" ".join(shlex.quote(a) for a in args))


@cli.command("set-display-name")
@job_option()
@build_option
@click.option("--name", help="Display name [default: the trimmed git commit message].")
@click.option("--print", "print_only", is_flag=True, help="Only print the name; change nothing.")
def set_display_name_cmd(
    job: str | None, build: str | None, name: str | None, print_only: bool
) -> None:
    """Set the Jenkins build's display name from the git commit message.

    \b
    Example:
      pipelinelib set-display-name --print
    """
    from pipelinelib import git

    display_name = name if name is not None else git.head_message()
    display_name = display_name.strip()
    if print_only:
        _print(display_name)
        return
    raise InvalidInputError(
        "setting the name in Jenkins is not available in this release; use --print"
    )


@cli.command("list-builds")
@job_option(required=True)
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="How many builds, newest first.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["choices", "json"]),
    default="choices",
    show_default=True,
    help='choices: one NUMBER-SUBJECT per line; json: {"builds": [manifest...]}.',
)
@click.option(
    "--source",
    type=click.Choice(["service", "jenkins"]),
    default="service",
    show_default=True,
    help="Where the builds come from: the store (local or --server) or Jenkins.",
)
@store_options
def list_builds_cmd(
    job: str,
    limit: int,
    fmt: str,
    source: str,
    server: str | None,
    token: str | None,
    db: str,
) -> None:
    """List a job's newest successful builds (what a choice parameter offers).

    \b
    Example:
      pipelinelib list-builds --job deploy-test --limit 20
      PIPELINELIB_SERVER=http://manifests:8080 \\
        pipelinelib list-builds --job team/service1-build --format json
    """
    from pipelinelib import pipeline

    if source == "jenkins":
        raise InvalidInputError("--source jenkins is not available in this build")
    with open_store(server, token, db) as store:
        if fmt == "choices":
            lines = [str(c) for c in pipeline.list_choices(store, job, limit=limit)]
            _print("".join(f"{line}\n" for line in lines), nl=False)
        else:
            builds = pipeline.list_builds(store, job, limit=limit)
            _emit_json({"builds": [m.to_dict() for m in builds]})


@cli.command("import-artifacts")
@click.option(
    "--from",
    "from_jobs",
    multiple=True,
    required=True,
    help="Upstream job full name; repeat for several jobs.",
)
@click.option(
    "--build",
    "selector",
    default="lastSuccessful",
    show_default=True,
    help="lastSuccessful, a build number, or a choice such as '12-Fix login'.",
)
@click.option(
    "--target",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("import"),
    show_default=True,
    help="Directory the env.groovy files and manifest.json are written to.",
)
@click.option(
    "--override",
    "overrides",
    multiple=True,
    metavar="SERVICE=BUILD",
    help="Use this build of a service instead of the imported one; repeatable.",
)
@store_options
@json_option
def import_artifacts_cmd(
    from_jobs: tuple[str, ...],
    selector: str,
    target: Path,
    overrides: tuple[str, ...],
    server: str | None,
    token: str | None,
    db: str,
    as_json: bool,
) -> None:
    """Import the selected upstream builds' manifests as env.groovy files (Copy Artifact).

    Writes import/SERVICE.env.groovy per service, import/manifest.json (its "source" names the
    upstream job #number when the services are exactly that build's) and import/imports.json
    (where each service came from).

    \b
    Example (deploy-test takes the newest successful build of each service):
      pipelinelib import-artifacts --from service1-build --from service2-build
    \b
    Example (deploy-beta takes the build a person picked, with one service replaced):
      pipelinelib import-artifacts --from deploy-test --build "$DEPLOY_TEST_BUILD" \\
        --override service1=95
    """
    from pipelinelib import pipeline

    parsed = pipeline.parse_overrides(overrides)
    with open_store(server, token, db) as store:
        result = pipeline.import_artifacts(
            store, from_jobs=from_jobs, selector=selector, target=target, overrides=parsed
        )
    if as_json:
        _emit_json(result.manifest.to_dict())
        return
    for upstream in result.upstream:
        click.echo(f"imported {upstream.job} #{upstream.number}")
    for name, entry in result.overrides.items():
        click.echo(f"override: {name} build {entry.build}")
    for path in result.env_files:
        click.echo(f"wrote {path}")
    click.echo(f"wrote {result.manifest_file}")


@cli.command("serve")
@click.option(
    "--db",
    envvar=ENV_DB,
    default=DEFAULT_DB,
    show_default=True,
    show_envvar=True,
    help="SQLAlchemy URL of the store: sqlite:///PATH or postgresql://USER@HOST/DB.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option(
    "--tokens-file",
    envvar=ENV_TOKENS_FILE,
    show_envvar=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File of 'TOKEN SCOPE[,SCOPE]' lines (scopes publish, read).",
)
@click.option(
    "--insecure-allow-anonymous",
    is_flag=True,
    help="Accept writes without a token (demos only).",
)
@click.option(
    "--require-read-token",
    is_flag=True,
    help="Reads need a token with the read (or publish) scope too.",
)
@click.option(
    "--max-body",
    type=click.IntRange(1024, 64 * 1024 * 1024),
    default=1024 * 1024,
    show_default=True,
    help="Largest request body in bytes (chunked bodies included).",
)
def serve_cmd(
    db: str,
    host: str,
    port: int,
    tokens_file: Path | None,
    insecure_allow_anonymous: bool,
    require_read_token: bool,
    max_body: int,
) -> None:
    """Run the manifest service with the development server (see docs/operations.md).

    \b
    Example:
      pipelinelib serve --db sqlite:///var/lib/pipelinelib/pipelinelib.db \\
        --tokens-file /etc/pipelinelib/tokens --port 8080
    """
    import logging

    from werkzeug.serving import run_simple

    from pipelinelib.service import create_app

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = create_app(
        db,
        tokens=None if tokens_file is not None else {},
        tokens_file=tokens_file,
        allow_anonymous_writes=insecure_allow_anonymous,
        require_read_token=require_read_token,
        max_body=max_body,
    )
    click.echo(f"serving on http://{host}:{port}/ (store {db})", err=True)
    run_simple(host, port, app, threaded=True, use_reloader=False)


@cli.command("demo")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-workdir"),
    show_default=True,
    help="Fresh directory the demo works in (it must be empty or not exist).",
)
def demo_cmd(workdir: Path) -> None:
    """Run the pipeline as a local dry run and explain each step.

    \b
    Example:
      pipelinelib demo --workdir /tmp/pipelinelib-demo
    """
    from pipelinelib import demo

    demo.run(workdir, echo=click.echo)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one ``error: ...`` line and the error's exit code, never a traceback."""
    try:
        rv = cli.main(args=argv, prog_name="pipelinelib", standalone_mode=False)
    except PipelinelibError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:  # bare group: help on stdout, exit 2
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: still one line, with a way to get the traceback
        if os.environ.get("PIPELINELIB_DEBUG"):
            raise
        click.echo(
            f"error: internal error ({type(exc).__name__}: {exc}); "
            "rerun with PIPELINELIB_DEBUG=1 for a traceback",
            err=True,
        )
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)
