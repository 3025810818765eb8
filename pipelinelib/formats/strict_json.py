"""Untrusted JSON (manifest files, HTTP bodies, outcome files): one reader with one set of rules.

``json.loads`` alone accepts duplicate keys (the last one silently wins, so two readers of one
document can disagree about it), ``NaN``/``Infinity`` (not JSON, RFC 8259 §6) and nesting deep
enough to raise ``RecursionError``. Here each is a clear :class:`InvalidInputError` (or the
subclass the caller names, e.g. ArtifactFormatError for files):

* a key twice in one object (RFC 8259 §4: names SHOULD be unique; we require it);
* ``NaN``, ``Infinity``, ``-Infinity``;
* nesting deeper than :data:`MAX_DEPTH` (a manifest is 4 levels deep);
* integers longer than Python's 4,300-digit limit.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pipelinelib.errors import InvalidInputError

MAX_DEPTH = 32
_BRACKETS_OR_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` outside strings (stops counting past MAX_DEPTH)."""
    depth = deepest = 0
    for match in _BRACKETS_OR_STRINGS.finditer(text):
        bracket = match.group(0)
        if bracket in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif bracket in "]}":
            depth -= 1
    return deepest


def loads(text: str, what: str, error: type[InvalidInputError] = InvalidInputError) -> Any:
    """Parse ``text`` (named ``what`` in messages) by the rules above."""

    def refuse_constant(name: str) -> Any:
        raise error(f"{what}: {name} is not valid JSON")

    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(text) > MAX_DEPTH:
        raise error(f"{what}: JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=refuse_constant, object_pairs_hook=_object)
    except _DuplicateKey as exc:
        raise error(f"{what}: the key {exc.key!r} appears twice in one object") from exc
    except json.JSONDecodeError as exc:
        raise error(
            f"{what}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    except (ValueError, RecursionError) as exc:  # huge integers, absurd nesting
        raise error(f"{what}: not acceptable JSON ({exc})") from exc
