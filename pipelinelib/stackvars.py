"""What a stack declares, read from its sources before terraform runs, and what orchestrate may pass.

Terraform only *warns* about a value for an undeclared variable when it comes from a file
(``Value for undeclared variable``; terraform/internal/backend/backendrun/unparsed_value.go in
Terraform 1.11: a warning for ``.tfvars`` and ``*.auto.tfvars.json``, an error only for ``-var``).
So a stack that still declares the seed's ``variable "service1-build"`` would take the imported
``service_builds`` file, warn, and deploy the variable's default (``latest``) with exit code 0.
:func:`check_passed_variables` refuses that before any terraform process starts.

The stack's variables are read with python-hcl2 (the HCL2 grammar; ``*.tf``) and json
(``*.tf.json``), never with a regular expression. Only the stack's root folder counts: variables
of files in sub-folders belong to modules, as in Terraform.

The per-stack settings file ``config/<region>/<stack>/pipelinelib.toml`` holds orchestrate's
choices for one deployment (today ``builds_style``).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from pipelinelib import files
from pipelinelib.errors import ArtifactFormatError, InvalidInputError

STACK_SETTINGS = "pipelinelib.toml"
BUILDS_STYLES = ("map", "legacy")
# `-var <service>-build=N`: the seed's stacks declare one variable per service, named so.
LEGACY_SUFFIX = "-build"
_SETTINGS_KEYS = frozenset({"builds_style"})


@attrs.frozen
class Variable:
    """One ``variable`` block of the stack: its name, file, and whether it has a default."""

    name: str
    file: str
    has_default: bool


def _label(raw: str) -> str:
    """python-hcl2 keeps the quotes of a quoted block label (``'"service1-build"'``) since 5.x."""
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1]
    return raw


def _blocks(loaded: Any) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """``variable`` blocks from hcl2's list-of-dicts or Terraform JSON's dict form."""
    raw = loaded.get("variable") if isinstance(loaded, Mapping) else None
    if isinstance(raw, Mapping):  # .tf.json: {"variable": {"name": {...}}}
        raw = [raw]
    if not isinstance(raw, list):
        return
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        for name, body in item.items():
            yield _label(str(name)), body if isinstance(body, Mapping) else {}


def _load(path: Path) -> Any:
    import hcl2  # imported here: the grammar takes a noticeable time to build

    text = files.read_text(path)
    try:
        if path.name.endswith(".tf.json"):
            return json.loads(text)
        return hcl2.loads(text)
    except Exception as exc:  # lark raises many unrelated types; all mean "unreadable"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ArtifactFormatError(f"{path}: cannot read it as Terraform ({first})") from exc


def declared_variables(stack_files: Mapping[str, Path]) -> dict[str, Variable]:
    """``{name: Variable}`` of the root module: the ``.tf``/``.tf.json`` files at the top level.

    ``stack_files`` maps work-dir relative names to source files (as :func:`orchestrate._stack_files`
    returns them). A file Terraform would refuse to parse is an ArtifactFormatError naming it.
    """
    found: dict[str, Variable] = {}
    for rel, path in sorted(stack_files.items()):
        if "/" in rel or not rel.endswith((".tf", ".tf.json")):
            continue
        for name, body in _blocks(_load(path)):
            found[name] = Variable(name=name, file=rel, has_default="default" in body)
    return found


def is_placeholder(path: Path) -> bool:
    """True for a ``.tf`` file that configures nothing: empty, blank or comments only.

    The seed's stacks carry an empty ``src/<stack>/tf-config.tf`` that its docker wrapper hid
    under a mount of the config folder's file; such a file can be replaced safely.
    """
    try:
        loaded = _load(path)
    except ArtifactFormatError:
        return False
    return isinstance(loaded, Mapping) and not any(not k.startswith("__") for k in loaded)


def legacy_variable(service: str) -> str:
    """The seed's per-service variable: ``service1`` -> ``service1-build``."""
    return f"{service}{LEGACY_SUFFIX}"


def read_stack_settings(config_dir: Path) -> dict[str, str]:
    """``config/<region>/<stack>/pipelinelib.toml`` as a dict; empty when there is none.

    Example: ``builds_style = "legacy"``. Unknown keys and values are errors, not ignored: a
    misspelt key would otherwise silently deploy with the other style.
    """
    path = config_dir / STACK_SETTINGS
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(files.read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise ArtifactFormatError(f"{path}: not valid TOML ({exc})") from exc
    unknown = sorted(set(data) - _SETTINGS_KEYS)
    if unknown:
        raise ArtifactFormatError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: "
            + ", ".join(sorted(_SETTINGS_KEYS))
        )
    style = data.get("builds_style")
    if style is not None and style not in BUILDS_STYLES:
        raise ArtifactFormatError(
            f"{path}: builds_style must be one of {', '.join(BUILDS_STYLES)}, not {style!r}"
        )
    return {k: str(v) for k, v in data.items()}


def check_passed_variables(
    stack: str,
    declared: Mapping[str, Variable],
    passed: Mapping[str, str],
    *,
    builds_style: str,
    imported: Iterable[str] = (),
) -> None:
    """Refuse a run that would hand the stack a variable it does not declare.

    ``passed`` maps each variable orchestrate sets to where it comes from (shown in the
    message). With the legacy style, a declared ``<service>-build`` that the import does not
    provide is refused as well: terraform would deploy that variable's default.
    """
    missing = [name for name in passed if name not in declared]
    if missing:
        name = missing[0]
        origin = passed[name]
        if name == "service_builds":
            raise InvalidInputError(
                f'stack {stack} does not declare variable "service_builds", which {origin} '
                "passes; terraform would only warn and deploy the stack's defaults. Either "
                'declare it (variable "service_builds" { type = map(string) }) and pass it to '
                "the container-definitions module (docs/migration.md, step 3), or keep the stack's "
                'own variables for now with --builds-style legacy (or builds_style = "legacy" '
                f"in the stack's {STACK_SETTINGS}), which passes -var <service>-build=N"
            )
        if builds_style == "legacy" and name.endswith(LEGACY_SUFFIX):
            known = sorted(n for n in declared if n.endswith(LEGACY_SUFFIX))
            raise InvalidInputError(
                f'stack {stack} does not declare variable "{name}", which {origin} passes '
                f"(declared build variables: {', '.join(known) or 'none'}). Either declare "
                f'variable "{name}" in the stack, or rename the import so the service is '
                "called as the stack expects (publish --legacy-key; docs/migration.md), or move "
                "the stack to service_builds and --builds-style map"
            )
        raise InvalidInputError(
            f'stack {stack} does not declare variable "{name}", which {origin} passes. '
            f'Either declare variable "{name}" in the stack, or stop passing it'
        )
    if builds_style == "legacy":
        services = set(imported)
        if services:
            left = sorted(
                n
                for n, v in declared.items()
                if n.endswith(LEGACY_SUFFIX) and n not in passed and v.has_default
            )
            if left:
                raise InvalidInputError(
                    f"stack {stack} declares {', '.join(left)} but the import has no build for "
                    f"it (imported: {', '.join(sorted(services))}); terraform would deploy the "
                    "default. Import that service too, or pass its build with "
                    f"-- -var {left[0]}=N"
                )
