"""THE reader and writer of an import directory (``import/``).

``import-artifacts`` writes it; ``verify-images``, ``orchestrate --import-dir`` and
``record-deployment`` read it, all through this module. ``manifest.json`` is the truth; the
``<service>.env.groovy`` files are derived from it (for ``load-env`` and Jenkinsfiles).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pipelinelib import files
from pipelinelib.errors import (
    ArtifactFormatError,
    InvalidInputError,
    NotFoundError,
)
from pipelinelib.formats import groovy
from pipelinelib.formats import manifest as manifest_json
from pipelinelib.model import (
    Manifest,
    ServiceBuild,
    SourceRef,
    validate_service_name,
)

if TYPE_CHECKING:
    pass


def services_from_env(variables: Mapping[str, str]) -> list[ServiceBuild]:
    """Each service's build, image and digest from env.groovy variables (new and legacy forms)."""
    prefixes = {
        key[: -len("_SERVICE")]: value
        for key, value in variables.items()
        if key.endswith("_SERVICE")
    }
    result = []
    for name, build in service_builds(variables).items():
        prefix = next((p for p, n in prefixes.items() if n == name), name.upper())
        try:
            result.append(
                ServiceBuild(
                    name=name,
                    build=build,
                    image=variables.get(f"{prefix}_IMAGE"),
                    digest=variables.get(f"{prefix}_DIGEST"),
                    commit=variables.get(f"{prefix}_COMMIT"),
                    commit_message=variables.get(f"{prefix}_COMMIT_MSG"),
                )
            )
        except InvalidInputError as exc:
            raise ArtifactFormatError(f"service {name}: {exc}") from exc
    return result


def imported_services(import_dir: Path) -> list[ServiceBuild]:
    """The services an import directory holds: ``manifest.json``, else its ``*.env.groovy`` files."""
    manifest_file = import_dir / "manifest.json"
    if manifest_file.is_file():
        return list(manifest_json.read(manifest_file).services.values())
    env_files = sorted(import_dir.glob("*.env.groovy"))
    if not env_files:
        raise NotFoundError(f"{import_dir}: no manifest.json and no *.env.groovy files to read")
    return services_from_env(load_env(env_files))


def load_env(paths: Iterable[Path]) -> dict[str, str]:
    """The variables of several env.groovy files; the same name with two values is an error."""
    variables: dict[str, str] = {}
    origin: dict[str, Path] = {}
    for path in paths:
        for key, value in groovy.parse_env_groovy(files.read_text(path), str(path)).items():
            if key in variables and variables[key] != value:
                raise ArtifactFormatError(
                    f"{key} is {variables[key]!r} in {origin[key]} but {value!r} in {path}"
                )
            variables[key] = value
            origin[key] = path
    return variables


def service_builds(variables: Mapping[str, str]) -> dict[str, str]:
    """``{service: build}`` from env variables.

    A service's name comes from its ``<KEY>_SERVICE`` variable; legacy files that only have
    ``<KEY>_BUILD`` give the key lower-cased (``ORDER_API_BUILD`` -> ``order_api``).
    """
    names = {
        key[: -len("_SERVICE")]: value
        for key, value in variables.items()
        if key.endswith("_SERVICE")
    }
    builds: dict[str, str] = {}
    for key, value in variables.items():
        if not key.endswith("_BUILD"):
            continue
        prefix = key[: -len("_BUILD")]
        name = names.get(prefix, prefix.lower())
        try:
            validate_service_name(name)
        except InvalidInputError as exc:
            raise ArtifactFormatError(f"{key}: cannot tell the service name ({exc})") from exc
        if not value.isascii() or not value.isdigit():
            raise ArtifactFormatError(f"{key} must be a build number, not {value!r}")
        builds[name] = value
    return builds


def import_service_builds(import_dir: Path) -> dict[str, str]:
    """``{service: build}`` from every ``*.env.groovy`` an import step left in ``import_dir``."""
    if not import_dir.is_dir():
        raise NotFoundError(f"import directory {str(import_dir)!r} does not exist")
    paths = sorted(import_dir.glob("*.env.groovy"))
    if not paths:
        raise InvalidInputError(f"no *.env.groovy files in {str(import_dir)!r}")
    builds = service_builds(load_env(paths))
    if not builds:
        raise ArtifactFormatError(f"no <SERVICE>_BUILD variables in the files of {import_dir}")
    return builds


def read_import(import_dir: Path) -> tuple[Manifest, SourceRef | None, tuple[str, ...]]:
    """The imported manifest, the build it came from (one upstream only) and the overrides."""
    manifest = manifest_json.read(import_dir / "manifest.json")
    imports_path = import_dir / "imports.json"
    if not imports_path.exists():
        return manifest, manifest.source, ()
    try:
        imports = json.loads(files.read_text(imports_path))
        sources = imports["sources"]
        origins = imports["services"]
        overrides = tuple(sorted(n for n, o in origins.items() if "override" in o))
        source = SourceRef(sources[0]["job"], sources[0]["number"]) if len(sources) == 1 else None
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise ArtifactFormatError(
            f"{imports_path}: not what import-artifacts writes ({exc})"
        ) from exc
    return manifest, source, overrides
