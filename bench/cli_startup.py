"""CLI start-up: `pipelinelib publish-artifact --no-register ...` and `pipelinelib status` on a
local store against `python -c pass`.

Median of 25 runs each, interleaved (one of each per round) so machine load hits both alike,
plus `pipelinelib --help` and, when awscli is installed, `aws --version` for scale. The package is
byte-compiled first, as `pip install` does for an installed package: this environment may set
PYTHONDONTWRITEBYTECODE, and an editable checkout without .pyc files would recompile every
module on every start (the first figure printed shows that cost). Targets: at most 4x for
publish-artifact, at most 8x for status on a local SQLite store (2 services, 3 environments).

Run: ``.venv/bin/python -m bench cli_startup``.
"""

from __future__ import annotations

import compileall
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pipelinelib

ROUNDS = 25


def _once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def _interleaved(commands: dict[str, list[str]]) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(ROUNDS):
        for name, argv in commands.items():
            samples[name].append(_once(argv))
    return {name: statistics.median(values) for name, values in samples.items()}


def _fill_store(db: str) -> None:
    from pipelinelib.model import Manifest, ServiceBuild
    from pipelinelib.store.sql import SqlStore

    store = SqlStore.from_url(db)
    entries = [ServiceBuild(name=f"service{i}", build=90 + i, commit_message="Fix") for i in (1, 2)]
    for entry in entries:
        store.publish(Manifest(job=f"{entry.name}-build", number=entry.build, services=[entry]))
    for n, env in enumerate(("test", "beta", "live"), start=1):
        store.publish(Manifest(job=f"deploy-{env}", number=n, environment=env, services=entries))
    store.close()


def main() -> None:
    python = sys.executable
    package = Path(pipelinelib.__file__).parent
    with tempfile.TemporaryDirectory() as out:
        publish = [
            python, "-m", "pipelinelib", "publish-artifact", "--service", "service1",
            "--build", "90", "--job", "service1-build", "--commit", "a" * 40,
            "--message", "Fix 'quoted' login ${x}", "--no-register", "--output-dir", out,
        ]  # fmt: skip
        cold = _once([python, "-B", "-X", "frozen_modules=off", *publish[1:]])
        compileall.compile_dir(str(package), quiet=1)
        db = f"sqlite:///{Path(out) / 'store' / 'pipelinelib.db'}"
        _fill_store(db)
        commands = {
            "python -c pass": [python, "-c", "pass"],
            "publish-artifact --no-register": publish,
            "status --db (local SQLite)": [python, "-m", "pipelinelib", "status", "--db", db],
            "pipelinelib --help": [python, "-m", "pipelinelib", "--help"],
        }
        aws = shutil.which("aws")
        if aws:
            commands["aws --version"] = [aws, "--version"]
        medians = _interleaved(commands)
    base = medians.pop("python -c pass")
    print(f"python -c pass: {base * 1000:.1f} ms median of {ROUNDS} (baseline)")
    for name, value in medians.items():
        print(f"{name}: {value * 1000:.1f} ms -> ratio {value / base:.2f}x")
    if not aws:
        print("aws --version: awscli is not installed here (not compared)")
    print(f"(one start without byte-compiled modules: {cold * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
