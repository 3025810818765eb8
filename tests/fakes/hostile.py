"""Hostile text as people and other systems really send it: commit messages, display names.

Shared by the env.groovy, service and board tests. Every entry is a value that has broken a
hand-written pipeline somewhere: quotes of every kind, Groovy interpolation and code, escapes that
Groovy's pre-lexer would decode, control characters, line and paragraph separators, very long text.
"""

from __future__ import annotations

MARKER = "PWNED-MARKER"

_BASE = [
    "",
    " ",
    "plain",
    "Fix 'quoted' login",
    'Say "hello"',
    "It's a `backtick` and 'single' and \"double\"",
    "'",
    "''",
    "'''",
    '"""',
    "'''triple''' inside",
    "trailing backslash \\",
    "\\",
    "\\\\",
    "\\'",
    "\\\\'",
    "${not interpolated}",
    "${System.exit(1)}",
    f"${{new File('{MARKER}-1').text = 'x'}}",
    f"'; new File('{MARKER}-2').text = 'x'; '",
    f"\\'; new File('{MARKER}-3').text = 'x'; //",
    f"\\u0027; new File('{MARKER}-4').text = 'x'; //",
    f"\\\\u0027; new File('{MARKER}-5').text = 'x'; //",
    "$x.y",
    "$env.PATH",
    "$/dollar slashy/$",
    "/slashy/",
    "\\u0027",
    "\\\\u0027",
    "\\\\\\u0027",
    "\\uuuu0041",
    "\\u000a",
    "\\u005c",
    "\\u",
    "\\uXYZW",
    "line1\nline2",
    "cr\rlf\r\n",
    "tab\there",
    "nul\x00byte",
    "".join(chr(c) for c in range(0, 32)),
    "\x7f delete",
    "\x1b[31mred\x1b[0m",
    "line\u2028separator",
    "para\u2029separator",
    "next\u0085line",
    "bom\ufeffhere",
    "zero\u200bwidth",
    "rtl \u202e override",
    "emoji 🚀 deploy",
    "astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "日本語のコミット",
    "Ünïcödé",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "&amp; &lt;",
    '"; rm -rf / #',
    "$(touch /tmp/" + MARKER + "-6)",
    "`touch /tmp/" + MARKER + "-7`",
    "%s %d %n",
    "{{ 7*7 }}",
    "-- comment",
    "// not a comment",
    "/* not a comment */",
    "env.OTHER = 'injected'",
    "a" * 70_000 if False else "a" * 60_000,
    "long\n" * 5_000,
    "\\" * 1001,
    "'" * 1001,
    "Merge branch 'feature/x' of github.com:org/repo",
    "Revert \"Fix 'it'\"\n\nThis reverts commit abc.",
    "ends with newline\n",
    "\n\nleading newlines",
    "\ud800 lone high surrogate",
    "lone low \udfff",
    "noncharacter \uffff",
]


def corpus() -> list[str]:
    """At least 200 hostile strings: the hand-written ones and systematic combinations."""
    values = list(_BASE)
    specials = ["'", "\\", '"', "$", "{", "}", "\n", "\r", "\t", "\x00", "\u2028", "u", "0027"]
    for a in specials:
        for b in specials:
            values.append(f"x{a}{b}y")
    values.extend(f"\\{c}" for c in "btnfr0u$'\"\\/x")
    return values
