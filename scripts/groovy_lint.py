"""CodeNarc with its Jenkins CPS rules over the shared library, the choice scripts and Jenkinsfiles.

Usage: python scripts/groovy_lint.py [--tools DIR] [--rules FILE] [PATH ...]
(default paths: groovy/vars, groovy/src and jenkins/*/Jenkinsfile: the code Jenkins runs through
the CPS interpreter. groovy/choices/ is not CPS code: the choice plugins run it as plain Groovy.)

CodeNarc 3.7.0 comes from the npm package npm-groovy-lint (its lib/java holds CodeNarc, GMetrics
and Groovy 4 jars; installed by `make lint` under .venv/node). It runs straight on the JVM (no
npm-groovy-lint server on a port). The rules (groovy/lint/jenkins-rules.groovy) run at the
SEMANTIC_ANALYSIS phase, where a file whose classes do not resolve is silently skipped; so first
groovy/src and the stubs of groovy/lint/stubs are compiled onto CodeNarc's class path, and every
"Compilation failed" line CodeNarc logs fails the lint too. Exit 1 on any violation or skip.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".venv" / "node" / "node_modules" / "npm-groovy-lint" / "lib" / "java"
RULES = ROOT / "groovy" / "lint" / "jenkins-rules.groovy"
STUBS = ROOT / "groovy" / "lint" / "stubs"
LIBRARY_SRC = ROOT / "groovy" / "src"


def default_paths() -> list[Path]:
    paths = [
        *sorted((ROOT / "groovy" / "vars").glob("*.groovy")),
        *sorted(LIBRARY_SRC.rglob("*.groovy")),
        *sorted((ROOT / "jenkins").glob("*/Jenkinsfile")),
    ]
    return paths


def class_path(tools: Path) -> list[str]:
    jars = [tools / "CodeNarc-3.7.0-groovy-4.0.jar", *sorted(tools.glob("GMetrics-*.jar"))]
    jars += sorted((tools / "groovy" / "lib").glob("*.jar"))
    jars += sorted(tools.glob("slf4j-api-*.jar")) + sorted(tools.glob("logback-*.jar"))
    missing = [str(j) for j in jars if not j.is_file()]
    if missing or len(jars) < 4:
        raise SystemExit(f"groovy-lint: CodeNarc jars missing under {tools}: run `make lint`")
    return [str(j) for j in jars]


def java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise SystemExit("groovy-lint: no java on PATH (scripts/install-tools.sh installs it)")
    return found


def compile_classes(cp: list[str], out: Path) -> None:
    """groovy/src and the stubs, compiled by the Groovy 4 that CodeNarc itself runs on."""
    sources = [str(p) for p in sorted(STUBS.rglob("*.groovy"))]
    sources += [str(p) for p in sorted(LIBRARY_SRC.rglob("*.groovy"))]
    done = subprocess.run(
        [
            java(),
            "-cp",
            os.pathsep.join(cp),
            "org.codehaus.groovy.tools.FileSystemCompiler",
            "-d",
            str(out),
            *sources,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"groovy-lint: groovy/src does not compile:\n{done.stdout}{done.stderr}")


def run(paths: list[Path], tools: Path, rules: Path) -> list[str]:
    """Problems as 'path:line: Rule: message' lines (empty when clean)."""
    cp = class_path(tools)
    with tempfile.TemporaryDirectory(prefix="groovy-lint-") as tmp:
        work = Path(tmp)
        classes = work / "classes"
        compile_classes(cp, classes)
        # CodeNarc takes one base directory: each file is linked in under a numbered folder
        # that keeps its name (the Jenkins rules match on it), so any set of paths can be checked.
        base = work / "src"
        names: dict[str, Path] = {}
        for i, path in enumerate(paths):
            link = base / str(i) / path.name
            link.parent.mkdir(parents=True)
            link.symlink_to(path.resolve())
            names[f"{i}/{path.name}"] = path
        report = work / "report.json"
        done = subprocess.run(
            [
                java(),
                "-cp",
                os.pathsep.join([*cp, str(classes)]),
                "org.codenarc.CodeNarc",
                f"-basedir={base}",
                "-includes=**/*.groovy,**/Jenkinsfile",
                f"-rulesetfiles=file:{rules}",
                f"-report=json:{report}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        problems: list[str] = []
        for line in (done.stdout + done.stderr).splitlines():
            if "Compilation failed" in line or "Error processing filePath" in line:
                skipped = next(
                    (p for rel, p in names.items() if f"{base}/{rel}" in line), Path("?")
                )
                problems.append(f"{skipped}:0: not analysed (does not compile): {line.strip()}")
        if done.returncode != 0 or not report.is_file():
            problems.append(f"CodeNarc failed ({done.returncode}):\n{done.stdout}{done.stderr}")
            return problems
        data = json.loads(report.read_text(encoding="utf-8"))
        for package in data.get("packages", []):
            for entry in package.get("files", []):
                rel = (package.get("path", "").strip("/") + "/" + entry["name"]).strip("/")
                source = names.get(rel, Path(rel))
                shown = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source
                for v in entry.get("violations", []):
                    problems.append(
                        f"{shown}:{v.get('lineNumber', 0)}: {v['ruleName']}: {v.get('message', '')}"
                    )
        return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=Path, default=TOOLS)
    parser.add_argument("--rules", type=Path, default=RULES)
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or default_paths()
    problems = run(paths, args.tools, args.rules)
    for problem in problems:
        print(problem)
    print(f"groovy-lint: {len(paths)} files, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
