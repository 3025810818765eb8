"""Shell assignments that a POSIX shell can ``eval`` or ``source`` without running any value."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from pipelinelib.errors import ArtifactFormatError

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def render_shell(variables: Mapping[str, str]) -> str:
    lines = []
    for key, value in variables.items():
        if not _NAME_RE.fullmatch(key):
            raise ArtifactFormatError(f"{key!r} is not a valid shell variable name")
        if "\0" in value:
            raise ArtifactFormatError(f"{key} holds a NUL character, which no shell can carry")
        lines.append(f"export {key}={shlex.quote(value)}\n")
    return "".join(lines)
