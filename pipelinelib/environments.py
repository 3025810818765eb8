"""Environments as data: the ``[environments.*]`` tables of ``pipelinelib.toml``.

One file at the repository root declares the environments, each one's upstream (the
environment whose successful deployments it may take), which are protected, how many
approvals a deployment needs and when deployments are frozen. The CLI, the service, the demo
and the Jenkinsfiles read it (``pipelinelib environments --json``); nothing else names
environments. docs/promotion.md describes the file.

Found by ``--environments-file``, else ``PIPELINELIB_ENVIRONMENTS``, else by walking up from the
working directory to the first ``pipelinelib.toml`` with an ``[environments]`` table. Without a
file the promotion rules are off (any environment name, any order): stores created before
issue 14 keep working until a file is added.

Freeze windows are RFC 3339 ranges: ``{start = 2026-12-20T00:00:00Z, end = ..., reason = "..."}``
(TOML offset date-times or RFC 3339 strings with an offset; ``start <= t < end``).
Only tomllib (Python 3.11 standard library) is used: this module stays cheap to import.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from pipelinelib.errors import FileAccessError, InvalidInputError, NotFoundError
from pipelinelib.model import validate_environment_name

FILE_NAME = "pipelinelib.toml"
NO_FILE = "none"  # --environments-file none: no file, no rules (tests, one-off local stores)
MAX_APPROVALS = 10
_ENV_KEYS = ("upstream", "stack", "region", "cluster", "protected", "approvals", "freeze")
_FREEZE_KEYS = ("start", "end", "reason")


@attrs.frozen
class FreezeWindow:
    """Deployments are refused while ``start <= now < end`` (both timezone-aware, UTC kept)."""

    start: datetime
    end: datetime
    reason: str

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.end

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": _rfc3339(self.start),
            "end": _rfc3339(self.end),
            "reason": self.reason,
        }


@attrs.frozen
class Environment:
    """One declared environment. ``upstream`` None: its source is service builds."""

    name: str
    upstream: str | None = None
    stack: str | None = None
    region: str | None = None
    cluster: str | None = None
    protected: bool = False
    approvals: int = 0
    freeze: tuple[FreezeWindow, ...] = ()

    @property
    def is_first(self) -> bool:
        return self.upstream is None

    def freeze_at(self, when: datetime) -> FreezeWindow | None:
        """The freeze window ``when`` falls in, if any."""
        return next((w for w in self.freeze if w.contains(when)), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "upstream": self.upstream,
            "stack": self.stack,
            "region": self.region,
            "cluster": self.cluster,
            "protected": self.protected,
            "approvals": self.approvals,
            "freeze": [w.to_dict() for w in self.freeze],
        }


@attrs.frozen
class EnvironmentsConfig:
    """The declared environments in promotion order (upstream before downstream).

    ``declared`` False: no file was found; every name is accepted and no rule applies.
    """

    environments: tuple[Environment, ...] = ()
    path: Path | None = None

    @property
    def declared(self) -> bool:
        return bool(self.environments)

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.environments]

    def get(self, name: str) -> Environment | None:
        return next((e for e in self.environments if e.name == name), None)

    def require(self, name: str) -> Environment:
        """The declared environment ``name``; NotFoundError with a suggestion otherwise."""
        validate_environment_name(name)
        found = self.get(name)
        if found is None:
            raise NotFoundError(unknown_environment_message(name, self.names), environment=name)
        return found

    def downstream(self, name: str) -> list[str]:
        return [e.name for e in self.environments if e.upstream == name]

    def order(self, names: Iterable[str]) -> list[str]:
        """Declared environments first, in promotion order; any others alphabetically."""
        rank = {name: i for i, name in enumerate(self.names)}
        return sorted(set(names), key=lambda n: (rank.get(n, len(rank)), n))

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path) if self.path else None,
            "order": self.names,
            "environments": {e.name: e.to_dict() for e in self.environments},
        }


def unknown_environment_message(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(known) or "none"
    return f"unknown environment {name!r}{hint} (declared: {listed})"


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _when(value: Any, where: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInputError(
                f"{where}: {value!r} is not an RFC 3339 date-time (e.g. 2026-12-20T00:00:00Z)"
            ) from None
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{where}: expected an RFC 3339 date-time with an offset")
    if value.tzinfo is None:
        raise InvalidInputError(f"{where}: {value.isoformat()} has no UTC offset (add Z or +hh:mm)")
    return value.astimezone(UTC)


def _unknown_keys(data: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InvalidInputError(f"{where}: unknown key {key!r}{hint}")


def _freeze(value: Any, where: str) -> tuple[FreezeWindow, ...]:
    if not isinstance(value, list):
        raise InvalidInputError(f"{where}: expected a list of {{start, end, reason}} tables")
    windows = []
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidInputError(f"{at}: expected a table {{start, end, reason}}")
        _unknown_keys(item, _FREEZE_KEYS, at)
        for key in _FREEZE_KEYS:
            if key not in item:
                raise InvalidInputError(f"{at}: {key!r} is required")
        start, end = _when(item["start"], f"{at}.start"), _when(item["end"], f"{at}.end")
        if not start < end:
            raise InvalidInputError(f"{at}: start must be before end")
        reason = item["reason"]
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInputError(f"{at}.reason: a non-empty string is required")
        windows.append(FreezeWindow(start, end, reason.strip()))
    return tuple(windows)


def _optional_text(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidInputError(f"{where}.{key}: expected a non-empty string")
    return value


def parse_environments(data: Mapping[str, Any], path: Path | None = None) -> EnvironmentsConfig:
    """Validate the ``[environments]`` table of a parsed ``pipelinelib.toml``.

    Raises InvalidInputError naming the key: unknown keys, unknown or cyclic upstreams, no
    first environment, approvals outside 0..10, freeze windows without an offset or reason.
    """
    where = str(path) if path else FILE_NAME
    tables = data.get("environments")
    if not isinstance(tables, Mapping) or not tables:
        raise InvalidInputError(f"{where}: no [environments.NAME] tables")
    parsed: dict[str, Environment] = {}
    for name, body in tables.items():
        at = f"{where}: environments.{name}"
        try:
            validate_environment_name(name)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{at}: {exc}") from None
        if not isinstance(body, Mapping):
            raise InvalidInputError(f"{at}: expected a table")
        _unknown_keys(body, _ENV_KEYS, at)
        protected = body.get("protected", False)
        if not isinstance(protected, bool):
            raise InvalidInputError(f"{at}.protected: expected true or false")
        approvals = body.get("approvals", 1 if protected else 0)
        if isinstance(approvals, bool) or not isinstance(approvals, int):
            raise InvalidInputError(f"{at}.approvals: expected an integer")
        if not 0 <= approvals <= MAX_APPROVALS:
            raise InvalidInputError(f"{at}.approvals: must be between 0 and {MAX_APPROVALS}")
        upstream = _optional_text(body, "upstream", at)
        parsed[name] = Environment(
            name=name,
            upstream=upstream,
            stack=_optional_text(body, "stack", at),
            region=_optional_text(body, "region", at),
            cluster=_optional_text(body, "cluster", at),
            protected=protected,
            approvals=approvals,
            freeze=_freeze(body.get("freeze", []), f"{at}.freeze"),
        )
    names = list(parsed)
    for env in parsed.values():
        if env.upstream is not None and env.upstream not in parsed:
            raise InvalidInputError(
                f"{where}: environments.{env.name}.upstream: "
                + unknown_environment_message(env.upstream, names)
            )
    firsts = [e.name for e in parsed.values() if e.upstream is None]
    if not firsts:
        raise InvalidInputError(
            f"{where}: no first environment (one without upstream takes service builds)"
        )
    # Breadth-first from the first environments: upstream before downstream, file order kept.
    ordered: list[str] = []
    frontier = firsts
    while frontier:
        ordered.extend(frontier)
        frontier = [e.name for e in parsed.values() if e.upstream in frontier]
    missing = [n for n in names if n not in ordered]
    if missing:
        raise InvalidInputError(
            f"{where}: environments {', '.join(missing)} form an upstream cycle"
        )
    return EnvironmentsConfig(tuple(parsed[n] for n in ordered), path)


def read_environments_file(path: Path) -> EnvironmentsConfig:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise FileAccessError(f"{path}: no such environments file") from exc
    except OSError as exc:
        raise FileAccessError(f"cannot read {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: not valid TOML: {exc}") from exc
    return parse_environments(data, path)


def find_environments_file(start: Path | None = None) -> Path | None:
    """The nearest ``pipelinelib.toml`` with an ``[environments]`` table, walking up from
    ``start`` (the working directory)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file():
            try:
                with candidate.open("rb") as fh:
                    if "environments" in tomllib.load(fh):
                        return candidate
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                return candidate  # let read_environments_file say what is wrong with it
    return None


def load_environments(
    path: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    start: Path | None = None,
) -> EnvironmentsConfig:
    """The environments in force: the given file, ``PIPELINELIB_ENVIRONMENTS``, or the nearest
    ``pipelinelib.toml``; an undeclared (rule-free) config when there is none or the name
    given is ``none``."""
    from pipelinelib import config

    named = str(path) if path else config.environments_file(environ)
    if named == NO_FILE:
        return EnvironmentsConfig()
    chosen = Path(named) if named else None
    if chosen is None:
        chosen = find_environments_file(start)
    if chosen is None:
        return EnvironmentsConfig()
    return read_environments_file(chosen)
