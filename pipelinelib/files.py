"""Writing files so that a reader never sees half of one, and errors name the path."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from pipelinelib.errors import FileAccessError


def ensure_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise FileAccessError(f"{path}: exists and is not a directory") from exc
    except OSError as exc:
        raise FileAccessError(f"cannot create directory {path}: {exc.strerror}") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise FileAccessError(f"directory {path} is not writable")
    return path


_COUNTER = itertools.count()


def _create_temporary(path: Path) -> tuple[int, str]:
    """``tempfile.mkstemp`` without importing tempfile (which costs CLI start-up): a name unique
    to this process and call, created with O_EXCL so an existing file is never reused."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        name = f".{path.name}.{os.getpid()}.{next(_COUNTER)}.{os.urandom(4).hex()}.tmp"
        tmp = str(path.parent / name)
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write to a temporary file beside ``path``, fsync, then rename over it."""
    ensure_dir(path.parent)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = _create_temporary(path)
    except OSError as exc:
        raise FileAccessError(f"cannot write in {path.parent}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise FileAccessError(f"cannot write {path}: {exc.strerror}") from exc
    return path


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FileAccessError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise FileAccessError(f"{path}: is a directory") from exc
    except UnicodeDecodeError as exc:
        raise FileAccessError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise FileAccessError(f"cannot read {path}: {exc.strerror}") from exc


def real_dir_below(base: Path, relative: Path | str) -> Path:
    """``base/relative`` as a real directory: no component below ``base`` is a symlink.

    For directories the tool owns (terraform's work dir): a symlink planted at any level
    (``.work/<region>/<stack> -> elsewhere``) is removed and replaced by a real directory, so
    nothing written below it can follow a link out of the tool's own directory. ``base`` itself
    is the person's choice and is used as it is.
    """
    current = base
    for part in Path(relative).parts:
        if part in ("", ".", "..") or os.sep in part:
            raise FileAccessError(f"{relative}: not a plain relative path below {base}")
        current = current / part
        try:
            if current.is_symlink():
                current.unlink()
            current.mkdir(exist_ok=True)
        except FileExistsError as exc:
            raise FileAccessError(f"{current}: exists and is not a directory") from exc
        except OSError as exc:
            raise FileAccessError(f"cannot create directory {current}: {exc.strerror}") from exc
    return current


@contextmanager
def open_for_export(path: Path) -> Iterator[IO[str]]:
    """A text stream that becomes ``path`` (mode 0600) only when the block completes: an export
    that fails half-way never leaves a file that looks whole."""
    ensure_dir(path.parent)
    try:
        fd, tmp = _create_temporary(path)
    except OSError as exc:
        raise FileAccessError(f"cannot write in {path.parent}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise FileAccessError(f"cannot write {path}: {exc.strerror}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def open_for_import(path: Path) -> Iterator[Iterator[str]]:
    """The lines of a UTF-8 text file, read as they are consumed; errors name the path."""
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FileAccessError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise FileAccessError(f"{path}: is a directory") from exc
    except OSError as exc:
        raise FileAccessError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        try:
            yield iter(handle)
        except UnicodeDecodeError as exc:
            raise FileAccessError(f"{path}: not UTF-8 text ({exc.reason})") from exc
