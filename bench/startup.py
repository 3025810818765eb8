"""CLI start-up and publish-artifact wall time against a bare `python -c pass` in the same run."""

from __future__ import annotations

import sys
import tempfile

from bench._timing import median_seconds, report, run_command

REPEAT = 15


def main() -> None:
    python = sys.executable
    baseline = median_seconds(run_command([python, "-c", "pass"]), REPEAT)
    help_time = median_seconds(run_command([python, "-m", "pipelinelib", "--help"]), REPEAT)
    with tempfile.TemporaryDirectory() as out:
        publish = run_command(
            [
                python,
                "-m",
                "pipelinelib",
                "publish-artifact",
                "--service",
                "service1",
                "--build",
                "90",
                "--job",
                "service1-build",
                "--commit",
                "a" * 40,
                "--message",
                "Fix 'quoted' login ${x}",
                "--no-register",
                "--output-dir",
                out,
            ]
        )
        publish_time = median_seconds(publish, REPEAT)
    print(report("pipelinelib --help", "python -c pass", baseline, help_time))
    print(report("publish-artifact --no-register", "python -c pass", baseline, publish_time))


if __name__ == "__main__":
    main()
