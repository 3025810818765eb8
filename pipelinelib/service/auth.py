"""Bearer tokens: a file of ``TOKEN SCOPE[,SCOPE]`` lines, compared in constant time.

Scopes: ``publish`` (POST builds, PUT display names) and ``read`` (reads, only checked when the
service is started with ``require_read_token``). A ``publish`` token may also read.

The file is the one docs/operations.md shows: blank lines, whole-line comments and trailing
``# comments`` (a ``#`` at the start or after white space). It must not be readable by group or
others (mode 0600 or 0400): a looser file is refused, because anyone on the host could publish.

Rotation holds: :class:`TokensFile` re-reads the file when it changes (checked at most once a
second) and a worker that boots after ``kill -HUP`` starts from the last good tokens this process
(or the gunicorn master, see :func:`remember_tokens_file`) read. A bad edit (typo, unknown
scope, loose mode) is logged and the previous tokens keep serving; nothing goes down.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import stat
import threading
import time
from collections.abc import ItemsView, Iterable, Iterator, Mapping
from pathlib import Path

import attrs

from pipelinelib.errors import (
    AuthenticationError,
    FileAccessError,
    InvalidInputError,
    PermissionDeniedError,
    PipelinelibError,
)

SCOPES = frozenset({"publish", "read"})
MIN_TOKEN_LENGTH = 16
RECHECK_SECONDS = 1.0
_COMMENT = re.compile(r"(?:^|\s)#.*$")
log = logging.getLogger(__name__)


def parse_tokens(text: str, name: str = "<tokens>") -> dict[str, frozenset[str]]:
    tokens: dict[str, frozenset[str]] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = _COMMENT.sub("", raw).strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise InvalidInputError(f"{name}:{lineno}: expected 'TOKEN SCOPE[,SCOPE]'")
        token, scope_text = parts
        scopes = frozenset(s for s in scope_text.split(",") if s)
        unknown = scopes - SCOPES
        if unknown or not scopes:
            raise InvalidInputError(
                f"{name}:{lineno}: unknown scope {', '.join(sorted(unknown)) or '(none)'}; "
                f"use {', '.join(sorted(SCOPES))}"
            )
        if len(token) < MIN_TOKEN_LENGTH:
            raise InvalidInputError(
                f"{name}:{lineno}: token is shorter than {MIN_TOKEN_LENGTH} characters"
            )
        if token in tokens:
            raise InvalidInputError(f"{name}:{lineno}: the same token appears twice")
        tokens[token] = scopes
    return tokens


def read_tokens_file(path: Path) -> dict[str, frozenset[str]]:
    """Parse the tokens file; FileAccessError when missing, unreadable or readable by others."""
    try:
        with path.open(encoding="utf-8") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise FileAccessError(
                    f"tokens file {path} is readable by group or others "
                    f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"
                )
            text = handle.read()
    except FileNotFoundError as exc:
        raise FileAccessError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise FileAccessError(f"cannot read tokens file {path}: {exc}") from exc
    return parse_tokens(text, str(path))


# The last tokens each file gave, in this process. Filled by the gunicorn master (on start and on
# HUP, see the image's gunicorn.conf.py) and inherited by the workers it forks.
_last_good: dict[str, dict[str, frozenset[str]]] = {}
_last_good_lock = threading.Lock()


def _key(path: Path) -> str:
    return os.path.abspath(path)


def remember_tokens_file(path: Path | str) -> bool:
    """Read ``path`` and keep it as the last good tokens; on error log why and keep the old ones.

    True when the file was read. The first read of a file raises instead (a service must not
    start without its tokens).
    """
    path = Path(path)
    try:
        tokens = read_tokens_file(path)
    except PipelinelibError as exc:
        with _last_good_lock:
            known = _last_good.get(_key(path))
        if known is None:
            raise
        log.error(
            "tokens file not reloaded, still serving the previous %d tokens: %s",
            len(known),
            exc.message,
        )
        return False
    with _last_good_lock:
        _last_good[_key(path)] = tokens
    return True


class TokensFile(Mapping[str, frozenset[str]]):
    """The tokens of a file, re-read when the file changes; a bad version is logged and ignored."""

    def __init__(self, path: Path | str, *, recheck: float = RECHECK_SECONDS) -> None:
        self.path = Path(path)
        self.recheck = recheck
        self._lock = threading.Lock()
        self._stamp = self._stat()
        remember_tokens_file(self.path)
        with _last_good_lock:
            self._tokens = _last_good[_key(self.path)]
        self._checked = time.monotonic()

    def _stat(self) -> tuple[int, int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode)

    def current(self) -> Mapping[str, frozenset[str]]:
        now = time.monotonic()
        if now - self._checked < self.recheck:
            return self._tokens
        with self._lock:
            if now - self._checked >= self.recheck:
                self._checked = now
                stamp = self._stat()
                if stamp != self._stamp:
                    self._stamp = stamp
                    if remember_tokens_file(self.path):
                        with _last_good_lock:
                            self._tokens = _last_good[_key(self.path)]
                        log.info("tokens file %s reloaded: %d tokens", self.path, len(self._tokens))
        return self._tokens

    def items(self) -> ItemsView[str, frozenset[str]]:
        return self.current().items()  # one version of the file, even across a reload

    def __getitem__(self, token: str) -> frozenset[str]:
        return self.current()[token]

    def __iter__(self) -> Iterator[str]:
        return iter(self.current())

    def __len__(self) -> int:
        return len(self.current())


@attrs.frozen
class Authorizer:
    tokens: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    allow_anonymous_writes: bool = False
    require_read_token: bool = False

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, Iterable[str]]], **options: bool) -> Authorizer:
        return cls({token: frozenset(scopes) for token, scopes in pairs}, **options)

    def _scopes_of(self, header: str | None) -> frozenset[str] | None:
        """The scopes of the presented token; None when no token was presented."""
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
        presented = token.strip().encode("utf-8", "surrogateescape")
        found: frozenset[str] | None = None
        for known, scopes in self.tokens.items():  # compare with every token: constant time
            if hmac.compare_digest(presented, known.encode("utf-8")):
                found = scopes
        if found is None:
            raise AuthenticationError("the token is not valid")
        return found

    def check(self, header: str | None, scope: str) -> None:
        if scope == "read":
            if not self.require_read_token:
                return
            scopes = self._scopes_of(header)
            if scopes is None:
                raise AuthenticationError("this service requires a token to read")
            if not scopes & {"read", "publish"}:
                raise PermissionDeniedError("the token has no read scope")
            return
        if not self.tokens:
            if self.allow_anonymous_writes:
                return
            raise PermissionDeniedError(
                "writes are disabled: the service was started without a tokens file"
            )
        scopes = self._scopes_of(header)
        if scopes is None:
            if self.allow_anonymous_writes:
                return
            raise AuthenticationError("a bearer token with the publish scope is required")
        if scope not in scopes:
            raise PermissionDeniedError(f"the token has no {scope} scope")
