"""Unknown names are errors with a did-you-mean, never an empty answer.

``list-builds --job deploy-tset`` printing nothing and ``diff test lve`` showing every service as
added both looked like answers. Every verb that takes an environment or job name a person typed
checks it against the names pipelinelib knows and, when it is unknown, raises
:class:`NotFoundError` naming the closest known names (:func:`difflib.get_close_matches`,
ratio >= 0.6, the standard library's rule for "close").
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from pipelinelib.errors import NotFoundError


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'deploy-test'?)`` or ``""`` when nothing known is close."""
    close = difflib.get_close_matches(name, sorted(set(known)), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"


def require_known(kind: str, name: str, known: Iterable[str]) -> str:
    """``name`` when it is among ``known``; otherwise NotFoundError with a did-you-mean."""
    names = set(known)
    if name in names:
        return name
    listed = ", ".join(sorted(names)[:20]) or "none yet"
    raise NotFoundError(
        f"unknown {kind} {name!r}{did_you_mean(name, names)}; known: {listed}", name=name
    )
