"""Every Groovy file and Jenkinsfile of the repository compiles under the real Groovy 2.4.21.

One Groovy process checks them all (start-up costs ~0.6 s a process). The shared library
(groovy/src, groovy/vars) is compiled together to SEMANTIC_ANALYSIS, so its imports must resolve;
Jenkinsfiles and the choice scripts, which need Jenkins' classes, are parsed to the AST
(CONVERSION): every syntax error is caught, like the unclosed quote of the old service1 pipeline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Groovy
from tests.fixtures.groovy_sources import LIBRARY, ROOT, compile_check, discover

pytestmark = pytest.mark.groovy


def test_discovery_finds_the_library_the_jenkinsfiles_and_later_additions(tmp_path: Path) -> None:
    found = {p.relative_to(ROOT).as_posix() for p in discover()}
    for expected in (
        "groovy/src/io/pipelinelib/Args.groovy",
        "groovy/vars/pipelinelibImport.groovy",
        "groovy/vars/notifyBuild.groovy",
        "jenkins/service-build/Jenkinsfile",
        "jenkins/deploy-test/Jenkinsfile",
        "jenkins/deploy-upstream/Jenkinsfile",
        "jenkins/destroy-test/Jenkinsfile",
        "tests/groovy/compile_check.groovy",
    ):
        assert expected in found
    assert not [p for p in found if p.startswith(".venv/")]
    # A file someone adds later is picked up by the glob, wherever it lives.
    (tmp_path / "groovy" / "choices").mkdir(parents=True)
    (tmp_path / "groovy" / "choices" / "new.groovy").write_text("return []\n")
    (tmp_path / "jenkins" / "x").mkdir(parents=True)
    (tmp_path / "jenkins" / "x" / "Jenkinsfile.release").write_text("pipeline {}\n")
    assert {p.relative_to(tmp_path.resolve()).as_posix() for p in discover(tmp_path)} == {
        "groovy/choices/new.groovy",
        "jenkins/x/Jenkinsfile.release",
    }


def test_every_groovy_file_and_jenkinsfile_compiles(groovy: Groovy, tmp_path: Path) -> None:
    files = discover()
    report = compile_check(groovy.executable, groovy.env, files, tmp_path)
    assert report.errors == {}
    assert report.ok == frozenset(files)


def test_the_check_catches_an_unclosed_quote_and_reports_each_file(
    groovy: Groovy, tmp_path: Path
) -> None:
    bad = tmp_path / "Jenkinsfile"
    bad.write_text(
        "node('docker') {\n  stage('Pull tools') {\n    dir('tools) {\n      checkout scm\n    }\n  }\n}\n"
    )
    good = tmp_path / "Jenkinsfile.good"
    good.write_text("node('docker') {\n  dir('tools') {\n    checkout scm\n  }\n}\n")
    unbalanced = tmp_path / "choice.groovy"
    unbalanced.write_text("def x = [1, 2\nreturn x\n")
    report = compile_check(
        groovy.executable,
        groovy.env,
        [bad.resolve(), good.resolve(), unbalanced.resolve()],
        tmp_path,
    )
    assert report.ok == frozenset({good.resolve()})
    assert [line for line, _ in report.errors[bad.resolve()]] == [3]
    assert "expecting '''" in report.errors[bad.resolve()][0][1]
    assert report.errors[unbalanced.resolve()]


def test_library_files_must_resolve_their_imports(groovy: Groovy, tmp_path: Path) -> None:
    """The library is checked past parsing: a step importing a class that is not there fails."""
    library = tmp_path / "groovy"
    (library / "vars").mkdir(parents=True)
    (library / "src" / "io" / "pipelinelib").mkdir(parents=True)
    for source in (LIBRARY / "src" / "io" / "pipelinelib").glob("*.groovy"):
        (library / "src" / "io" / "pipelinelib" / source.name).write_text(source.read_text())
    step = library / "vars" / "broken.groovy"
    step.write_text("import io.pipelinelib.Nope\n\ndef call() { Nope.run() }\n")
    fine = library / "vars" / "fine.groovy"
    fine.write_text("import io.pipelinelib.Args\n\ndef call() { Args.shellCommand(1) }\n")
    paths = sorted(p.resolve() for p in library.rglob("*.groovy"))
    report = compile_check(groovy.executable, groovy.env, paths, tmp_path, library=library)
    assert fine.resolve() in report.ok
    assert [m.strip() for _, m in report.errors[step.resolve()]] == [
        "unable to resolve class io.pipelinelib.Nope"
    ]
