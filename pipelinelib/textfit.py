"""Fit text to what its consumer can hold: cut, mark, never refuse.

Commit messages and display names are untrusted and unbounded. The whole text always stays in
``manifest.json`` and the store; every *derived* copy is cut to the real limit of the consumer it
goes to, and a cut copy ends with a marker that says so. The consumers and their limits:

=====================  =====================================  ==========================================
consumer               limit                                  source of the rule
=====================  =====================================  ==========================================
Groovy string          65,535 bytes of *modified* UTF-8       JVM spec SE 17 §4.4.7: ``CONSTANT_Utf8_info``
constant (env.groovy)  (U+0000 and U+0080-U+07FF: 2 bytes,    has a ``u2 length``; ASM's ``ByteVector``
                       U+0800-U+FFFF: 3, supplementary: 6)    throws "UTF8 string too large" beyond it
shell argument or      131,072 bytes including the NUL;       Linux ``MAX_ARG_STRLEN`` (32 * PAGE_SIZE,
environment variable   for a variable ``NAME=value\\0``       include/uapi/linux/binfmts.h), checked per
                                                              string by execve(2)
Jenkins display name   the Groovy constant's cut, and its     the display name is the commit message
                       ``configSubmit`` form under 100,000    that env.groovy carries: both are cut the
                       bytes (half of Jetty's 200,000-byte    same way, so the name Jenkins shows equals
                       form limit, the rest is the            ``env.<KEY>_COMMIT_MSG``; Jetty
                       description)                           ``DEFAULT_MAX_FORM_CONTENT_SIZE = 200000``
choice label subject   120 characters, first line only        CONTRACT.md "Names": a choice's SUBJECT
store copy             :data:`pipelinelib.model.MAX_TEXT`     the manifest service's 1 MiB body limit
                       characters
=====================  =====================================  ==========================================

The marker of a multi-line consumer is a last line ``[... cut by pipelinelib: N of M characters
shown; the whole text is in manifest.json]``; a one-line consumer (a choice subject) ends with
``…`` (U+2026). A cut never splits a character (Python strings are code points, so a surrogate pair
is never halved).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlencode

GROOVY_CONSTANT_BYTES = 65_535
MAX_ARG_STRLEN = 131_072
JENKINS_FORM_BYTES = 200_000
DISPLAY_NAME_FORM_BYTES = JENKINS_FORM_BYTES // 2
CHOICE_SUBJECT_CHARS = 120
ELLIPSIS = "\u2026"


def cut_marker(shown: int, total: int) -> str:
    """The last line a cut multi-line text ends with (counts are characters)."""
    return (
        f"\n[... cut by pipelinelib: {shown:,} of {total:,} characters shown; "
        "the whole text is in manifest.json]"
    )


def modified_utf8_length(text: str) -> int:
    """Bytes ``text`` takes as a JVM ``CONSTANT_Utf8`` (JVM spec §4.4.7, modified UTF-8).

    Python strings are code points; the JVM sees UTF-16 units, so a supplementary character is
    two surrogates of 3 bytes each, and U+0000 takes 2 bytes (``C0 80``).
    """
    n = len(text)
    if text.isascii():
        return n + text.count("\0")
    total = 0
    for ch in text:
        cp = ord(ch)
        if 0 < cp < 0x80:
            total += 1
        elif cp < 0x800:
            total += 2
        elif cp < 0x10000:
            total += 3
        else:
            total += 6
    return total


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _cut(text: str, limit: int, measure: Callable[[str], int], marker: Callable[[int], str]) -> str:
    """The longest prefix ``p`` of ``text`` with ``measure(p + marker(len(p))) <= limit``."""
    if measure(text) <= limit:
        return text
    lo, hi = 0, len(text)  # measure is monotonic in the prefix length: binary search
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid] + marker(mid)) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + marker(lo)


def fit_groovy_constant(text: str) -> str:
    """``text`` as a Groovy string constant can hold it (≤ 65,535 bytes modified UTF-8)."""
    return _cut(
        text,
        GROOVY_CONSTANT_BYTES,
        modified_utf8_length,
        lambda shown: cut_marker(shown, len(text)),
    )


def fit_environment_value(name: str, text: str) -> str:
    """``text`` as the value of environment variable ``name`` (``NAME=value`` + NUL ≤ 131,072)."""
    limit = MAX_ARG_STRLEN - utf8_length(name) - 2
    return _cut(text, limit, utf8_length, lambda shown: cut_marker(shown, len(text)))


def fit_argument(text: str) -> str:
    """``text`` as one command-line argument (≤ 131,071 bytes + NUL)."""
    return _cut(text, MAX_ARG_STRLEN - 1, utf8_length, lambda shown: cut_marker(shown, len(text)))


def display_name_form_bytes(name: str, description: str = "") -> int:
    """Bytes of the ``configSubmit`` form Jenkins receives for ``name`` (see the jenkins client)."""
    payload = json.dumps({"displayName": name, "description": description})
    return len(urlencode({"json": payload}))


def fit_display_name(text: str) -> str:
    """``text`` as a Jenkins build display name: the Groovy constant's cut, form under 100 kB."""
    text_cut = fit_groovy_constant(text)
    if display_name_form_bytes(text_cut) <= DISPLAY_NAME_FORM_BYTES:
        return text_cut
    return _cut(
        text,
        DISPLAY_NAME_FORM_BYTES,
        display_name_form_bytes,
        lambda shown: cut_marker(shown, len(text)),
    )


def fit_subject(line: str) -> str:
    """One line for a choice label: at most 120 characters, ending with ``…`` when cut."""
    if len(line) <= CHOICE_SUBJECT_CHARS:
        return line
    return line[: CHOICE_SUBJECT_CHARS - 1] + ELLIPSIS


def fit_store_text(text: str, limit: int) -> str:
    """``text`` as the store keeps it (``limit`` characters, marker included)."""
    return _cut(text, limit, len, lambda shown: cut_marker(shown, len(text)))
