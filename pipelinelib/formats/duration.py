"""Durations as people type them (``--timeout 15m``): the package's one parser and formatter.

No well-kept library fits (``durations`` was last released in 2014; ``pytimeparse2`` is not
available here), so this is one small function, used by the CLI, ``wait-rollout`` and the
Groovy/Python validation corpus (tests/unit/test_validation_corpus.py), which requires
``groovy/src/io/pipelinelib/Args.groovy`` to give the same verdicts.
"""

from __future__ import annotations

import re

from pipelinelib.errors import InvalidInputError

_ASCII_BLANKS = " \t\n\r\f\v"  # what Args.groovy trims too
_DURATION_RE = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> float:
    """Seconds in ``90s``, ``15m``, ``1h``, ``1h30m``, ``1h30m15s`` or a bare number of seconds.

    Units are case-insensitive; surrounding ASCII blanks are ignored. Raises
    :class:`~pipelinelib.errors.InvalidInputError` for anything else and for zero.
    """
    value = text.strip(_ASCII_BLANKS).lower()
    if value.isascii() and value.isdigit():
        seconds = int(value)
    else:
        match = _DURATION_RE.fullmatch(value) if value.isascii() else None
        if not value or match is None:
            raise InvalidInputError(
                f"invalid duration {text!r}: use a number of seconds or e.g. 90s, 15m, 1h, 1h30m"
            )
        hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise InvalidInputError(f"duration {text!r} must be more than zero")
    return float(seconds)


def format_duration(seconds: float) -> str:
    """``3600`` -> ``1h``, ``900`` -> ``15m``, else whole seconds (``95s``)."""
    whole = int(seconds)
    if whole % 3600 == 0 and whole >= 3600:
        return f"{whole // 3600}h"
    if whole % 60 == 0 and whole >= 60:
        return f"{whole // 60}m"
    return f"{whole}s"
