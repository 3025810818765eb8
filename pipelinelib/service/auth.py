"""Bearer tokens: a file of ``TOKEN SCOPE[,SCOPE] [identity=NAME]`` lines, compared in
constant time.

Scopes: ``publish`` (POST builds, PUT display names, locks, approval requests), ``approve``
(approvals of deployments to protected environments) and ``read`` (reads, only checked when the
service is started with ``require_read_token``). A ``publish`` token may also read.
``identity=NAME`` says who holds the token: approvals and locks are recorded under it, and an
identity may not approve a request it made (docs/promotion.md). Lines without it keep working.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs

from pipelinelib.errors import (
    AuthenticationError,
    FileAccessError,
    InvalidInputError,
    PermissionDeniedError,
)

SCOPES = frozenset({"publish", "read", "approve"})
MIN_TOKEN_LENGTH = 16


def parse_tokens(text: str, name: str = "<tokens>") -> dict[str, frozenset[str]]:
    return parse_token_lines(text, name)[0]


def parse_token_lines(
    text: str, name: str = "<tokens>"
) -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    """``({token: scopes}, {token: identity})`` of a tokens file."""
    from pipelinelib.model import validate_identity

    tokens: dict[str, frozenset[str]] = {}
    identities: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) == 3 and parts[2].startswith("identity="):
            try:
                identity = validate_identity(parts[2][len("identity=") :])
            except InvalidInputError as exc:
                raise InvalidInputError(f"{name}:{lineno}: {exc}") from None
            identities[parts[0]] = identity
            parts = parts[:2]
        if len(parts) != 2:
            raise InvalidInputError(
                f"{name}:{lineno}: expected 'TOKEN SCOPE[,SCOPE] [identity=NAME]'"
            )
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
    return tokens, identities


def read_tokens_file(path: Path) -> dict[str, frozenset[str]]:
    return read_token_lines(path)[0]


def read_token_lines(path: Path) -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FileAccessError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise FileAccessError(f"cannot read tokens file {path}: {exc}") from exc
    return parse_token_lines(text, str(path))


@attrs.frozen
class Authorizer:
    tokens: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    allow_anonymous_writes: bool = False
    require_read_token: bool = False
    identities: Mapping[str, str] = attrs.field(factory=dict)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, Iterable[str]]], **options: bool) -> Authorizer:
        return cls(
            {token: frozenset(scopes) for token, scopes in pairs},
            allow_anonymous_writes=options.get("allow_anonymous_writes", False),
            require_read_token=options.get("require_read_token", False),
        )

    def identity(self, header: str | None) -> str | None:
        """The identity of the presented (valid) token; None without a token or identity."""
        if not header or self._scopes_of(header) is None:
            return None
        presented = header.partition(" ")[2].strip().encode("utf-8", "surrogateescape")
        found: str | None = None
        for known, who in self.identities.items():  # constant time, as for scopes
            if hmac.compare_digest(presented, known.encode("utf-8")):
                found = who
        return found

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
            if not scopes & {"read", "publish", "approve"}:
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
            raise AuthenticationError(f"a bearer token with the {scope} scope is required")
        if scope not in scopes:
            raise PermissionDeniedError(f"the token has no {scope} scope")
