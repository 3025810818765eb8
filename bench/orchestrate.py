"""orchestrate's own overhead before terraform starts, against `python -c pass` in the same run.

* dry run: `pipelinelib orchestrate plan appcluster-test ap-southeast-2 --dry-run --import-dir`
  on the repository's terraform/ (parse, validate, read env.groovy, compute the commands);
* a real run with `true` as the terraform binary: the same plus assembling the work dir and
  starting the two processes (`get`, `plan`), i.e. everything that is not terraform itself;
* how the work dir reaches src/modules: a symlink (what orchestrate does) against copying the
  module tree on every run (what it could do instead), in-process.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench._timing import median_seconds, report, run_command

REPEAT = 21
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = base / "terraform"
        shutil.copytree(ROOT / "terraform", root, ignore=shutil.ignore_patterns(".work"))
        imports = base / "import"
        imports.mkdir()
        for i, name in enumerate(["service1", "service2"], start=90):
            key = name.upper()
            (imports / f"{name}.env.groovy").write_text(
                f"env.{key}_SERVICE = '{name}'\nenv.{key}_BUILD = '{i}'\n"
            )
        args = ["plan", "appcluster-test", "ap-southeast-2", "--root", str(root)]
        args += ["--import-dir", str(imports)]
        true_bin = shutil.which("true") or "/bin/true"
        env = {**os.environ, "PIPELINELIB_TERRAFORM": true_bin}
        commands = [
            run_command([python, "-c", "pass"]),
            run_command([python, "-m", "pipelinelib", "orchestrate", *args, "--dry-run"], env=env),
            run_command([python, "-m", "pipelinelib", "orchestrate", *args], env=env),
        ]
        # Interleaved, so that load from other processes hits all three alike.
        samples: list[list[float]] = [[], [], []]
        for _ in range(REPEAT):
            for i, command in enumerate(commands):
                samples[i].append(median_seconds(command, 1))
        baseline, dry, real = (statistics.median(s) for s in samples)
        print(report("orchestrate plan --dry-run", "python -c pass", baseline, dry))
        print(report("orchestrate plan (terraform = true)", "python -c pass", baseline, real))

        modules = root / "src" / "modules"
        target = base / "links"
        target.mkdir()

        def link() -> None:
            path = target / "modules"
            tmp_link = target / ".modules"
            os.symlink(os.path.relpath(modules, target), tmp_link)
            os.replace(tmp_link, path)

        def copy() -> None:
            path = target / "copied"
            shutil.rmtree(path, ignore_errors=True)
            shutil.copytree(modules, path)

        link_time = median_seconds(link, REPEAT)
        copy_time = median_seconds(copy, REPEAT)
        print(
            f"modules into the work dir: symlink {link_time * 1e6:.0f} us vs copytree "
            f"{copy_time * 1e6:.0f} us -> copy is {copy_time / link_time:.0f}x the symlink"
        )


if __name__ == "__main__":
    main()
