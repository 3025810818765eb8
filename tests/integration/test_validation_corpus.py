"""Groovy and Python judge the same inputs the same way.

The shared library (groovy/src/io/pipelinelib/Args.groovy) checks a step's arguments before any
shell runs; the CLI checks them again. If they disagree, a Jenkins step either refuses what the
CLI would accept (``--timeout 1h30m`` used to) or passes on what it refuses, with a worse message.
One corpus goes through both, under the real Groovy 2.4, and the verdicts must be identical.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipelinelib.errors import InvalidInputError
from pipelinelib.formats.duration import parse_duration
from pipelinelib.model import validate_build_number, validate_job_name, validate_service_name
from pipelinelib.orchestrate import validate_stack_name
from pipelinelib.pipeline.promote import parse_overrides, validate_selector
from tests.conftest import TESTS, Groovy
from tests.fakes.hostile import corpus as hostile_corpus

LIBRARY_SRC = TESTS.parent / "groovy" / "src"

PYTHON: dict[str, Callable[[str], Any]] = {
    "job": validate_job_name,
    "service": validate_service_name,
    "build": validate_build_number,
    "stack": validate_stack_name,
    "selector": validate_selector,
    "duration": parse_duration,
    "override": lambda value: parse_overrides([value]),
}

CORPUS: dict[str, list[str]] = {
    "job": [
        "service1-build",
        "team/service1-build",
        "Team A/Deploy Live",
        "a" * 255,
        "a" * 256,
        "",
        "/x",
        "x/",
        "a//b",
        "./x",
        "a/../b",
        " padded",
        "padded /x",
        "x?y",
        "x*y",
        "x%y",
        "x:y",
        "x\\y",
        'x"y',
        "x'y",
        "x\ny",
        "x\x00y",
        "x\x7fy",
        "x\x85y",
        "déploiement",
        "服务",
        "a\u00a0b",
        "\u00a0a",
    ],
    "service": [
        "service1",
        "order-api",
        "order_api",
        "1",
        "a" * 63,
        "a" * 64,
        "Service1",
        "-a",
        "_a",
        "a.b",
        "",
        "a b",
        "ünï",
    ],
    "build": [
        "1",
        "91",
        "0",
        "-1",
        "+5",
        "2147483647",
        "2147483648",
        "99999999999",
        "1.0",
        "1e3",
        " 91 ",
        "０",
        "",
        "abc",
    ],
    "stack": [
        "appcluster-test",
        "appcluster-live",
        "render-test",
        "AppCluster-Test",
        "a" * 63,
        "a" * 64,
        "a" * 100,
        "a" * 101,
        "",
        "-x",
        "_x",
        ".hidden",
        "a/b",
        "a.b",
        "a b",
        "..",
    ],
    "selector": [
        "lastSuccessful",
        "12",
        "12-Fix login",
        "12-",
        "12-a-b",
        "0",
        "0-x",
        "lastStable",
        "latest",
        "-12",
        "",
        " ",
        "12 -x",
        "x-12",
        "2147483648-x",
        "12-\x00",
    ],
    "duration": [
        "90s",
        "15m",
        "1h",
        "1h30m",
        "1h30m15s",
        "30m15s",
        "2H",
        " 15m ",
        "15m\n",
        "45",
        "0",
        "0s",
        "0h0m",
        "00010",
        "",
        " ",
        "m",
        "h",
        "15 minutes",
        "1.5h",
        "-5",
        "1h 30m",
        "30m1h",
        "1d",
        "\u00a015m",
        "１５m",
        "99999999999999999999s",
    ],
    "override": [
        "service1=91",
        "order-api=12",
        "service1=0",
        "service1=",
        "service1",
        "=91",
        "Service1=91",
        "service1=91=2",
        "service1=x",
        "service1=+5",
        " service1=91",
        "service1 =91",
        "service1= 91",
        "a b=1",
        "\u00a0service1=91",
        "\tservice1=91",
    ],
}


def python_verdict(kind: str, value: str) -> str | None:
    try:
        PYTHON[kind](value)
    except InvalidInputError as exc:
        return str(exc)
    return None


def groovy_verdicts(groovy: Groovy, items: list[tuple[str, str]], tmp_path: Path) -> list[Any]:
    source = tmp_path / "corpus.json"
    source.write_text(json.dumps(items, ensure_ascii=True), encoding="utf-8")
    out = tmp_path / "verdicts.json"
    done = groovy.run(
        TESTS / "groovy" / "validate_corpus.groovy",
        str(LIBRARY_SRC),
        str(source),
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    verdicts: list[Any] = json.loads(out.read_text(encoding="utf-8"))
    return verdicts


def test_groovy_and_python_accept_and_refuse_the_same_inputs(
    groovy: Groovy, tmp_path: Path
) -> None:
    hostile = [v for v in hostile_corpus() if len(v) < 300][:60]
    items = [(kind, value) for kind, values in CORPUS.items() for value in values]
    items += [
        (kind, value) for kind in ("job", "selector", "duration", "override") for value in hostile
    ]
    groovy_said = groovy_verdicts(groovy, items, tmp_path)
    assert len(groovy_said) == len(items)
    disagreements = [
        f"{kind} {value!r}: groovy {'accepts' if g is None else 'refuses'}, "
        f"python {'accepts' if p is None else 'refuses'} ({g or p})"
        for (kind, value), g in zip(items, groovy_said, strict=True)
        if (g is None) != ((p := python_verdict(kind, value)) is None)
    ]
    assert disagreements == [], "\n".join(disagreements)


@pytest.mark.parametrize(
    ("kind", "value", "accepted"),
    [
        ("duration", "1h30m", True),  # the Groovy check used to refuse it
        ("duration", "0", False),  # and to accept this
        ("stack", "AppCluster-Test", True),  # Groovy was lower-case only
        ("stack", "a" * 100, True),  # and at most 63 characters
        ("stack", "a" * 101, False),
    ],
)
def test_the_drift_that_was_found_is_settled_on_the_python_side(
    kind: str, value: str, accepted: bool
) -> None:
    assert (python_verdict(kind, value) is None) is accepted
