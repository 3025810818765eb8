"""What the workspace's git knows: the commit a build is made from and its message."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipelinelib.errors import GitError


def _git(args: list[str], cwd: Path | None) -> str:
    try:
        completed = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            check=False,
            timeout=30,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed; pass --commit and --message") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"git {' '.join(args)} did not answer within 30 s") from exc
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[0] if detail else f"exit {completed.returncode}"
        where = cwd or Path.cwd()
        raise GitError(
            f"git cannot tell the commit of {where}: {reason}; pass --commit and --message",
            cwd=str(where),
        )
    # Commit messages are untrusted bytes: invalid UTF-8 becomes U+FFFD, never an exception.
    return completed.stdout.decode("utf-8", "replace")


def head_commit(cwd: Path | None = None) -> str:
    return _git(["rev-parse", "HEAD"], cwd).strip()


def head_message(cwd: Path | None = None) -> str:
    """The newest non-merge commit message, trimmed (as the old ``setDisplayName`` did)."""
    return _git(["log", "-1", "--no-merges", "--format=%B"], cwd).strip()


def commit_time(commit: str = "HEAD", cwd: Path | None = None) -> str | None:
    """When ``commit`` was committed, RFC 3339 (``git log -1 --format=%cI``); None when the
    workspace is not a git checkout or does not hold the commit (a build may publish a commit
    it did not check out: the time is then unknown, never guessed)."""
    try:
        text = _git(["log", "-1", "--format=%cI", commit, "--"], cwd).strip()
    except GitError:
        return None
    return text or None
