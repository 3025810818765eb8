"""Terraform stacks by convention: plan the exact commands, assemble a working copy, run them.

The layout under the orchestration root (``terraform/`` by default)::

    config/<region>/<stack>/tf-config.tf        backend and terraform settings of that deployment
    config/<region>/<stack>/variables.tfvars    its inputs
    config/<region>/<stack>/source              optional: one line naming the folder under src/
    src/<root>/                                 a root module's .tf files (one per kind of stack)
    src/modules/<name>/                         modules, referenced as source = "../modules/<name>"

A stack's sources are found from its config: the folder named in ``config/.../<stack>/source``,
else ``src/<stack>`` itself, else its *family*: the stack name without its last ``-<part>``
(``appcluster-test`` -> ``src/appcluster``), so every environment of a kind shares one root and
adding an environment is a config folder.

Terraform never runs in ``src/``: each run assembles ``<root>/.work/<region>/<stack>/`` (the stack's
files plus ``tf-config.tf``) beside a ``<root>/.work/<region>/modules`` symlink to ``src/modules``,
so ``../modules/<name>`` resolves exactly as it does in the sources, ``.terraform/`` and local
state survive between ``init`` and ``plan``, and the sources stay untouched. A stack without a
region uses ``config/<stack>/`` and ``.work/_noregion/<stack>/``.

:func:`plan_orchestration` only computes: it validates names, finds the folders and returns an
:class:`Orchestration` (the work-dir contents and the exact argv of every terraform command).
:func:`execute` writes the work dir and runs the commands, streaming their output; a non-zero
exit becomes :class:`~pipelinelib.errors.TerraformError` carrying terraform's code.
"""

from __future__ import annotations

import fcntl
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import attrs

from pipelinelib import files, stackvars
from pipelinelib.errors import (
    ConfirmationRequiredError,
    FileAccessError,
    InvalidInputError,
    InvalidNameError,
    NotFoundError,
    TerraformError,
)
from pipelinelib.formats import tfvars
from pipelinelib.model import ServiceBuild, validate_service_name

# Terraform commands passed through with the conventions applied (work dir, config, variables):
# what a team adopting a new module needs to move state and look at it.
PASSTHROUGH_COMMANDS = ("state", "import", "show", "refresh", "force-unlock", "console")
COMMANDS = (
    "init",
    "plan",
    "apply",
    "destroy",
    "plan-destroy",
    "output",
    "validate",
    *PASSTHROUGH_COMMANDS,
)
RUNNERS = ("native", "docker")
LIVE_PATTERN = "*-live"
GUARDED_COMMANDS = frozenset({"apply", "destroy", "import", "refresh", "force-unlock"})
# `terraform state` subcommands that change state (list, show and pull only read it).
GUARDED_STATE_SUBCOMMANDS = frozenset({"mv", "rm", "push", "replace-provider"})
# The commands that read variables (validate and output take none in Terraform >= 0.12).
_VARIABLE_COMMANDS = frozenset(
    {"plan", "apply", "destroy", "plan-destroy", "import", "refresh", "console"}
)
# Before these, `terraform get` refreshes the module tree, as the old wrapper did.
_GET_FIRST = frozenset({"plan", "apply", "destroy", "plan-destroy", "validate"})

TF_CONFIG = "tf-config.tf"
TF_VARIABLES = "variables.tfvars"
SOURCE_FILE = "source"
BUILDS_FILE = "service_builds.auto.tfvars.json"
IMAGES_FILE = "service_images.auto.tfvars.json"
WORK_DIR = ".work"
NO_REGION = "_noregion"
_MANIFEST = ".pipelinelib-files.json"
_LOCK = ".pipelinelib.lock"
# State and lock files left in src/ by the old wrapper (it ran terraform there) must never
# overwrite the work dir's own.
_NEVER_COPIED = frozenset(
    {
        _MANIFEST,
        _LOCK,
        "terraform.tfstate",
        "terraform.tfstate.backup",
        ".terraform.tfstate.lock.info",
    }
)

# The same floor as the stacks' required_version; PIPELINELIB_TERRAFORM_IMAGE (Settings) overrides.
DOCKER_IMAGE = "hashicorp/terraform:1.11.4"
# Passed to the container by name only: docker copies the values, they never reach argv.
DOCKER_ENV_NAMES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)
_CONTAINER_HOME = "/home/terraform"

# Stack and region names become path segments: no separators, no dots, no leading dash.
STACK_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
REGION_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# `-var` values are scalars on a command line; anything a shell would interpret belongs in
# variables.tfvars, where no shell ever sees it.
_UNSAFE_VAR_CHARS = set("'\"`$\\;&|<>(){}[]*?!#~ \t\r\n\x00")
# Set on destroy and plan-destroy for stacks that declare it: a destroy needs no builds.
DESTROYING = "destroying"
_MANAGED_VARIABLES = frozenset({"region", "service_builds", "service_images", DESTROYING})
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")  # a docker image tag
_DOCKER_UNSAFE = set(":,")  # `-v SRC:DST:ro` cannot carry these in SRC
# A docker image reference as `docker run` takes it: [host[:port]/]path[:tag][@digest].
_DOCKER_IMAGE_RE = re.compile(
    r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)
# What an ECS task definition can pin: only sha256 digests (ECR's and Docker Hub's).
_SHA256_RE = re.compile(r"sha256:[0-9a-f]{64}")
_DECLARES_IMAGES_RE = re.compile(r'(?m)^\s*variable\s+"service_images"\s*\{')

Output = Callable[[str], None]


@attrs.frozen
class Stack:
    """One deployment: a stack's sources, its config folder for a region, and its work dir."""

    root: Path
    name: str
    region: str | None
    source_dir: Path
    config_dir: Path
    modules_dir: Path
    work_dir: Path
    source_rule: str = "own folder"  # how source_dir was found: own folder, family, or source file

    @property
    def is_live(self) -> bool:
        return fnmatch.fnmatchcase(self.name, LIVE_PATTERN)

    @property
    def tf_config(self) -> Path:
        return self.config_dir / TF_CONFIG

    @property
    def variables_file(self) -> Path:
        return self.config_dir / TF_VARIABLES

    @property
    def modules_link(self) -> Path:
        """Where ``../modules`` points from the work dir."""
        return self.work_dir.parent / "modules"


@attrs.frozen
class Command:
    """One process to run: argv exactly as executed, the directory and the variables it adds."""

    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str] = attrs.field(factory=dict)

    def display(self) -> str:
        """Shell-quoted and copy-pasteable: ``cd DIR && NAME=value argv...``."""
        prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in sorted(self.env.items()))
        return f"cd {shlex.quote(str(self.cwd))} && {prefix}{shlex.join(self.argv)}"


@attrs.frozen
class Orchestration:
    """Everything a run will do, computed before anything is written or executed."""

    command: str
    stack: Stack
    runner: str
    files: Mapping[str, Path]  # work-dir relative name -> source file copied there
    generated: Mapping[str, str]  # work-dir relative name -> text written there
    commands: tuple[Command, ...]
    service_builds: Mapping[str, str] | None
    builds_style: str = "map"
    service_images: Mapping[str, str] | None = None

    def describe(self) -> list[str]:
        """The dry-run listing: file steps as comments, then each command exactly."""
        lines = [
            f"# stack {self.stack.name}: sources {self.stack.source_dir} ({self.stack.source_rule})",
            f"# work dir {self.stack.work_dir} (sources are never written)",
        ]
        for name, source in sorted(self.files.items()):
            lines.append(f"# copy {source} -> {name}")
        lines.append(f"# link {self.stack.modules_link} -> {self.stack.modules_dir}")
        for name in sorted(self.generated):
            what = "images" if name == IMAGES_FILE else "builds"
            lines.append(f"# write {name} (JSON, from the imported {what})")
        if self.service_builds is None:
            lines.append(f"# remove {BUILDS_FILE} if present (no --import-dir)")
        elif BUILDS_FILE not in self.generated:
            lines.append(f"# remove {BUILDS_FILE} if present (legacy builds style: -var)")
        if IMAGES_FILE not in self.generated:
            lines.append(f"# remove {IMAGES_FILE} if present")
        lines.extend(c.display() for c in self.commands)
        return lines


# --- planning ------------------------------------------------------------------------------


def is_guarded(command: str, tf_args: Sequence[str] = ()) -> bool:
    """Whether CMD changes the stack's resources or state (and so needs --confirm-live on live)."""
    if command == "state":
        sub = next((a for a in tf_args if not a.startswith("-")), None)
        return sub in GUARDED_STATE_SUBCOMMANDS
    return command in GUARDED_COMMANDS


def validate_request(
    command: str,
    stack: str,
    *,
    runner: str = "native",
    confirm_live: bool = False,
    tf_args: Sequence[str] = (),
) -> None:
    """The checks that need no file: command, runner, live confirmation. Cheap; call it first."""
    if command not in COMMANDS:
        raise InvalidInputError(
            f"unknown command {command!r}: choose one of {', '.join(COMMANDS)}", command=command
        )
    if runner not in RUNNERS:
        raise InvalidInputError(f"unknown runner {runner!r}: choose native or docker")
    is_live = fnmatch.fnmatchcase(stack, LIVE_PATTERN)
    if is_live and is_guarded(command, tf_args) and not confirm_live:
        what = " ".join([command, *tf_args[:1]]) if command == "state" else command
        raise ConfirmationRequiredError(
            f"{stack} is a live stack: {what} needs --confirm-live", stack=stack
        )


def _build_tag(service: str, build: object) -> str:
    tag = str(build)
    if not _TAG_RE.fullmatch(tag):
        raise InvalidInputError(f"build of {service} must be an image tag, not {tag!r}")
    return tag


def _image_ref(service: str, ref: object) -> str:
    text = str(ref)
    if not _DOCKER_IMAGE_RE.fullmatch(text) or not (":" in text.rsplit("/", 1)[-1] or "@" in text):
        raise InvalidInputError(
            f"image of {service} must be repository@sha256:... or repository:tag, not {text!r}"
        )
    return text


def validate_stack_name(name: str) -> str:
    if not isinstance(name, str) or not STACK_RE.fullmatch(name):
        raise InvalidNameError(
            f"invalid stack name {name!r}: use 1-100 characters A-Z, a-z, 0-9, '-' and '_' "
            "(no '/', '.' or leading '-')",
            name=name,
        )
    return name


def validate_region_name(name: str) -> str:
    if not isinstance(name, str) or not REGION_RE.fullmatch(name):
        raise InvalidNameError(
            f"invalid region {name!r}: use a-z, 0-9 and '-' as in ap-southeast-2", name=name
        )
    return name


def _listing(directory: Path, exclude: Sequence[str] = ()) -> str:
    try:
        names = sorted(
            p.name
            for p in directory.iterdir()
            if p.is_dir() and not p.name.startswith(".") and p.name not in exclude
        )
    except OSError:
        names = []
    return ", ".join(names) if names else "nothing"


def _family_source(src: Path, name: str) -> tuple[Path, str] | None:
    """``src/<name>``, else the longest family prefix with a folder: ``a-b-test`` -> ``a-b``, ``a``."""
    if (src / name).is_dir():
        return src / name, "own folder"
    parts = name.split("-")
    for end in range(len(parts) - 1, 0, -1):
        family = "-".join(parts[:end])
        if family != "modules" and (src / family).is_dir():
            return src / family, f"family {family}"
    return None


def _explicit_source(src: Path, source_file: Path, stack: str) -> Path:
    """The folder a config's ``source`` file names: one line, a plain folder name under src/."""
    text = files.read_text(source_file)
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    if len(lines) != 1 or not STACK_RE.fullmatch(lines[0]) or lines[0] == "modules":
        raise InvalidInputError(
            f"{source_file} must hold one line naming a folder of {src} (such as appcluster), "
            f"not {text.strip()[:100]!r}",
            stack=stack,
        )
    source_dir = src / lines[0]
    if not source_dir.is_dir():
        raise NotFoundError(
            f"{source_file} names {lines[0]!r}, but {src} has {_listing(src, exclude=['modules'])}",
            stack=stack,
        )
    return source_dir


def resolve_stack(root: Path, name: str, region: str | None = None) -> Stack:
    """Find a stack's folders; a missing one is an error that lists what does exist.

    The sources come from ``config/.../<name>/source`` when that file exists, else ``src/<name>``,
    else the stack's family (see the module docstring).
    """
    validate_stack_name(name)
    if name == "modules":
        raise InvalidNameError("'modules' is the module folder, not a stack", name=name)
    if region is not None:
        validate_region_name(region)
    root = Path(os.path.abspath(root))
    if not root.is_dir():
        raise NotFoundError(f"orchestration root {root} does not exist (see --root)")
    src = root / "src"
    config = root / "config"
    config_dir = config / name if region is None else config / region / name
    source_file = config_dir / SOURCE_FILE
    if source_file.is_file():
        source_dir, rule = _explicit_source(src, source_file, name), f"named in {source_file}"
    else:
        found = _family_source(src, name)
        if found is None:
            raise NotFoundError(
                f"unknown stack {name!r}: {src} has {_listing(src, exclude=['modules'])} "
                f"(a stack uses src/<stack>, its family src/<name-without-last-part>, or the "
                f"folder named in config/<region>/<stack>/{SOURCE_FILE})",
                stack=name,
            )
        source_dir, rule = found
    if region is None:
        work_dir = root / WORK_DIR / NO_REGION / name
        if not config_dir.is_dir():
            raise NotFoundError(
                f"no config folder {config_dir} for stack {name!r} without a region; "
                f"{config} has {_listing(config)} (give the region as the third argument)",
                stack=name,
            )
    else:
        region_dir = config / region
        if not region_dir.is_dir():
            raise NotFoundError(
                f"unknown region {region!r}: {config} has {_listing(config)}", region=region
            )
        work_dir = root / WORK_DIR / region / name
        if not config_dir.is_dir():
            raise NotFoundError(
                f"stack {name!r} has no config for {region}: {region_dir} has "
                f"{_listing(region_dir)}",
                stack=name,
                region=region,
            )
    missing = [f for f in (TF_CONFIG, TF_VARIABLES) if not (config_dir / f).is_file()]
    if missing:
        raise NotFoundError(
            f"{config_dir} must contain {TF_CONFIG} and {TF_VARIABLES}; missing: "
            + ", ".join(missing),
            stack=name,
        )
    return Stack(
        root=root,
        name=name,
        region=region,
        source_dir=source_dir,
        config_dir=config_dir,
        modules_dir=src / "modules",
        work_dir=work_dir,
        source_rule=rule,
    )


def image_refs(services: Iterable[ServiceBuild]) -> dict[str, str]:
    """``{service: image}`` to deploy: ``repository@sha256:...`` when the manifest records a digest
    (or its image URI carries one), else the manifest's ``repository:tag``.

    The result names exactly what ``verify-images`` checked, so a tag pushed again after the
    check cannot change what runs. Services without an image are left out (the stack then uses
    its own repository at the imported build). Raises :class:`InvalidInputError` when the
    recorded digest and the URI's disagree or the digest is not sha256 (ECS pins only those).
    """
    # Docker's reference rules, shared with verify-images.
    from pipelinelib.aws.ecr import parse_image

    refs: dict[str, str] = {}
    for service in services:
        if service.image is None:
            continue
        ref = parse_image(service.image)
        if ref.digest and service.digest and ref.digest != service.digest:
            raise InvalidInputError(
                f"{service.name}: the manifest records digest {service.digest} but its image "
                f"URI says {ref.digest}; run verify-images"
            )
        digest = service.digest or ref.digest
        repository = f"{ref.host}/{ref.repository}" if ref.host else ref.repository
        if digest is not None:
            if not _SHA256_RE.fullmatch(digest):
                raise InvalidInputError(
                    f"{service.name}: cannot deploy by digest {digest!r}: ECS pins sha256 digests"
                )
            refs[service.name] = f"{repository}@{digest}"
        else:
            refs[service.name] = f"{repository}:{ref.tag or service.build}"
    return refs


def declares_service_images(source_dir: Path) -> bool:
    """Whether the stack's own .tf files declare ``variable "service_images"``."""
    for path in sorted(source_dir.glob("*.tf")):
        if _DECLARES_IMAGES_RE.search(files.read_text(path)):
            return True
    return False


def check_extra_args(args: Sequence[str], cwd: Path | None = None) -> tuple[str, ...]:
    """Terraform arguments after ``--``: passed as separate argv items, ``-var`` values checked.

    Terraform runs in the work dir, so a relative ``-var-file`` is made absolute against the
    caller's directory (``cwd``, default the current one), where the person meant it.
    """
    base = Path(os.path.abspath(cwd if cwd is not None else Path.cwd()))
    checked: list[str] = []
    items = list(args)
    i = 0
    while i < len(items):
        arg = items[i]
        if not isinstance(arg, str) or "\x00" in arg:
            raise InvalidInputError(f"terraform argument {arg!r} contains a NUL byte")
        assignment: str | None = None
        if arg in ("-var-file", "--var-file") and i + 1 < len(items):
            checked.extend([arg, str(base / items[i + 1])])
            i += 2
        elif arg.startswith(("-var-file=", "--var-file=")):
            flag, _, path = arg.partition("=")
            checked.append(f"{flag}={base / path}")
            i += 1
        elif arg in ("-var", "--var"):
            if i + 1 >= len(items):
                raise InvalidInputError("-var needs a NAME=VALUE after it")
            assignment = items[i + 1]
            checked.extend([arg, assignment])
            i += 2
        elif arg.startswith(("-var=", "--var=")):
            assignment = arg.split("=", 1)[1]
            checked.append(arg)
            i += 1
        else:
            checked.append(arg)
            i += 1
        if assignment is not None:
            _check_var(assignment)
    return tuple(checked)


def _check_var(assignment: str) -> None:
    name, sep, value = assignment.partition("=")
    if not sep or not _IDENTIFIER_RE.fullmatch(name):
        raise InvalidInputError(f"-var expects NAME=VALUE with a variable name, not {assignment!r}")
    if name in _MANAGED_VARIABLES:
        raise InvalidInputError(
            f"-var {name}=... is set by orchestrate (region from the REGION argument, "
            "service_builds and service_images from --import-dir, destroying on destroy); "
            "do not pass it"
        )
    bad = sorted({c for c in value if c in _UNSAFE_VAR_CHARS or ord(c) < 32})
    if bad:
        raise InvalidInputError(
            f"-var {name}: the value {value!r} contains {''.join(bad)!r}; quotes, spaces and "
            "shell syntax are refused on the command line - put the value in variables.tfvars"
        )


def _stack_files(source_dir: Path) -> dict[str, Path]:
    """Every regular file of the stack (sub-folders too), except terraform's own state dirs."""
    found: dict[str, Path] = {}
    for path in sorted(source_dir.rglob("*")):
        rel = path.relative_to(source_dir)
        if rel.parts[0] == ".terraform" or path.name in _NEVER_COPIED:
            continue
        if path.is_file():
            found[rel.as_posix()] = path
    if not any(name.endswith((".tf", ".tf.json")) for name in found):
        raise NotFoundError(f"stack folder {source_dir} has no .tf files")
    for generated in (BUILDS_FILE, IMAGES_FILE):
        if generated in found:
            raise InvalidInputError(
                f"{source_dir / generated} is generated by --import-dir; remove it from the sources"
            )
    if TF_CONFIG in found:
        if stackvars.is_placeholder(found[TF_CONFIG]):
            # The seed's empty placeholder: the config folder's file takes its place, as the old
            # wrapper's docker mount did.
            del found[TF_CONFIG]
        else:
            raise InvalidInputError(
                f"{source_dir / TF_CONFIG} is not empty, and the config folder's {TF_CONFIG} "
                "takes its place in every run, so its settings would be silently ignored: move "
                "what it holds (backend, required_providers) to config/<region>/<stack>/"
                f"{TF_CONFIG}, or into another file such as versions.tf, and leave "
                f"src/<stack>/{TF_CONFIG} empty or delete it"
            )
    return found


def _tf_argv(
    terraform: str,
    command: str,
    stack: Stack,
    var_file: str,
    extra: tuple[str, ...],
    builds_vars: Sequence[str] = (),
) -> list[list[str]]:
    """The terraform argv lists of one CMD, without the binary's location decided yet."""
    variables: list[str] = []
    if command in _VARIABLE_COMMANDS:
        if stack.region is not None:
            variables += ["-var", f"region={stack.region}"]
        variables.append(f"-var-file={var_file}")
        for assignment in builds_vars:
            variables += ["-var", assignment]
    steps: list[list[str]] = []
    if command in _GET_FIRST:
        steps.append([terraform, "get"])
    if command == "init":
        steps.append([terraform, "init", "-input=false", *extra])
    elif command == "plan":
        steps.append([terraform, "plan", "-input=false", *variables, *extra])
    elif command == "plan-destroy":
        steps.append([terraform, "plan", "-destroy", "-input=false", *variables, *extra])
    elif command in ("apply", "destroy"):
        steps.append([terraform, command, "-input=false", "-auto-approve", *variables, *extra])
    elif command == "output":
        steps.append([terraform, "output", *extra])
    elif command == "validate":
        steps.append([terraform, "validate", *extra])
    elif command in ("import", "refresh"):
        steps.append([terraform, command, "-input=false", *variables, *extra])
    elif command == "console":
        steps.append([terraform, "console", *variables, *extra])
    elif command == "state":
        if not extra or extra[0].startswith("-"):
            raise InvalidInputError(
                "state needs a subcommand after --: e.g. orchestrate state STACK REGION -- list"
            )
        steps.append([terraform, "state", *extra])
    else:  # show, force-unlock
        steps.append([terraform, command, *extra])
    return steps


def find_terraform(configured: str | None) -> str:
    """``PIPELINELIB_TERRAFORM`` (via Settings) wins, else ``terraform`` on PATH."""
    if configured:
        path = shutil.which(configured) if os.sep not in configured else configured
        if path is None or not os.path.isfile(path) or not os.access(path, os.X_OK):
            raise NotFoundError(
                f"terraform binary {configured!r} (PIPELINELIB_TERRAFORM) is not an executable file"
            )
        return os.path.abspath(path)
    found = shutil.which("terraform")
    if found is None:
        raise NotFoundError(
            "terraform is not installed: put it on PATH or set PIPELINELIB_TERRAFORM "
            "to its path (or use --runner docker)"
        )
    return found


def _docker_argv(
    stack: Stack, tf_args: list[str], user: str, home: Path, image: str = DOCKER_IMAGE
) -> list[str]:
    """``docker run`` with the old wrapper's mounts, rebased onto the assembled work dir."""
    argv = [
        "docker",
        "run",
        "--rm",
        "--user",
        user,
        "-w",
        "/src",
        "-v",
        f"{stack.work_dir}:/src",
        "-v",
        f"{stack.modules_dir}:/modules:ro",
        "-v",
        f"{stack.variables_file}:/src/{TF_VARIABLES}:ro",
        "-v",
        f"{stack.tf_config}:/src/{TF_CONFIG}:ro",
    ]
    for mount in (stack.work_dir, stack.modules_dir, stack.config_dir):
        if _DOCKER_UNSAFE & set(str(mount)):
            raise InvalidInputError(
                f"{mount}: docker -v cannot mount a path containing ':' or ','; use --runner native"
            )
    aws_dir = home / ".aws"
    if aws_dir.is_dir():
        argv += ["-v", f"{aws_dir}:{_CONTAINER_HOME}/.aws:ro"]
    private_key = home / ".ssh" / "bastion.pem"
    if private_key.is_file():
        argv += ["-v", f"{private_key}:/private-key:ro"]
    argv += ["-e", f"HOME={_CONTAINER_HOME}", "-e", "TF_IN_AUTOMATION=1"]
    for name in DOCKER_ENV_NAMES:
        argv += ["-e", name]
    argv.append(image)
    argv.extend(tf_args[1:])  # the image's entrypoint is terraform
    return argv


def plan_orchestration(
    command: str,
    stack: str,
    region: str | None = None,
    *,
    root: Path = Path("terraform"),
    service_builds: Mapping[str, str] | None = None,
    service_images: Mapping[str, str] | None = None,
    runner: str = "native",
    extra_args: Sequence[str] = (),
    confirm_live: bool = False,
    terraform: str | None = None,
    terraform_image: str | None = None,
    dry_run: bool = False,
    home: Path | None = None,
    user: str | None = None,
    builds_style: str | None = None,
) -> Orchestration:
    """Validate everything and compute the run; writes and executes nothing.

    ``terraform`` is the configured binary (``Settings.terraform``); PATH is searched when it is
    None. In a dry run a missing binary prints as ``terraform`` rather than failing.

    ``builds_style`` says how the imported builds reach terraform: ``map`` (one
    ``service_builds`` map in a generated ``*.auto.tfvars.json``) or ``legacy`` (``-var
    <service>-build=N`` per service, for stacks still declaring the seed's variables). None
    takes the stack's ``pipelinelib.toml`` (``builds_style``), else ``map``. Before anything
    runs, every variable orchestrate passes must be declared by the stack
    (:func:`pipelinelib.stackvars.check_passed_variables`).

    ``service_images`` (from :func:`image_refs`) is written as ``service_images`` for stacks that
    declare that variable. ``terraform_image`` is the docker runner's image (default
    :data:`DOCKER_IMAGE`).
    """
    image = terraform_image or DOCKER_IMAGE
    if not _DOCKER_IMAGE_RE.fullmatch(image):
        raise InvalidInputError(
            f"terraform image {image!r} is not a docker image reference such as {DOCKER_IMAGE}"
        )
    validate_request(
        command, stack, runner=runner, confirm_live=confirm_live, tf_args=tuple(extra_args)
    )
    if builds_style is not None and builds_style not in stackvars.BUILDS_STYLES:
        raise InvalidInputError(
            f"unknown builds style {builds_style!r}: choose one of "
            + ", ".join(stackvars.BUILDS_STYLES)
        )
    extra = check_extra_args(extra_args)
    if runner == "docker" and any(a.lstrip("-").startswith("var-file") for a in extra):
        raise InvalidInputError(
            "an extra -var-file is not mounted into the container; put the values in "
            "config/<region>/<stack>/variables.tfvars"
        )
    resolved = resolve_stack(root, stack, region)
    copies = _stack_files(resolved.source_dir)
    copies[TF_CONFIG] = resolved.tf_config

    style = builds_style or stackvars.read_stack_settings(resolved.config_dir).get(
        "builds_style", "map"
    )
    generated: dict[str, str] = {}
    builds: dict[str, str] | None = None
    builds_vars: list[str] = []
    if service_builds is not None:
        builds = {validate_service_name(k): _build_tag(k, v) for k, v in service_builds.items()}
        if style == "legacy":
            builds_vars = [
                f"{stackvars.legacy_variable(name)}={tag}" for name, tag in sorted(builds.items())
            ]
        else:
            generated[BUILDS_FILE] = tfvars.render_tfvars_json(builds)
    if command in _VARIABLE_COMMANDS:
        declared = stackvars.declared_variables(copies)
        if command in ("destroy", "plan-destroy") and DESTROYING in declared:
            builds_vars.append(f"{DESTROYING}=true")
        _check_variables(resolved, declared, style, builds, builds_vars, extra)
    images: dict[str, str] | None = None
    if service_images is not None and declares_service_images(resolved.source_dir):
        images = {validate_service_name(k): _image_ref(k, v) for k, v in service_images.items()}
        generated[IMAGES_FILE] = tfvars.render_variable_json("service_images", images)

    env = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    if runner == "native":
        try:
            binary = find_terraform(terraform)
        except NotFoundError:
            if not dry_run:
                raise
            binary = terraform or "terraform"
        steps = _tf_argv(
            binary, command, resolved, str(resolved.variables_file), extra, builds_vars
        )
        commands = tuple(Command(tuple(s), resolved.work_dir, env) for s in steps)
    else:
        steps = _tf_argv("terraform", command, resolved, f"/src/{TF_VARIABLES}", extra, builds_vars)
        if user is None:
            user = f"{os.getuid()}:{os.getgid()}"
        home = home if home is not None else Path.home()
        commands = tuple(
            Command(tuple(_docker_argv(resolved, s, user, home, image)), resolved.work_dir, {})
            for s in steps
        )
    return Orchestration(
        command=command,
        stack=resolved,
        runner=runner,
        files=copies,
        generated=generated,
        commands=commands,
        service_builds=builds,
        service_images=images,
        builds_style=style,
    )


def _user_var_names(extra: Sequence[str]) -> list[str]:
    """Names set by ``-var NAME=VALUE`` / ``-var=NAME=VALUE`` among the terraform arguments."""
    names = []
    for i, arg in enumerate(extra):
        if arg in ("-var", "--var") and i + 1 < len(extra):
            names.append(extra[i + 1].partition("=")[0])
        elif arg.startswith(("-var=", "--var=")):
            names.append(arg.split("=", 2)[1])
    return names


def _check_variables(
    stack: Stack,
    declared: Mapping[str, stackvars.Variable],
    style: str,
    builds: Mapping[str, str] | None,
    builds_vars: Sequence[str],
    extra: Sequence[str],
) -> None:
    """Every variable this run passes is declared by the stack (see :mod:`stackvars`)."""
    passed: dict[str, str] = {}
    if stack.region is not None:
        passed["region"] = "the REGION argument (-var region=...)"
    if builds is not None and style == "map":
        passed["service_builds"] = f"--import-dir (as {BUILDS_FILE})"
    for assignment in builds_vars:
        name = assignment.partition("=")[0]
        passed[name] = (
            "orchestrate on destroy"
            if name == DESTROYING
            else "--import-dir with the legacy builds style"
        )
    for name in _user_var_names(extra):
        if name in passed and name not in ("region", "service_builds"):
            raise InvalidInputError(
                f"-var {name}=... is also set by orchestrate (from --import-dir with the "
                "legacy builds style): give one or the other"
            )
        passed.setdefault(name, f"-var {name}=...")
    stackvars.check_passed_variables(
        stack.name,
        declared,
        passed,
        builds_style=style,
        imported=builds or {},
    )


# --- execution ------------------------------------------------------------------------------


@contextmanager
def _locked(stack: Stack) -> Iterator[None]:
    """One run per work dir at a time: a second run waits instead of rewriting files mid-plan."""
    work_dir = files.real_dir_below(stack.root, stack.work_dir.relative_to(stack.root))
    lock = work_dir / _LOCK
    try:
        if lock.is_symlink():  # planted: never create or open a file through it
            lock.unlink()
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        handle = os.fdopen(os.open(lock, flags, 0o644), "a+b")
    except OSError as exc:
        raise FileAccessError(f"cannot lock {work_dir}: {exc.strerror}") from exc
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def assemble(orchestration: Orchestration) -> Path:
    """Bring the work dir in line with the sources; terraform's own files are left alone.

    Files copied on an earlier run that no longer exist in the sources are removed (a record of
    what was copied is kept in the work dir), so a deleted ``.tf`` file stops counting.
    """
    stack = orchestration.stack
    # Nothing written here follows a link: the work dir and each folder below it are real
    # directories, and each file is a new file renamed into place (a symlink planted in its
    # place is replaced, its target never written).
    work = files.real_dir_below(stack.root, stack.work_dir.relative_to(stack.root))
    manifest_path = work / _MANIFEST
    previous: list[str] = []
    if manifest_path.is_file():
        try:
            loaded = json.loads(files.read_text(manifest_path))
            previous = [p for p in loaded if isinstance(p, str)] if isinstance(loaded, list) else []
        except ValueError:
            previous = []
    current = set(orchestration.files) | set(orchestration.generated)
    for name in previous:
        parts = Path(name).parts
        if name in current or ".." in parts or Path(name).is_absolute():
            continue
        if any(work.joinpath(*parts[:i]).is_symlink() for i in range(1, len(parts))):
            continue  # a planted link: deleting below it would delete outside the work dir
        (work / name).unlink(missing_ok=True)
    if BUILDS_FILE not in orchestration.generated:
        (work / BUILDS_FILE).unlink(missing_ok=True)
    if IMAGES_FILE not in orchestration.generated:
        (work / IMAGES_FILE).unlink(missing_ok=True)
    for name, source in orchestration.files.items():
        parent = files.real_dir_below(work, Path(name).parent)
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise FileAccessError(f"cannot read {source}: {exc.strerror}") from exc
        files.write_atomic(parent / Path(name).name, data)
    for name, text in orchestration.generated.items():
        files.write_atomic(files.real_dir_below(work, Path(name).parent) / Path(name).name, text)
    files.write_atomic(manifest_path, json.dumps(sorted(current), indent=1) + "\n")
    _link_modules(stack)
    return work


def _link_modules(stack: Stack) -> None:
    link = stack.modules_link
    target = os.path.relpath(stack.modules_dir, link.parent)
    if link.is_symlink() and os.readlink(link) == target:
        return
    if link.exists() and not link.is_symlink():
        raise FileAccessError(f"{link} exists and is not the modules symlink; remove it")
    tmp = link.with_name(f".modules.{os.getpid()}")
    try:
        tmp.unlink(missing_ok=True)
        os.symlink(target, tmp)
        os.replace(tmp, link)
    except OSError as exc:
        raise FileAccessError(f"cannot link {link} to {stack.modules_dir}: {exc.strerror}") from exc


def _run(command: Command, output: Output | None) -> int:
    env = {**os.environ, **command.env}
    try:
        if output is None:
            return subprocess.run(command.argv, cwd=command.cwd, env=env, check=False).returncode
        with subprocess.Popen(
            command.argv,
            cwd=command.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                output(line)
            return proc.wait()
    except FileNotFoundError as exc:
        raise NotFoundError(f"cannot run {command.argv[0]}: not found") from exc
    except OSError as exc:
        raise TerraformError(f"cannot run {command.argv[0]}: {exc.strerror}", 1) from exc


def execute(orchestration: Orchestration, output: Output | None = None) -> None:
    """Assemble the work dir and run each command in turn, stopping at the first failure.

    Without ``output`` the commands inherit this process's stdout and stderr (terraform's own
    output, colours and all); with it each line (stdout and stderr merged) is handed over as it
    arrives.
    """
    with _locked(orchestration.stack):
        assemble(orchestration)
        for command in orchestration.commands:
            code = _run(command, output)
            if code != 0:
                raise TerraformError(
                    f"terraform {orchestration.command} of {orchestration.stack.name} "
                    f"failed with exit code {code}",
                    code,
                    argv=command.argv,
                )
