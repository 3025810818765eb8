"""THE reader and writer of an import directory (``import/``).

``import-artifacts`` writes it; ``verify-images``, ``orchestrate --import-dir`` and
``record-deployment`` read it, all through this module. ``manifest.json`` is the truth; the
``<service>.env.groovy`` files are derived from it (for ``load-env`` and Jenkinsfiles).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs

from pipelinelib import files
from pipelinelib.errors import (
    ArtifactFormatError,
    FileAccessError,
    ImportMismatchError,
    InvalidInputError,
    NotFoundError,
)
from pipelinelib.formats import groovy, strict_json
from pipelinelib.formats import manifest as manifest_json
from pipelinelib.model import (
    Manifest,
    ServiceBuild,
    SourceRef,
    validate_build_number,
    validate_service_name,
)
from pipelinelib.textfit import fit_environment_value


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


MANIFEST_FILE = "manifest.json"
IMPORTS_FILE = "imports.json"
ENV_SUFFIX = ".env.groovy"


@attrs.frozen
class ImportedDir:
    """What an import directory holds, read once and checked.

    ``manifest`` is ``import/manifest.json`` (None for a directory of ``*.env.groovy`` files
    only, as ``copy-artifact`` of upstream ``output/*.env.groovy`` leaves it); ``source`` is
    the one upstream build the services are exactly (None for a composition); ``overrides``
    are the services replaced by ``--override`` (from ``imports.json``).
    """

    directory: Path
    services: tuple[ServiceBuild, ...]
    manifest: Manifest | None
    source: SourceRef | None
    overrides: tuple[str, ...]

    @property
    def builds(self) -> dict[str, str]:
        """``{service: build}`` as Terraform's ``service_builds`` takes it (strings)."""
        return {s.name: str(s.build) for s in self.services}


def read(import_dir: Path) -> ImportedDir:
    """Read and check an import directory; every verb that reads ``import/`` calls this.

    With ``manifest.json`` (what ``import-artifacts`` writes), it is the truth and every
    ``*.env.groovy`` there must be exactly what it derives: the same variables with the same
    values, one file per service, no other service's file (a directory with ``manifest.json``
    and no env file at all, e.g. a copy of the manifest alone, is read as it is). Any disagreement (a value edited in
    either file, a missing file, an extra service file) raises
    :class:`~pipelinelib.errors.ImportMismatchError` naming the file, the variable and both
    values, so ``verify-images``, ``orchestrate --import-dir`` and ``record-deployment`` refuse
    with the same message. Without ``manifest.json`` the ``*.env.groovy`` files are read (new
    and legacy forms; the same variable with two values is an error).

    Raises NotFoundError when the directory does not exist or holds neither.
    """
    if not import_dir.is_dir():
        raise NotFoundError(f"import directory {str(import_dir)!r} does not exist")
    manifest_file = import_dir / MANIFEST_FILE
    env_files = sorted(import_dir.glob(f"*{ENV_SUFFIX}"))
    if not manifest_file.is_file():
        if not env_files:
            raise NotFoundError(
                f"{import_dir}: no {MANIFEST_FILE} and no *{ENV_SUFFIX} files to read"
            )
        services = services_from_env(load_env(env_files))
        if not services:
            raise ArtifactFormatError(f"no <SERVICE>_BUILD variables in the files of {import_dir}")
        return ImportedDir(import_dir, tuple(services), None, None, ())
    manifest = manifest_json.read(manifest_file)
    if env_files:  # none at all: a copy of manifest.json alone, nothing derived to disagree
        _check_env_files(manifest_file, manifest, env_files)
    source, overrides = _read_imports(import_dir / IMPORTS_FILE, manifest)
    return ImportedDir(import_dir, tuple(manifest.services.values()), manifest, source, overrides)


def _shown(value: str | None) -> str:
    return "absent" if value is None else repr(value)


def _check_env_files(manifest_file: Path, manifest: Manifest, env_files: list[Path]) -> None:
    problems: list[str] = []
    expected_files = {f"{name}{ENV_SUFFIX}": entry for name, entry in manifest.services.items()}
    for path in env_files:
        if path.name not in expected_files:
            problems.append(
                f"{path} is not derived from {manifest_file}, which has no service "
                f"{path.name[: -len(ENV_SUFFIX)]!r}"
            )
    for file_name, entry in expected_files.items():
        path = manifest_file.parent / file_name
        expected = groovy.service_variables(entry)
        if not path.is_file():
            key = f"{entry.env_key}_BUILD"
            problems.append(f"{path} is missing: {manifest_file} has {key} {expected[key]!r}")
            continue
        found = groovy.parse_env_groovy(files.read_text(path), str(path))
        for key in [*expected, *(k for k in found if k not in expected)]:
            if found.get(key) != expected.get(key):
                problems.append(
                    f"{path} has {key} {_shown(found.get(key))} but {manifest_file} has "
                    f"{_shown(expected.get(key))}"
                )
    if problems:
        raise ImportMismatchError(
            "the import directory disagrees with itself: "
            + "; ".join(problems[:5])
            + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
            + f". {MANIFEST_FILE} is the truth and the env.groovy files are derived from it:"
            " run import-artifacts again rather than editing either",
            directory=str(manifest_file.parent),
        )


def _read_imports(
    imports_path: Path, manifest: Manifest
) -> tuple[SourceRef | None, tuple[str, ...]]:
    if not imports_path.exists():
        return manifest.source, ()
    imports = strict_json.loads(
        files.read_text(imports_path), str(imports_path), ArtifactFormatError
    )
    try:
        sources = imports["sources"]
        origins = imports["services"]
        overrides = tuple(sorted(n for n, o in origins.items() if "override" in o))
        source = SourceRef(sources[0]["job"], sources[0]["number"]) if len(sources) == 1 else None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ArtifactFormatError(
            f"{imports_path}: not what import-artifacts writes ({exc})"
        ) from exc
    return source, overrides


def imported_services(import_dir: Path) -> list[ServiceBuild]:
    """The services of an import directory, checked (see :func:`read`)."""
    return list(read(import_dir).services)


def load_env(paths: Iterable[Path]) -> dict[str, str]:
    """The variables of several env.groovy files; the same name with two values is an error."""
    variables: dict[str, str] = {}
    origin: dict[str, Path] = {}
    for path in paths:
        parsed = groovy.parse_env_groovy(files.read_text(path), str(path))
        for key, value in groovy.with_legacy_service_names(parsed, path.name).items():
            if key in variables and variables[key] != value:
                raise ArtifactFormatError(
                    f"{key} is {variables[key]!r} in {origin[key]} but {value!r} in {path}"
                )
            variables[key] = value
            origin[key] = path
    return variables


def service_builds(variables: Mapping[str, str]) -> dict[str, str]:
    """``{service: build}`` from env variables.

    A service's name comes from its ``<KEY>_SERVICE`` variable (:func:`load_env` adds it for a
    legacy file named after the service, see :func:`groovy.legacy_service_name`); other legacy
    variables give the key lower-cased (``ORDER_API_BUILD`` -> ``order_api``). Build numbers are
    range-checked (1 to 2**31-1, a Java int as Jenkins keeps them).
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
        try:
            builds[name] = str(validate_build_number(value, key))
        except InvalidInputError as exc:
            raise ArtifactFormatError(str(exc)) from exc
    return builds


def shell_variables(variables: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """``(owned, ignored)``: the variables an env.groovy file owns, checked, and the rest.

    A file owns ``<KEY>_BUILD``/``_IMAGE``/``_DIGEST``/``_COMMIT``/``_COMMIT_MSG``/``_SERVICE`` of
    each service it names by a ``<KEY>_BUILD``; every value is checked as the model checks it
    (build 1 to 2**31-1, image, digest, commit patterns) and the commit message is cut to what one
    environment variable holds (:func:`pipelinelib.textfit.fit_environment_value`). Anything
    else (``PATH``, ``LD_PRELOAD``, ``X_IMAGE`` without ``X_BUILD``) is never emitted.
    """
    owned: dict[str, str] = {}
    for entry in services_from_env(variables):
        for key, value in groovy.service_variables(entry, fit=False).items():
            owned[key] = fit_environment_value(key, value)
    ignored = sorted(set(variables) - set(owned))
    return owned, ignored


def import_service_builds(import_dir: Path) -> dict[str, str]:
    """``{service: build}`` of an import directory, checked (see :func:`read`)."""
    return read(import_dir).builds


def read_import(import_dir: Path) -> tuple[Manifest, SourceRef | None, tuple[str, ...]]:
    """The imported manifest, the build it came from (one upstream only) and the overrides.

    Needs ``manifest.json`` (``record-deployment`` records it unchanged); checked like
    :func:`read`.
    """
    imported = read(import_dir)
    if imported.manifest is None:
        raise NotFoundError(
            f"{import_dir / MANIFEST_FILE} does not exist: record-deployment records what "
            "import-artifacts wrote"
        )
    return imported.manifest, imported.source, imported.overrides


def write(
    target: Path, merged: Manifest, imports: Mapping[str, object]
) -> tuple[tuple[Path, ...], Path, Path]:
    """Write an import directory: ``manifest.json`` (the truth), one ``<service>.env.groovy``
    derived from it per service, and ``imports.json`` (where each service came from).

    Stale ``*.env.groovy`` files of an earlier import are removed first, so
    ``load-env import/*.env.groovy`` sees only this import. ``manifest.json`` is written last:
    a directory whose writing was interrupted fails :func:`read`'s check instead of being
    half-old, half-new. Returns ``(env_files, manifest_file, imports_file)``.
    """
    files.ensure_dir(target)
    keep = {f"{name}{ENV_SUFFIX}" for name in merged.services}
    for stale in sorted(target.glob(f"*{ENV_SUFFIX}")):
        if stale.name not in keep:
            try:
                stale.unlink()
            except OSError as exc:
                raise FileAccessError(f"cannot remove stale {stale}: {exc.strerror}") from exc
    env_files = tuple(
        files.write_atomic(target / f"{name}{ENV_SUFFIX}", groovy.render_env_groovy([entry]))
        for name, entry in merged.services.items()
    )
    imports_file = files.write_atomic(
        target / IMPORTS_FILE, json.dumps(imports, indent=2, ensure_ascii=True) + "\n"
    )
    manifest_file = files.write_atomic(target / MANIFEST_FILE, manifest_json.dumps(merged))
    return env_files, manifest_file, imports_file
