"""Copy Artifact over the REST API: selectors, Ant-style filters, and writing untrusted paths safely.

Semantics follow the Copy Artifact plugin: the filter is a comma-separated list of Ant patterns
(whitespace around commas ignored, an empty filter means ``**``), ``*`` and ``?`` stay inside one
path segment, ``**`` spans any number of segments, a pattern ending in ``/`` means everything
below it, matching is case-sensitive; excludes use the same syntax.

Every path Jenkins lists is untrusted. Before anything is written, each path is checked
(:func:`safe_relative_path`); files are written below the target through directory file
descriptors opened with ``O_NOFOLLOW``, so no symlink (planted before or during the copy) is ever
followed or created, to a temporary file that is renamed into place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import stat
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from pipelinelib.errors import (
    FileAccessError,
    InvalidInputError,
    NotFoundError,
    OperationCancelledError,
    UnsafeArtifactPathError,
)
from pipelinelib.model import Choice

if TYPE_CHECKING:
    from pipelinelib.jenkins.client import Artifact, JenkinsClient

FINGERPRINTS_FILE = "fingerprints.json"
#: Parallel downloads by measurement (docs/benchmarks.md "copy-artifact", 50 x 1 MiB on 2 cores):
#: 2 workers were 2.28-2.34x sequential downloads on a quiet machine (3: 2.20x, 4: 2.08-2.12x;
#: the client is CPU-bound once the server shares the cores) and 3.23x on a loaded one (4:
#: 4.36x). More hide more round trips on a slow link: ``--workers`` up to 16.
DEFAULT_WORKERS = 2

PERMALINKS = {
    "lastSuccessful": "lastSuccessfulBuild",
    "lastStable": "lastStableBuild",
    "lastCompleted": "lastCompletedBuild",
}


# --- selectors --------------------------------------------------------------------------------


@attrs.frozen
class Selector:
    """Which build: a permalink (``lastSuccessfulBuild``...) or a build number."""

    name: str
    number: int | None = None

    @property
    def path_segment(self) -> str:
        return str(self.number) if self.number is not None else PERMALINKS[self.name]

    def __str__(self) -> str:
        return f"#{self.number}" if self.number is not None else self.name


def parse_selector(text: str) -> Selector:
    """``lastSuccessful``, ``lastStable``, ``lastCompleted``, ``12`` or a choice ``12-Fix login``."""
    value = (text or "").strip()
    if value in PERMALINKS:
        return Selector(value)
    for short, permalink in PERMALINKS.items():
        if value == permalink:
            return Selector(short)
    try:
        choice = Choice.parse(value)
    except InvalidInputError:
        raise InvalidInputError(
            f"invalid selector {text!r}: use lastSuccessful, lastStable, lastCompleted, "
            "a build number or a choice such as '12-Fix login'"
        ) from None
    return Selector("number", choice.number)


# --- Ant-style patterns -----------------------------------------------------------------------


def _segment_regex(segment: str) -> str:
    out: list[str] = []
    for char in segment:
        if char == "*":
            if not out or out[-1] != "[^/]*":  # '**' inside a segment is just '*'
                out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(char))
    return "".join(out)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """One Ant pattern as a regular expression over ``/``-separated relative paths."""
    text = pattern.strip().replace("\\", "/")
    if text.endswith("/"):
        text += "**"
    regex = []
    for segment in text.split("/"):
        if segment == "**":
            regex.append("(?:[^/]*/)*")
        else:
            regex.append(_segment_regex(segment) + "/")
    # Matched against path + "/", so every segment regex ends with its separator.
    return re.compile("".join(regex), re.DOTALL)


@attrs.frozen
class ArtifactFilter:
    includes: tuple[re.Pattern[str], ...]
    excludes: tuple[re.Pattern[str], ...]

    @classmethod
    def parse(cls, includes: str | None, excludes: str | None = None) -> ArtifactFilter:
        inc = [p.strip() for p in (includes or "").split(",") if p.strip()] or ["**"]
        exc = [p.strip() for p in (excludes or "").split(",") if p.strip()]
        return cls(tuple(compile_pattern(p) for p in inc), tuple(compile_pattern(p) for p in exc))

    def matches(self, path: str) -> bool:
        subject = path + "/"
        return any(p.fullmatch(subject) for p in self.includes) and not any(
            p.fullmatch(subject) for p in self.excludes
        )


# --- untrusted paths --------------------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


def safe_relative_path(path: str) -> tuple[str, ...]:
    """The segments of an artifact path, or UnsafeArtifactPathError if it could escape the target.

    Refused: empty paths and segments, absolute paths, ``.`` and ``..`` segments, backslashes,
    drive letters, NUL and other control characters. ``foo..bar``, ``.foo`` and ``a/.b`` are fine.
    """

    def refuse(why: str) -> UnsafeArtifactPathError:
        return UnsafeArtifactPathError(
            f"refusing artifact path {path!r} from Jenkins: {why}", path=path
        )

    if not isinstance(path, str) or not path:
        raise refuse("empty")
    if any(unicodedata.category(c) == "Cc" for c in path):
        raise refuse("it contains control characters")
    if "\\" in path:
        raise refuse("it contains a backslash")
    if path.startswith("/"):
        raise refuse("it is absolute")
    if _DRIVE.match(path):
        raise refuse("it starts with a drive letter")
    segments = tuple(path.split("/"))
    for segment in segments:
        if segment in ("", ".", ".."):
            raise refuse("empty, '.' and '..' segments are not allowed")
    return segments


@attrs.frozen
class PlannedFile:
    artifact_path: str  # as Jenkins lists it (relativePath)
    destination: tuple[str, ...]  # segments below the target


def plan(
    artifacts: Iterable[Artifact], artifact_filter: ArtifactFilter, *, flatten: bool
) -> list[PlannedFile]:
    """The artifacts that match, each with its checked destination; no two share a destination."""
    planned: list[PlannedFile] = []
    taken: dict[tuple[str, ...], str] = {}
    for artifact in artifacts:
        if not artifact_filter.matches(artifact.relative_path):
            continue
        segments = safe_relative_path(artifact.relative_path)
        destination = segments[-1:] if flatten else segments
        if destination in taken:
            raise InvalidInputError(
                f"artifacts {taken[destination]!r} and {artifact.relative_path!r} would both be "
                f"written to {'/'.join(destination)!r}" + (" (--flatten)" if flatten else "")
            )
        taken[destination] = artifact.relative_path
        planned.append(PlannedFile(artifact.relative_path, destination))
    return planned


# --- writing below the target without following symlinks -------------------------------------

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _open_dir(name: str, parent_fd: int, shown: str) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except (NotADirectoryError, OSError) as exc:
        raise FileAccessError(
            f"refusing to write below {shown}: it is a symlink or not a directory", path=shown
        ) from exc


def _open_parents(target_fd: int, segments: Sequence[str], target: Path) -> int:
    """Walk (creating as needed) the directories below the target; each must be a real one."""
    fd = os.dup(target_fd)
    shown = target
    try:
        for segment in segments:
            shown = shown / segment
            try:
                os.mkdir(segment, 0o755, dir_fd=fd)
            except FileExistsError:
                pass
            except OSError as exc:
                raise FileAccessError(f"cannot create directory {shown}: {exc.strerror}") from exc
            child = _open_dir(segment, fd, str(shown))
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_below(
    target_fd: int,
    target: Path,
    destination: Sequence[str],
    chunks: Iterable[bytes],
    *,
    md5: bool = True,
) -> tuple[int, str | None]:
    """Write chunks to target/destination via a temporary file and a rename. Returns the size
    and, when ``md5`` (``--fingerprint``), the MD5; hashing every MiB costs more than writing it.

    No fsync: the rename already keeps readers from seeing half a file, and a workspace copy
    lost in a machine crash is copied again by the rerun (the plugin does not sync either). An
    existing file is removed just before the rename: renaming over it makes ext4 (the default
    ``auto_da_alloc``, ext4(5)) start writing the new file out at once, which cost 0.4-0.8 ms per
    1 MiB artifact in ``bench jenkins_list``; a reader sees the old file, no file, or the whole
    new one, never part of one.
    """
    dir_fd = _open_parents(target_fd, destination[:-1], target)
    name = destination[-1]
    shown = target.joinpath(*destination)
    tmp = f".{name}.{secrets.token_hex(6)}.tmp"
    digest = hashlib.md5(usedforsecurity=False) if md5 else None
    size = 0
    try:
        try:
            existing = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            existing = None
        if existing is not None and not _is_regular(existing.st_mode):
            raise FileAccessError(
                f"refusing to replace {shown}: it is a symlink or not a regular file", path=shown
            )
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(tmp, flags, 0o644, dir_fd=dir_fd)
        except OSError as exc:
            raise FileAccessError(f"cannot write in {shown.parent}: {exc.strerror}") from exc
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                    if digest is not None:
                        digest.update(chunk)
                    size += len(chunk)
            if existing is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=dir_fd)
            os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
    except OSError as exc:
        raise FileAccessError(f"cannot write {shown}: {exc.strerror}") from exc
    finally:
        os.close(dir_fd)
    return size, digest.hexdigest() if digest is not None else None


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def open_target(target: Path) -> int:
    """Create the target directory (the person chose it) and open it as a directory."""
    try:
        target.mkdir(parents=True, exist_ok=True)
        return os.open(target, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except FileExistsError as exc:
        raise FileAccessError(f"{target}: exists and is not a directory") from exc
    except NotADirectoryError as exc:
        raise FileAccessError(f"{target}: is not a directory") from exc
    except OSError as exc:
        raise FileAccessError(f"cannot use target directory {target}: {exc.strerror}") from exc


# --- the use case ----------------------------------------------------------------------------


@attrs.frozen
class CopiedFile:
    artifact_path: str
    path: str  # below the target, '/'-separated
    size: int
    md5: str | None  # only with --fingerprint


@attrs.frozen
class CopyResult:
    job: str
    number: int
    result: str | None
    target: Path
    files: tuple[CopiedFile, ...]
    fingerprints_file: Path | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "job": self.job,
            "number": self.number,
            "result": self.result,
            "target": str(self.target),
            "files": [attrs.asdict(f) for f in self.files],
            "fingerprints_file": str(self.fingerprints_file) if self.fingerprints_file else None,
        }


def copy_artifacts(
    client: JenkinsClient,
    *,
    job: str,
    selector: Selector,
    target: Path,
    includes: str | None = None,
    excludes: str | None = None,
    flatten: bool = False,
    optional: bool = False,
    fingerprint: bool = False,
    workers: int = DEFAULT_WORKERS,
    on_file: Callable[[CopiedFile], None] | None = None,
    deadline: float | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> CopyResult:
    """One metadata request, then every matching artifact streamed to disk by a small pool.

    ``optional``: a missing build or no matching artifact gives an empty result instead of
    NotFoundError (the CLI prints a notice). A missing or forbidden *job* is always an error,
    as in the Copy Artifact plugin (see :func:`require_job`).

    ``deadline`` (a ``time.monotonic()`` value) bounds the whole copy: past it the copy fails
    with :class:`DeadlineExceededError`. Whatever ends a copy early (an error, the deadline,
    SIGTERM turned into an exception by the CLI) leaves no partial or temporary file: each file
    appears by rename only when complete, and the other downloads stop at their next chunk.

    Progress: ``on_file`` after each file, ``on_bytes(n)`` after each chunk of ``n`` bytes (both
    from the download threads).
    """
    try:
        listing = client.artifact_listing(job, selector.path_segment)
    except NotFoundError:
        require_job(client, job)
        if optional:
            return CopyResult(job, 0, None, target, ())
        raise
    if listing.result is None:
        raise InvalidInputError(
            f"{job} #{listing.number} is still running; its artifacts are not archived yet"
        )
    artifact_filter = ArtifactFilter.parse(includes, excludes)
    planned = plan(listing.artifacts, artifact_filter, flatten=flatten)
    if fingerprint and (FINGERPRINTS_FILE,) in {p.destination for p in planned}:
        raise InvalidInputError(
            f"an artifact would be written to {FINGERPRINTS_FILE}, which --fingerprint writes"
        )
    if not planned:
        if optional:
            return CopyResult(job, listing.number, listing.result, target, ())
        raise NotFoundError(
            f"no artifact of {job} #{listing.number} matches filter {includes or '**'!r}"
            + (f" excluding {excludes!r}" if excludes else "")
            + f" ({len(listing.artifacts)} archived)"
        )
    target_fd = open_target(target)
    try:

        def copy_one(item: PlannedFile) -> CopiedFile:
            chunks = _download(client, job, listing.number, item.artifact_path, deadline, stop)
            if on_bytes is not None:
                chunks = _counted(chunks, on_bytes)
            size, md5 = write_below(target_fd, target, item.destination, chunks, md5=fingerprint)
            copied = CopiedFile(item.artifact_path, "/".join(item.destination), size, md5)
            if on_file is not None:
                on_file(copied)
            return copied

        stop = threading.Event()
        files = _run_pool(copy_one, planned, workers, on_failure=stop.set)
        fingerprints_file = None
        if fingerprint:
            body = json.dumps({f.path: f.md5 for f in files}, indent=2, sort_keys=True) + "\n"
            write_below(target_fd, target, (FINGERPRINTS_FILE,), [body.encode("utf-8")])
            fingerprints_file = target / FINGERPRINTS_FILE
    finally:
        os.close(target_fd)
    return CopyResult(job, listing.number, listing.result, target, tuple(files), fingerprints_file)


def _run_pool(
    fn: Callable[[PlannedFile], CopiedFile],
    items: list[PlannedFile],
    workers: int,
    *,
    on_failure: Callable[[], None] = lambda: None,
) -> list[CopiedFile]:
    """In order of the listing; the first failure cancels what has not started and is raised.

    ``on_failure`` runs first, so downloads already running stop at their next chunk (and
    remove their temporary file) before the pool is left.
    """
    if workers <= 1 or len(items) == 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures: list[Future[CopiedFile]] = []
        try:  # submitting is inside: SIGTERM may arrive while the first downloads already run
            futures.extend(pool.submit(fn, item) for item in items)
            return [f.result() for f in futures]
        except BaseException:
            on_failure()
            for f in futures:
                f.cancel()
            raise


def require_job(client: JenkinsClient, job: str) -> None:
    """Raise unless ``job`` exists and may be read: what ``--optional`` never forgives.

    The Copy Artifact plugin (CopyArtifact.perform, "Unable to find project for artifact copy")
    fails on a missing project even when the copy is optional; only a missing build or artifact
    is optional. A 404 or 403 on the job itself is therefore always an error, naming the job.
    """
    try:
        client.job_record(job)
    except NotFoundError as exc:
        raise NotFoundError(
            f"job {job!r} does not exist in Jenkins (or is not visible to this user); "
            "--optional forgives a missing build or artifact, never a missing job",
            job=job,
        ) from exc


def _counted(chunks: Iterable[bytes], on_bytes: Callable[[int], None]) -> Iterator[bytes]:
    for chunk in chunks:
        on_bytes(len(chunk))
        yield chunk


def _download(
    client: JenkinsClient,
    job: str,
    number: int,
    artifact_path: str,
    deadline: float | None,
    stop: threading.Event,
) -> Iterator[bytes]:
    """One artifact's chunks, bounded by the copy's deadline and stopped by ``stop``."""
    if deadline is None:
        for chunk in client.iter_artifact(job, number, artifact_path):
            if stop.is_set():
                raise OperationCancelledError(f"download of {artifact_path!r} cancelled")
            yield chunk
        return
    yield from client.iter_artifact_until(
        job, number, artifact_path, deadline=deadline, cancelled=stop.is_set
    )


def iter_fingerprint_lines(result: CopyResult) -> Iterator[str]:
    """``md5  path`` lines, as md5sum prints them."""
    for copied in result.files:
        yield f"{copied.md5}  {copied.path}"
