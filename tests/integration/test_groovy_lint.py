"""`make lint` runs CodeNarc's Jenkins CPS rules over the library and the Jenkinsfiles, for real.

Out of the box those rules only look at files named Jenkinsfile and silently skip any file whose
imports or annotations do not resolve. scripts/groovy_lint.py (with groovy/lint/) makes them apply
to vars/ and src/ and resolve the library's classes; these tests plant the mistakes the CPS
interpreter punishes at run time and check each is caught, in ONE CodeNarc run with the real tree.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.groovy, pytest.mark.slow]


def _load_lint() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "groovy_lint", ROOT / "scripts" / "groovy_lint.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["groovy_lint"] = module
    spec.loader.exec_module(module)
    return module


PLANTED_STEP = """\
import io.pipelinelib.Args

// A global step (vars/) as a colleague might write it.
def call(List names) {
    List sorted = names.sort { a, b -> a <=> b }
    java.util.regex.Matcher matcher = ('abc' =~ /b/)
    echo "${sorted} ${matcher} ${Args.ENV_PREFIX}"
}
"""

PLANTED_CLASS = """\
package io.pipelinelib

// A src/ class a pipeline keeps across a restart, but not Serializable.
class Planted {
    String name
}
"""

PLANTED_JENKINSFILE = """\
@Library('pipelinelib') _

import io.pipelinelib.Texts

pipeline {
    agent none
    stages {
        stage('Sort') {
            steps {
                script {
                    names = ['b', 'a'].toSorted { it }
                    echo Texts.firstLine(names.join(' '))
                }
            }
        }
    }
}
"""


@pytest.fixture(scope="module")
def problems(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    lint = _load_lint()
    if not (lint.TOOLS / "CodeNarc-3.7.0-groovy-4.0.jar").is_file():
        pytest.fail(f"CodeNarc is not installed under {lint.TOOLS}: `make lint` installs it")
    planted = tmp_path_factory.mktemp("planted")
    (planted / "vars").mkdir()
    (planted / "vars" / "plantedStep.groovy").write_text(PLANTED_STEP, encoding="utf-8")
    (planted / "Planted.groovy").write_text(PLANTED_CLASS, encoding="utf-8")
    (planted / "vars" / "unresolved.groovy").write_text(
        "import io.pipelinelib.Missing\n\ndef call() {\n    echo Missing.NAME\n}\n",
        encoding="utf-8",
    )
    (planted / "deploy").mkdir()
    (planted / "deploy" / "Jenkinsfile").write_text(PLANTED_JENKINSFILE, encoding="utf-8")
    paths = [
        planted / "vars" / "plantedStep.groovy",
        planted / "Planted.groovy",
        planted / "vars" / "unresolved.groovy",
        planted / "deploy" / "Jenkinsfile",
        *lint.default_paths(),
    ]
    found: dict[str, list[str]] = {}
    for line in lint.run(paths, lint.TOOLS, lint.RULES):
        where = line.split(":", 1)[0]
        found.setdefault(where, []).append(line)
    return {"__planted": [str(planted)], **found}


def _of(problems: dict[str, list[str]], name: str) -> list[str]:
    root = problems["__planted"][0]
    return problems.get(str(Path(root) / name), [])


def test_a_sort_in_a_cps_step_is_caught(problems: dict[str, list[str]]) -> None:
    found = _of(problems, "vars/plantedStep.groovy")
    assert any(
        ":5: ForbiddenCallInCpsMethod:" in p and "sort(groovy.lang.Closure)" in p for p in found
    ), found


def test_a_non_serializable_local_in_a_cps_step_is_caught(problems: dict[str, list[str]]) -> None:
    found = _of(problems, "vars/plantedStep.groovy")
    assert any(":6: ExpressionInCpsMethodNotSerializable:" in p for p in found), found


def test_a_library_class_that_is_not_serializable_is_caught(
    problems: dict[str, list[str]],
) -> None:
    found = _of(problems, "Planted.groovy")
    assert any("ClassNotSerializable" in p for p in found), found


def test_a_jenkinsfile_is_analysed_with_its_library_import(problems: dict[str, list[str]]) -> None:
    found = _of(problems, "deploy/Jenkinsfile")
    assert any("ForbiddenCallInCpsMethod" in p and "toSorted" in p for p in found), found


def test_a_file_codenarc_cannot_compile_is_a_problem_not_a_silent_skip(
    problems: dict[str, list[str]],
) -> None:
    found = _of(problems, "vars/unresolved.groovy")
    assert any("not analysed (does not compile)" in p for p in found), found


def test_the_real_tree_is_analysed_and_clean(problems: dict[str, list[str]]) -> None:
    real = {k: v for k, v in problems.items() if k != "__planted" and not k.startswith("/")}
    assert real == {}
