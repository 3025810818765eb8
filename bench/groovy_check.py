"""The all-files Groovy compile check in ONE process against one process per file, same run.

Groovy's start-up (JVM + compiler, ~0.6 s here) dominates a check of one small file, so checking
every Groovy file and Jenkinsfile of the repository in one process is the difference between a
test that takes seconds and one that takes a minute. Both ways give the same per-file verdicts
(checked below).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench._timing import median_seconds, report
from tests.fixtures.groovy_sources import (
    CompileReport,
    compile_check_command,
    discover,
    parse_report,
)

REPEAT = 3
JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"


def main() -> None:
    groovy = shutil.which("groovy")
    if groovy is None:
        print("groovy is not installed (scripts/install-tools.sh installs it); skipped")
        return
    env = dict(os.environ)
    if Path(JAVA_HOME).is_dir():
        env["JAVA_HOME"] = JAVA_HOME
    files = discover()
    with tempfile.TemporaryDirectory() as work:
        listing = Path(work) / "files.txt"

        def check(paths: list[Path]) -> str:
            done = subprocess.run(
                compile_check_command(groovy, paths, listing),
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            return done.stdout

        together_reports: list[CompileReport] = []
        per_file_reports: list[CompileReport] = []

        def one_process() -> None:
            together_reports.append(parse_report(check(files)))

        def per_file() -> None:
            ok: set[Path] = set()
            errors: dict[Path, list[tuple[int, str]]] = {}
            for path in files:
                part = parse_report(check([path]))
                ok |= part.ok
                errors.update(part.errors)
            per_file_reports.append(CompileReport(frozenset(ok), errors))

        together = median_seconds(one_process, REPEAT)
        separately = median_seconds(per_file, 1)
    assert together_reports[-1] == per_file_reports[-1], "the two ways disagree"
    print(f"{len(files)} files: every *.groovy file and Jenkinsfile of the repository")
    print(report("one process per file", "one process for all", together, separately))


if __name__ == "__main__":
    main()
