"""The ``pipelinelib`` command line: parse, call one verb of :mod:`pipelinelib.pipeline`, render.

No logic lives here. Heavy libraries (SQLAlchemy, Flask, boto3, python-jenkins) are imported
inside the commands that need them, so ``pipelinelib --help`` and the file-only commands start
fast (tests/unit/test_startup.py holds us to it).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pipelinelib import __version__
from pipelinelib.config import (
    AWS_REGION_ENVVARS,
    DEFAULT_DB,
    ENV_BUILD,
    ENV_DB,
    ENV_ENVIRONMENTS,
    ENV_JENKINS_URL,
    ENV_JENKINS_USER,
    ENV_JOB,
    ENV_SERVER,
    ENV_TERRAFORM,
    ENV_TERRAFORM_IMAGE,
    ENV_TOKEN,
    ENV_TOKENS_FILE,
    ENV_URL,
)
from pipelinelib.errors import InvalidInputError, PipelinelibError

if TYPE_CHECKING:
    from pipelinelib.environments import EnvironmentsConfig
    from pipelinelib.progress import ProgressRenderer
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


def region_option(f: F) -> F:
    return click.option(
        "--region",
        envvar=list(AWS_REGION_ENVVARS),
        show_envvar=True,
        help="AWS region of the ECS/ECR clients (an ECR image URI's own region wins for it).",
    )(f)


def import_dir_option(f: F) -> F:
    return click.option(
        "--import-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("import"),
        show_default=True,
        help="Directory holding the imported manifest.json and/or *.env.groovy files.",
    )(f)


def _remember_environments_file(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
    ctx.meta["pipelinelib.environments_file"] = value


def environments_option(f: F) -> F:
    return click.option(
        "--environments-file",
        envvar=ENV_ENVIRONMENTS,
        show_envvar=True,
        expose_value=False,
        callback=_remember_environments_file,
        help="pipelinelib.toml declaring the environments [default: the nearest one walking up "
        "from the working directory; 'none': no promotion rules].",
    )(f)


def promotion_options(f: F) -> F:
    """record-deployment's promotion control flags (docs/promotion.md)."""
    f = click.option(
        "--lock-holder",
        help="The environment lock this deployment holds [default: JOB#BUILD when it holds one].",
    )(f)
    f = click.option(
        "--override-freeze", is_flag=True, help="Deploy inside a freeze window (needs --reason)."
    )(f)
    f = click.option(
        "--skip-order",
        is_flag=True,
        help="A hotfix: the source need not be the declared upstream (needs --reason).",
    )(f)
    f = click.option("--reason", help="Why: recorded with the deployment (rollbacks, overrides).")(
        f
    )
    f = click.option(
        "--kind",
        type=click.Choice(["deploy", "rollback"]),
        default="deploy",
        show_default=True,
        help="rollback: the source is an earlier deployment of the same environment.",
    )(f)
    return f


def _instant_option(raw: str | None, option: str) -> str | None:
    """An RFC 3339 text as given, or milliseconds since the epoch (Jenkins' ``currentBuild.
    startTimeInMillis``, workflow-support RunWrapper) as RFC 3339 UTC."""
    if raw is None or not raw.strip().isdigit():
        return raw
    if len(raw.strip()) > 15:
        raise InvalidInputError(f"{option}: {raw[:20]!r} is not milliseconds since the epoch")
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(int(raw) / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def promotion_arguments(
    kind: str, reason: str | None, skip_order: bool, override_freeze: bool, holder: str | None
) -> dict[str, Any]:
    if (skip_order or override_freeze) and not reason:
        raise InvalidInputError("--skip-order and --override-freeze need --reason TEXT")
    return {
        "kind": kind,
        "reason": reason,
        "skip_order": reason if skip_order else None,
        "override_freeze": reason if override_freeze else None,
        "lock_holder": holder,
    }


def store_options(f: F) -> F:
    f = environments_option(f)
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


def jenkins_options(f: F) -> F:
    f = click.option(
        "--jenkins-url",
        envvar=ENV_JENKINS_URL,
        show_envvar=True,
        help="Jenkins base URL. The API token is read from JENKINS_API_TOKEN only.",
    )(f)
    f = click.option(
        "--jenkins-user",
        envvar=ENV_JENKINS_USER,
        show_envvar=True,
        help="Jenkins user for Basic auth (with JENKINS_API_TOKEN).",
    )(f)
    f = click.option(
        "--timeout",
        "jenkins_timeout",
        type=click.FloatRange(min=0.1, max=3600),
        default=30.0,
        show_default=True,
        help="Seconds Jenkins may take to connect and to answer, per request.",
    )(f)
    return f


def _store_configured(server: str | None) -> bool:
    """A store counts as configured when --server or an explicit --db/PIPELINELIB_DB is given."""
    if server:
        return True
    source = click.get_current_context().get_parameter_source("db")
    return source not in (None, click.core.ParameterSource.DEFAULT)


def _notice(text: str) -> None:
    click.echo(f"notice: {text}", err=True)


COPY_DEADLINE = 30 * 60  # copy-artifact's whole-copy deadline (s) when --timeout is not given


def _copy_progress(project: str, received: list[int]) -> str:
    size, files_done = received
    return f"copying from {project}: {files_done} file(s) done, {size / 1_048_576:.1f} MiB received"


def _progress_renderer(*, err: bool) -> ProgressRenderer:
    """Live line on a terminal, change-only lines plus a heartbeat in a log (Jenkins)."""
    from pipelinelib.progress import ProgressRenderer

    stream = sys.stderr if err else sys.stdout
    live = stream.isatty() and os.environ.get("TERM") != "dumb"

    def write(text: str) -> None:
        stream.write(text)
        stream.flush()

    return ProgressRenderer(write, live=live)


@contextmanager
def open_store(
    server: str | None,
    token: str | None,
    db: str,
    *,
    reading: bool = False,
    read_only: bool = False,
) -> Iterator[ManifestStore]:
    """The HTTP store when a server is configured, else the local SQL store; closed after.

    ``read_only``: a read command, which never creates a store (see store.open_store).
    ``reading``: also read-only; a current local SQLite file is read without SQLAlchemy
    (store/sqlite_reader.py).
    """
    from pipelinelib import store as stores

    # A service enforces its own environments file; a local store enforces ours.
    environments = None if server or reading else load_environments_option()
    store = stores.open_store(
        server=server,
        token=token,
        db=db,
        reading=reading,
        read_only=read_only or reading,
        environments=environments,
    )
    try:
        yield store
    finally:
        store.close()


def load_environments_option() -> EnvironmentsConfig:
    """The environments of ``--environments-file`` (or found as the option's help says)."""
    from pipelinelib.environments import load_environments

    ctx = click.get_current_context(silent=True)  # meta is shared by nested contexts
    return load_environments(ctx.meta.get("pipelinelib.environments_file") if ctx else None)


def _require_local_store(db: str, what: str = "a local store (--db; or pass --server)") -> None:
    from pipelinelib.store import require_local_store

    require_local_store(db, what)


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
@click.option("--digest", help="Image digest (sha256:...); always wins over ECR's answer.")
@click.option(
    "--resolve-digest/--no-resolve-digest",
    default=True,
    show_default=True,
    help="Ask ECR for the digest of an ECR --image given without --digest. When ECR cannot be "
    "reached the build is published without a digest and a warning; a tag ECR says does not "
    "exist fails (exit 10).",
)
@click.option("--commit", help="Commit SHA [default: git rev-parse HEAD].")
@click.option("--message", help="Commit message [default: git log -1 --no-merges --format=%B].")
@url_option
@output_dir_option
@click.option("--no-register", is_flag=True, help="Only write the files; do not record the build.")
@click.option(
    "--legacy-key",
    "legacy_keys",
    multiple=True,
    metavar="KEY",
    help="During a migration, also write the variables as env.KEY_BUILD etc. (repeatable), so "
    "old deploy jobs reading e.g. env.SERVICE1_BUILD for service-1 see the same build.",
)
@store_options
@json_option
def publish_artifact_cmd(
    service: str,
    build: str | None,
    job: str | None,
    image: str | None,
    digest: str | None,
    resolve_digest: bool,
    commit: str | None,
    message: str | None,
    url: str | None,
    output_dir: Path,
    no_register: bool,
    legacy_keys: tuple[str, ...],
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
            resolve_digest=resolve_digest,
            legacy_keys=legacy_keys,
        )

    if no_register:
        result = run(None)
    else:
        with open_store(server, token, db) as store:
            result = run(store)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
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
      shell           export NAME='value' lines, safe to eval: only each service's
                      <KEY>_BUILD/_IMAGE/_DIGEST/_COMMIT/_COMMIT_MSG/_SERVICE, checked
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
        owned, ignored = pipeline.shell_variables(variables)
        if ignored:
            _notice(f"not exported (not a service variable of these files): {', '.join(ignored)}")
        _print(dotenv.render_shell(owned), nl=False)
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
@store_options
@jenkins_options
def set_display_name_cmd(
    job: str | None,
    build: str | None,
    name: str | None,
    print_only: bool,
    server: str | None,
    token: str | None,
    db: str,
    jenkins_url: str | None,
    jenkins_user: str | None,
    jenkins_timeout: float,
) -> None:
    """Set the Jenkins build's display name from the git commit message.

    Posts the build's configSubmit form (with the crumb), keeping its description, then records
    the name in the store when one is configured (--server, or an explicit --db). A build the
    store does not know yet is only a notice: publish-artifact records the name later.

    \b
    Example (first step of a service build; JOB_NAME and BUILD_NUMBER are set by Jenkins):
      export JENKINS_USER=ci JENKINS_API_TOKEN=...
      pipelinelib set-display-name
    \b
    Example (only print what the name would be):
      pipelinelib set-display-name --print
    """
    from pipelinelib import git, pipeline

    display_name = name if name is not None else git.head_message()
    display_name = pipeline.jenkins_display_name(display_name)
    if print_only:
        _print(display_name)
        return
    if job is None:
        raise InvalidInputError(f"no job name: pass --job or set {ENV_JOB}")
    if build is None:
        raise InvalidInputError(f"no build number: pass --build or set {ENV_BUILD}")
    with pipeline.open_jenkins(jenkins_url, jenkins_user, jenkins_timeout) as jenkins:
        if _store_configured(server):
            with open_store(server, token, db) as store:
                result = pipeline.set_display_name(
                    jenkins, job=job, build=build, name=display_name, store=store
                )
        else:
            result = pipeline.set_display_name(jenkins, job=job, build=build, name=display_name)
    click.echo(f"display name of {result.job} #{result.number} set in Jenkins")
    if result.recorded:
        click.echo("recorded in the store")
    elif result.recorded is False:
        _notice(
            f"{result.job} #{result.number} is not in the store yet; "
            "publish-artifact records the name with the build"
        )


@cli.command("list-builds")
@click.option("--job", required=True, help="Jenkins job full name (folders allowed).")
@click.option(
    "--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="At most N."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["choices", "json"]),
    default="choices",
    show_default=True,
    help="choices: one NUMBER-SUBJECT per line; json: the builds as JSON.",
)
@click.option(
    "--source",
    type=click.Choice(["service", "jenkins"]),
    default="service",
    show_default=True,
    help="Ask the store (service or local database) or Jenkins itself.",
)
@store_options
@jenkins_options
def list_builds_cmd(
    job: str,
    limit: int,
    fmt: str,
    source: str,
    server: str | None,
    token: str | None,
    db: str,
    jenkins_url: str | None,
    jenkins_user: str | None,
    jenkins_timeout: float,
) -> None:
    """List the newest successful builds of a job, newest first.

    With --source jenkins: one request (tree=builds[...]{0,N}); more pages only when the first
    holds fewer than N successful builds. Running builds (result null) are skipped.

    \b
    Example:
      pipelinelib list-builds --job deploy-test --limit 20
      pipelinelib list-builds --job team/service1-build --source jenkins --format json
    """
    from pipelinelib import pipeline

    if source == "jenkins":
        with pipeline.open_jenkins(jenkins_url, jenkins_user, jenkins_timeout) as jenkins:
            builds = pipeline.list_jenkins_builds(jenkins, job, limit=limit)
        if fmt == "json":
            _emit_json({"builds": [b.to_dict() for b in builds]})
        else:
            _print("".join(f"{b.choice}\n" for b in builds), nl=False)
        return
    with open_store(server, token, db, read_only=True) as store:
        if fmt == "json":
            manifests = pipeline.list_builds(store, job, limit=limit)
            _emit_json({"builds": [m.to_dict() for m in manifests]})
        else:
            choices = pipeline.list_choices(store, job, limit=limit)
            _print("".join(f"{c}\n" for c in choices), nl=False)


@cli.command("copy-artifact")
@click.option("--project", required=True, help="Jenkins job full name to copy from.")
@click.option(
    "--filter",
    "includes",
    required=True,
    help="Comma-separated Ant patterns (**/*.groovy, output/); '' means everything.",
)
@click.option("--excludes", help="Comma-separated Ant patterns to leave out.")
@click.option(
    "--target",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory to copy into.",
)
@click.option("--flatten", is_flag=True, help="Drop the directories; keep file names only.")
@click.option(
    "--selector",
    default="lastSuccessful",
    show_default=True,
    help="lastSuccessful, lastStable, lastCompleted, a build number or a choice '12-Fix login'.",
)
@click.option(
    "--optional",
    is_flag=True,
    help="No build or no matching artifact is a notice, not an error (a missing job still is).",
)
@click.option(
    "--fingerprint", is_flag=True, help="Record each file's MD5 in TARGET/fingerprints.json."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=2,
    show_default=True,
    help="Parallel downloads (more for a high-latency link to Jenkins).",
)
@jenkins_options
@json_option
def copy_artifact_cmd(
    project: str,
    includes: str,
    excludes: str | None,
    target: Path,
    flatten: bool,
    selector: str,
    optional: bool,
    fingerprint: bool,
    workers: int,
    jenkins_url: str | None,
    jenkins_user: str | None,
    jenkins_timeout: float,
    as_json: bool,
) -> None:
    """Copy a build's archived artifacts from Jenkins, like the Copy Artifact plugin.

    One metadata request, then the matching files streamed to disk in parallel. Artifact paths
    are untrusted: absolute paths, '..', backslashes and drive letters are refused, and no
    symlink is followed or created. --timeout, when given, also bounds the whole copy (default:
    30 minutes); a copy that fails, times out or is terminated leaves no partial file.
    --optional forgives a missing build or no matching artifact, never a missing job.

    \b
    Example:
      pipelinelib copy-artifact --project team/service1-build --filter 'output/*.env.groovy' \\
        --target import --flatten --selector "$BUILD_TO_DEPLOY" --fingerprint
    """
    import time

    from pipelinelib import pipeline

    given = click.get_current_context().get_parameter_source("jenkins_timeout")
    overall = jenkins_timeout if given != click.core.ParameterSource.DEFAULT else COPY_DEADLINE
    deadline = time.monotonic() + overall
    renderer = _progress_renderer(err=True)
    received = [0, 0]  # bytes, files

    def on_bytes(n: int) -> None:
        received[0] += n
        renderer.update("copy", _copy_progress(project, received))

    def on_file(copied: Any) -> None:
        received[1] += 1
        renderer.update("copy", _copy_progress(project, received))

    with pipeline.open_jenkins(jenkins_url, jenkins_user, jenkins_timeout) as jenkins:
        try:
            result = pipeline.copy_artifact(
                jenkins,
                project=project,
                selector=selector,
                target=target,
                includes=includes,
                excludes=excludes,
                flatten=flatten,
                optional=optional,
                fingerprint=fingerprint,
                workers=workers,
                deadline=deadline,
                on_bytes=on_bytes,
                on_file=on_file,
            )
        finally:
            renderer.close()
    if not result.files:
        where = f"{project} #{result.number}" if result.number else f"{project} ({selector})"
        _notice(f"nothing copied from {where}: no build or no matching artifact (--optional)")
    if as_json:
        _emit_json(result.to_dict())
        return
    if fingerprint:
        for line in pipeline.fingerprint_lines(result):
            _print(line)
    if result.files:
        click.echo(
            f"copied {len(result.files)} artifact(s) of {result.job} #{result.number} "
            f"to {result.target}"
        )
    if result.fingerprints_file is not None:
        click.echo(f"wrote {result.fingerprints_file}")


class _TerraformArgsCommand(click.Command):
    """A terraform option given before ``--`` gets an error that shows the ``--`` form."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            # `-force` is reported as `-f`: show the whole word the person typed.
            word = next((a for a in given if a.startswith(exc.option_name)), exc.option_name)
            rest = list(given)
            if word in rest:
                rest.remove(word)
            rest += [word] if "--" in rest else ["--", word]
            raise click.UsageError(
                f"No such option {word!r}: terraform's own options go after --, as in "
                f"pipelinelib orchestrate {shlex.join(rest)}",
                ctx,
            ) from exc


@cli.command(
    "orchestrate",
    cls=_TerraformArgsCommand,
    context_settings={"ignore_unknown_options": False, "allow_interspersed_args": True},
)
@click.argument("command", metavar="CMD")
@click.argument("stack")
@click.argument("region", required=False)
@click.argument("tf_args", nargs=-1, metavar="[-- TF_ARGS...]")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("terraform"),
    show_default=True,
    help="Orchestration root holding config/ and src/.",
)
@click.option(
    "--import-dir",
    type=click.Path(path_type=Path),
    help="Directory of imported *.env.groovy files; their builds become service_builds.",
)
@click.option(
    "--runner",
    type=click.Choice(["native", "docker"]),
    default="native",
    show_default=True,
    help="Run terraform directly, or in the pinned hashicorp/terraform image.",
)
@click.option("--dry-run", is_flag=True, help="Print the exact commands; run and write nothing.")
@click.option(
    "--confirm-live",
    is_flag=True,
    help="Allow apply, destroy and state changes (import, state mv/rm, ...) of a *-live stack.",
)
@click.option(
    "--builds-style",
    type=click.Choice(["map", "legacy"]),
    help="How imported builds reach terraform: map (service_builds) or legacy (-var "
    "SERVICE-build=N) [default: the stack's pipelinelib.toml, else map].",
)
@click.option(
    "-var",
    "tf_vars",
    multiple=True,
    metavar="NAME=VALUE",
    help="A terraform variable, as the old ./orchestrate wrapper took it (= -- -var NAME=VALUE).",
)
@click.option(
    "-var-file",
    "tf_var_files",
    multiple=True,
    metavar="FILE",
    help="A terraform variables file (= -- -var-file=FILE).",
)
@click.option(
    "--terraform",
    "terraform_bin",
    envvar=ENV_TERRAFORM,
    show_envvar=True,
    help="Terraform binary [default: terraform on PATH].",
)
@click.option(
    "--terraform-image",
    envvar=ENV_TERRAFORM_IMAGE,
    show_envvar=True,
    help="Image of --runner docker [default: hashicorp/terraform:1.11.4].",
)
def orchestrate_cmd(
    command: str,
    stack: str,
    region: str | None,
    tf_args: tuple[str, ...],
    root: Path,
    import_dir: Path | None,
    runner: str,
    dry_run: bool,
    confirm_live: bool,
    builds_style: str | None,
    tf_vars: tuple[str, ...],
    tf_var_files: tuple[str, ...],
    terraform_bin: str | None,
    terraform_image: str | None,
) -> None:
    """Run terraform CMD on STACK with the conventions of the orchestration root.

    CMD is init, plan, apply, destroy, plan-destroy, output or validate, or one of the
    terraform commands passed through with the same conventions: state, import, show, refresh,
    force-unlock, console. Every variable orchestrate passes must be declared by the stack
    (checked before terraform starts). The stack's files
    (src/STACK, else its family src/NAME for STACK NAME-ENV, else the folder named in
    config/REGION/STACK/source) and config (config/REGION/STACK/tf-config.tf and
    variables.tfvars) are assembled in ROOT/.work/REGION/STACK; the sources are never written.
    --import-dir passes the builds as service_builds and, to stacks declaring it, the images
    (repository@sha256:... when the manifest has a digest) as service_images. Arguments after
    `--` go to terraform unchanged, each as its own argument. Terraform's output and exit code
    pass through.

    \b
    Example (a deploy job):
      pipelinelib orchestrate init appcluster-test ap-southeast-2
      pipelinelib orchestrate apply appcluster-test ap-southeast-2 --import-dir import
      pipelinelib orchestrate apply appcluster-live ap-southeast-2 --import-dir import --confirm-live
      pipelinelib orchestrate output appcluster-test ap-southeast-2 -- -json
      pipelinelib orchestrate state appcluster-test ap-southeast-2 -- mv OLD_ADDRESS NEW_ADDRESS
    """
    from pipelinelib import pipeline

    if region is not None and region.startswith("-"):  # `STACK -- -json`: no region given
        tf_args = (region, *tf_args)
        region = None
    given = [*(f"-var={v}" for v in tf_vars), *(f"-var-file={f}" for f in tf_var_files)]
    tf_args = (*given, *tf_args)
    planned = pipeline.orchestrate(
        command,
        stack,
        region,
        root=root,
        import_dir=import_dir,
        runner=runner,
        extra_args=tf_args,
        confirm_live=confirm_live,
        dry_run=dry_run,
        terraform=terraform_bin,
        builds_style=builds_style,
        terraform_image=terraform_image,
    )
    if dry_run:
        for line in planned.describe():
            _print(line)


@cli.command("verify-images")
@import_dir_option
@region_option
@click.option(
    "--strict",
    is_flag=True,
    help="Also fail on images that cannot be verified (not in ECR, or no image recorded).",
)
@json_option
def verify_images_cmd(import_dir: Path, region: str | None, strict: bool, as_json: bool) -> None:
    """Check that every imported image (and its recorded digest) exists in ECR.

    Reads IMPORT_DIR/manifest.json, or the *.env.groovy files there when it is absent. A tag that
    is missing, or that now points at another digest than the manifest recorded, fails with exit
    10 naming every such service at once. Images outside ECR are warnings (errors with --strict).

    \b
    Example (in a deploy job, before orchestrate apply):
      pipelinelib verify-images --import-dir import --region ap-southeast-2
    """
    from pipelinelib import _extras, pipeline

    _extras.require("aws", "verify-images")

    report = pipeline.verify_imported_images(import_dir, region=region, strict=strict)
    if as_json:
        _emit_json(report.to_dict())
    else:
        for check in report.checks:
            _print(f"{check.status:<15} {check.service}: {check.image or '-'} ({check.detail})")
    for warning in report.warnings:
        click.echo(f"warning: {warning.service}: {warning.detail}", err=True)
    report.raise_for_problems()
    if not as_json:
        verified = sum(1 for c in report.checks if c.is_ok)
        _print(f"verified {verified} of {len(report.checks)} images")


def _parse_duration(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from pipelinelib.formats.duration import parse_duration

    try:
        return parse_duration(value)
    except InvalidInputError as exc:
        raise click.BadParameter(str(exc)) from None


def _parse_expectations(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in value:
        name, sep, task_definition = item.partition("=")
        if not sep or not name or not task_definition:
            raise click.BadParameter(f"expected SERVICE=TASK_DEFINITION, got {item!r}")
        result[name] = task_definition
    return result


@cli.command("wait-rollout")
@click.option("--cluster", required=True, help="ECS cluster name or ARN.")
@click.option(
    "--service",
    "services",
    multiple=True,
    help="Service to follow (repeatable) [default: every service with a rollout under way].",
)
@click.option(
    "--timeout",
    default="15m",
    show_default=True,
    callback=_parse_duration,
    help="Give up after this long: 90s, 15m, 1h, 1h30m or seconds.",
)
@click.option(
    "--poll-interval",
    default="10s",
    show_default=True,
    callback=_parse_duration,
    help="Time between DescribeServices polls.",
)
@click.option(
    "--task-definition",
    "task_definitions",
    multiple=True,
    callback=_parse_expectations,
    metavar="SERVICE=ARN",
    help="The task definition the apply deployed (repeatable): a rollback that finished before "
    "wait-rollout started is caught too.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the outcome JSON to this file, on failure too (for record-deployment "
    "--rollout, so a failed rollout reaches the ledger's history).",
)
@region_option
@json_option
def wait_rollout_cmd(
    cluster: str,
    services: tuple[str, ...],
    timeout: float,
    poll_interval: float,
    task_definitions: dict[str, str],
    output: Path | None,
    region: str | None,
    as_json: bool,
) -> None:
    """Follow each ECS service's PRIMARY deployment until its rollout COMPLETED.

    Fails (exit 11) when a rollout FAILED, when the deployment circuit breaker rolled the service
    back (its PRIMARY deployment no longer runs the deployed task definition), or on timeout,
    naming the service and its last ECS events. Progress goes to stdout (stderr with --json, where
    stdout is the outcome that record-deployment can store).

    \b
    Example (in a deploy job, after orchestrate apply):
      pipelinelib wait-rollout --cluster beta --service service1 --service service2 --timeout 15m
    """
    from pipelinelib import _extras, pipeline
    from pipelinelib.errors import RolloutError

    renderer = _progress_renderer(err=as_json)

    _extras.require("aws", "wait-rollout")

    def progress(update: pipeline.RolloutProgress) -> None:
        state = update.state
        where = f"deployment {state.deployment_id}, {state.task_definition}"
        line = (
            f"{state.service}: {state.status} "
            f"running {state.running}/{state.desired}, pending {state.pending} ({where})"
        )
        if state.failed_tasks:
            line += f", {state.failed_tasks} tasks failed"
        for event in update.new_events:
            renderer.event(f"    {event}")
        renderer.update(state.service, line)

    try:
        outcome = pipeline.wait_rollout(
            cluster,
            services,
            timeout=timeout,
            poll_interval=poll_interval,
            on_progress=progress,
            expected_task_definitions=task_definitions,
            output=output,
            region=region,
        )
    except RolloutError as exc:
        renderer.close()
        failed = pipeline.failed_outcome(exc)
        if failed is not None and as_json:
            _emit_json(failed.to_dict())
        raise
    renderer.close()
    if as_json:
        _emit_json(outcome.to_dict())
        return
    for result in outcome.services:
        _print(f"{result.service}: {result.status} ({result.state.task_definition})")


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
    with open_store(server, token, db, read_only=True) as store:
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
    help="File of 'TOKEN SCOPE[,SCOPE] [identity=NAME]' lines (scopes publish, read, approve).",
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
@environments_option
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

    from pipelinelib import _extras

    _extras.require("server", "pipelinelib serve")
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
        environments=load_environments_option(),
    )
    click.echo(f"serving on http://{host}:{port}/ (store {db})", err=True)
    run_simple(host, port, app, threaded=True, use_reloader=False)


@cli.command("record-deployment")
@click.option(
    "--environment", required=True, help="The environment deployed to (test, beta, staging, ...)."
)
@import_dir_option
@job_option()
@build_option
@url_option
@click.option("--display-name", help="Name of this deploy build [default: the imported one].")
@click.option(
    "--deployed-by",
    envvar="BUILD_USER_ID",
    show_envvar=True,
    help="Who started the deployment (Jenkins' build-user-vars plugin sets BUILD_USER_ID).",
)
@click.option(
    "--rollout",
    "rollout_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The JSON `wait-rollout --json` printed; a service that did not complete records "
    "the deployment as FAILURE.",
)
@click.option(
    "--destroyed",
    is_flag=True,
    help="Record that the environment was destroyed (an empty deployment; no import needed).",
)
@click.option(
    "--started-at",
    help="When this deploy build started, for the history's duration: RFC 3339 "
    "(2026-11-29T10:00:00Z) or milliseconds since the epoch (Jenkins' "
    "currentBuild.startTimeInMillis).",
)
@promotion_options
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Run every check the store would make (order, lock, freeze, approvals) and record "
    "nothing: deploy jobs run it before they apply.",
)
@output_dir_option
@store_options
@json_option
def record_deployment_cmd(
    environment: str,
    import_dir: Path,
    job: str | None,
    build: str | None,
    url: str | None,
    display_name: str | None,
    deployed_by: str | None,
    rollout_file: Path | None,
    destroyed: bool,
    started_at: str | None,
    kind: str,
    reason: str | None,
    skip_order: bool,
    override_freeze: bool,
    lock_holder: str | None,
    check_only: bool,
    output_dir: Path,
    server: str | None,
    token: str | None,
    db: str,
    as_json: bool,
) -> None:
    """Record this deploy build with the imported manifest unchanged; re-archive it to output/.

    With an environments file the store also enforces the promotion rules (docs/promotion.md):
    the declared order, locks, freeze windows and approvals.

    Run after a successful `orchestrate apply`. The store refuses a deployment whose services
    differ from its source build's (except overrides declared at import), or whose source is
    missing or failed: nothing is recorded then.

    \b
    Example (in deploy-beta, after importing deploy-test's chosen build and applying):
      pipelinelib record-deployment --environment beta
    """
    from pipelinelib import pipeline

    if build is None:
        raise InvalidInputError(f"no build number: pass --build or set {ENV_BUILD}")
    if job is None:
        raise InvalidInputError(f"no job name: pass --job or set {ENV_JOB}")
    rollout = pipeline.read_rollout_file(rollout_file) if rollout_file is not None else None
    with open_store(server, token, db) as store:
        result = pipeline.record_deployment(
            store,
            environment=environment,
            job=job,
            number=build,
            import_dir=import_dir,
            output_dir=output_dir,
            display_name=display_name,
            url=url,
            deployed_by=deployed_by,
            rollout=rollout,
            destroyed=destroyed,
            **promotion_arguments(kind, reason, skip_order, override_freeze, lock_holder),
            check_only=check_only,
            started_at=_instant_option(started_at, "--started-at"),
        )
    deployed = result.deployment
    if check_only:
        if as_json:
            _emit_json({"would_create": result.created, "deployment": deployed.to_dict()})
        else:
            verb = "would record" if result.created else "already recorded"
            _print(f"checked: {verb} {deployed.job} #{deployed.number} -> {environment}")
        return
    if as_json:
        _emit_json(deployed.to_dict())
        return
    state = "recorded" if result.created else "already recorded"
    _print(f"{state}: {deployed.job} #{deployed.number} -> {environment} ({deployed.result})")
    for name, entry in deployed.services.items():
        _print(f"  {name} {entry.build} {entry.subject}")
    _print(f"wrote {result.manifest_file}")


@cli.command("status")
@click.option("--environment", help="Only this environment.")
@store_options
@json_option
def status_cmd(
    environment: str | None, server: str | None, token: str | None, db: str, as_json: bool
) -> None:
    """What is where: per environment, the deployed build and each service's build and subject.

    \b
    Example:
      pipelinelib status
      pipelinelib status --environment live --json
    """
    from pipelinelib import pipeline

    with open_store(server, token, db, reading=True) as store:
        current = pipeline.status(store, environment, load_environments_option().names)
    if as_json:
        _emit_json({"environments": {env: m.to_dict() for env, m in current.items()}})
        return
    from pipelinelib.ledger import status_lines

    _print("\n".join(status_lines(current)))


@cli.command("diff")
@click.argument("from_environment", metavar="FROM_ENV")
@click.argument("to_environment", metavar="TO_ENV")
@store_options
@json_option
def diff_cmd(
    from_environment: str,
    to_environment: str,
    server: str | None,
    token: str | None,
    db: str,
    as_json: bool,
) -> None:
    """Per service: the build in each environment and what promoting FROM_ENV to TO_ENV changes.

    \b
    Example:
      pipelinelib diff staging live
    """
    from pipelinelib import pipeline

    with open_store(server, token, db, reading=True) as store:
        result = pipeline.diff(
            store, from_environment, to_environment, load_environments_option().names
        )
    if as_json:
        _emit_json(result.to_dict())
        return

    from pipelinelib.ledger import diff_lines

    _print("\n".join(diff_lines(result)))


@cli.command("demo")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-workdir"),
    show_default=True,
    help="Fresh directory the demo works in (it must be empty or not exist).",
)
@click.option(
    "--environments-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The environments to show [default: this repository's pipelinelib.toml].",
)
def demo_cmd(workdir: Path, environments_file: Path | None) -> None:
    """Run the pipeline as a local dry run and explain each step.

    \b
    Example:
      pipelinelib demo --workdir /tmp/pipelinelib-demo
    """
    from pipelinelib import _extras, demo

    _extras.require("store", "pipelinelib demo")
    demo.run(workdir, echo=click.echo, environments=environments_file)


@cli.command("backfill")
@click.option("--jenkins-job", "job", required=True, help="Jenkins job whose builds to record.")
@click.option(
    "--limit",
    type=click.IntRange(1, 10000),
    default=100,
    show_default=True,
    help="How many of the newest successful builds to read (Jenkins lists the newest 100).",
)
@click.option(
    "--environment",
    help="The job is a deploy job of this environment: record deployments, not service builds.",
)
@click.option("--dry-run", is_flag=True, help="Read and check every build; record nothing.")
@jenkins_options
@store_options
@json_option
def backfill_cmd(
    job: str,
    limit: int,
    environment: str | None,
    dry_run: bool,
    jenkins_url: str | None,
    jenkins_user: str | None,
    jenkins_timeout: float,
    server: str | None,
    token: str | None,
    db: str,
    as_json: bool,
) -> None:
    """Record a job's existing Jenkins builds in the store, so pre-migration builds can be promoted.

    Reads each successful build's display name and archived *.env.groovy artifacts (old
    `env.SERVICE1_BUILD=90` files included). Service build jobs first, then deploy jobs with
    --environment. Each build is recorded whole or refused with its reason; running it again
    records nothing twice. Exits 1 when any build was refused.

    \b
    Example (once per job, before switching the job over):
      pipelinelib backfill --jenkins-job service1
      pipelinelib backfill --jenkins-job deploy-test --environment test
    """
    from pipelinelib import pipeline
    from pipelinelib.errors import PartlyRefusedError
    from pipelinelib.pipeline.backfill import REFUSED, backfill

    def show(outcome: Any) -> None:
        if as_json:
            return
        services = ", ".join(f"{k}={v}" for k, v in sorted(outcome.services.items()))
        detail = outcome.reason if outcome.status == REFUSED else services
        _print(f"{job} #{outcome.number}: {outcome.status}" + (f" ({detail})" if detail else ""))

    with pipeline.open_jenkins(jenkins_url, jenkins_user, jenkins_timeout) as client:
        if dry_run:
            report = backfill(
                client, None, job=job, limit=limit, environment=environment, progress=show
            )
        else:
            with open_store(server, token, db) as store:
                report = backfill(
                    client, store, job=job, limit=limit, environment=environment, progress=show
                )
    if as_json:
        _emit_json(report.to_dict())
    if report.refused:
        raise PartlyRefusedError(
            f"{len(report.refused)} of {len(report.outcomes)} build(s) of {job} refused; "
            "nothing was recorded for them"
        )


@cli.group("store")
def store_group() -> None:
    """Move the whole store: export it as JSON Lines, import it into another (see
    docs/operations.md: SQLite to PostgreSQL, backup and restore).

    \b
    Example:
      pipelinelib store export --db sqlite:///var/lib/pipelinelib/pipelinelib.db store.jsonl
      pipelinelib store import --db postgresql://pipelinelib@db.internal/pipelinelib store.jsonl
    """


_db_option = click.option(
    "--db",
    envvar=ENV_DB,
    default=DEFAULT_DB,
    show_default=True,
    show_envvar=True,
    help="SQLAlchemy URL of the store: sqlite:///PATH or postgresql://USER@HOST/DB.",
)


@store_group.command("export")
@click.argument("file", required=False, default="-", type=click.Path(allow_dash=True))
@_db_option
def store_export_cmd(file: str, db: str) -> None:
    """Write every table of the store to FILE (default: stdout) as JSON Lines.

    Reads one consistent snapshot while the service keeps serving.

    \b
    Example:
      pipelinelib store export --db sqlite:///var/lib/pipelinelib/pipelinelib.db store.jsonl
    """
    _require_local_store(db, "pipelinelib store export")
    from pipelinelib import files
    from pipelinelib.store.transfer import export_store

    with open_store(None, None, db) as store:
        if file == "-":
            result = export_store(store, sys.stdout)
        else:
            with files.open_for_export(Path(file)) as out:
                result = export_store(store, out)
    rows = ", ".join(f"{name} {count}" for name, count in result.rows.items())
    click.echo(f"exported {result.total} rows (revision {result.revision}): {rows}", err=True)


@store_group.command("import")
@click.argument("file", required=False, default="-", type=click.Path(allow_dash=True))
@_db_option
def store_import_cmd(file: str, db: str) -> None:
    """Import an export into the store, all or nothing.

    Records already stored identically are skipped; a conflicting record (another build with
    the same job #number, or the same id with other content) refuses the whole import.

    \b
    Example:
      pipelinelib store import --db postgresql://pipelinelib@db.internal/pipelinelib store.jsonl
    """
    _require_local_store(db, "pipelinelib store import")
    from pipelinelib import files
    from pipelinelib.store.transfer import import_store

    with open_store(None, None, db) as store:
        if file == "-":
            result = import_store(store, sys.stdin)
        else:
            with files.open_for_import(Path(file)) as lines:
                result = import_store(store, lines)
    rows = ", ".join(f"{name} {count}" for name, count in result.rows.items())
    same = sum(result.skipped.values())
    click.echo(f"imported {result.total} rows: {rows}; {same} already stored identically", err=True)


class _Terminated(BaseException):
    """SIGTERM (Jenkins aborting a build) as an exception, so cleanup and outcome files run."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated()


def main(argv: list[str] | None = None) -> None:
    """Entry point: one ``error: ...`` line and the error's exit code, never a traceback."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        rv = cli.main(args=argv, prog_name="pipelinelib", standalone_mode=False)
    except _Terminated:
        click.echo("error: terminated (SIGTERM); partial work was cleaned up", err=True)
        sys.exit(143)
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
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    sys.exit(rv if isinstance(rv, int) else 0)


@cli.command("history")
@click.option("--environment", help="Only this environment.")
@click.option("--service", help="Only deployments that ran this service.")
@click.option("--since", help="Only deployments recorded at or after DATE (ISO 8601; UTC).")
@click.option("--before", type=int, help="Continue after a previous page (its next_before).")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@store_options
@json_option
def history_cmd(
    environment: str | None,
    service: str | None,
    since: str | None,
    before: int | None,
    limit: int,
    server: str | None,
    token: str | None,
    db: str,
    as_json: bool,
) -> None:
    """Deployments, newest first: result (SUCCESS, FAILURE, ROLLED_BACK), who, approvals,
    overrides and reasons.

    \b
    Example:
      pipelinelib history --environment live --since 2026-11-01
      pipelinelib history --service service1 --json
    """
    from pipelinelib.insight import history_lines, parse_since
    from pipelinelib.pipeline import query

    after = parse_since(since)
    with open_store(server, token, db) as store:
        page = query.history(
            store, environment=environment, service=service, since=after, before=before, limit=limit
        )
    if as_json:
        _emit_json(page.to_dict())
        return
    _print("\n".join(history_lines(page)))


@cli.command("metrics")
@click.option("--environment", help="Only this environment.")
@click.option("--window", default="30d", show_default=True, help="How far back: 7d, 30d, 12h.")
@store_options
@json_option
def metrics_cmd(
    environment: str | None,
    window: str,
    server: str | None,
    token: str | None,
    db: str,
    as_json: bool,
) -> None:
    """DORA metrics from the ledger: deployment frequency, lead time for changes, change failure
    rate and time to restore, per environment and per service (docs/insight.md).

    \b
    Example:
      pipelinelib metrics --window 30d
      pipelinelib metrics --environment live --window 90d --json
    """
    from pipelinelib.insight import metrics_lines, parse_window
    from pipelinelib.pipeline import query

    parse_window(window)  # a bad window is refused before the store is opened
    with open_store(server, token, db) as store:
        report = query.metrics_document(
            store,
            window=window,
            environment=environment,
            declared=() if server else load_environments_option().names,
        )
    if as_json:
        _emit_json(report)
        return
    _print("\n".join(metrics_lines(report)))


# The promotion control commands (lock, approve, rollback, environments, ...) live in their own
# module; importing it registers them on the group above.
from pipelinelib import cli_control  # noqa: E402, F401
