"""`pipelinelib status` start-up of this checkout against an older one, same run.

Each version fills its own small local store (2 services, 3 environments) with its own code,
then 15 rounds run `python -c pass`, the older `status` and this `status`, interleaved.
Not part of `python -m bench` (it needs the older checkout):

    git archive 4b2cfd5 | (mkdir -p /tmp/before && tar -x -C /tmp/before)
    .venv/bin/python -m bench.status_compare /tmp/before
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 15
HERE = Path(__file__).resolve().parent.parent
FILL = """
import sys
from pipelinelib.model import Manifest, ServiceBuild
from pipelinelib.store.sql import SqlStore
store = SqlStore.from_url(sys.argv[1])
entries = [ServiceBuild(name=f"service{i}", build=90 + i, commit_message="Fix") for i in (1, 2)]
for e in entries:
    store.publish(Manifest(job=f"{e.name}-build", number=e.build, services=[e]))
for n, env in enumerate(("test", "beta", "live"), start=1):
    store.publish(Manifest(job=f"deploy-{env}", number=n, environment=env, services=entries))
store.close()
"""


def main(argv: list[str] | None = None) -> None:
    args = argv or []  # `python -m bench` runs it without arguments: it prints its usage
    if not args:
        print(__doc__)
        return
    older = Path(args[0]).resolve()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        versions = {"before": older, "now": HERE}
        commands: dict[str, tuple[list[str], dict[str, str] | None, Path]] = {
            "python -c pass": ([python, "-c", "pass"], None, Path(tmp))
        }
        for name, root in versions.items():
            env = {**os.environ, "PYTHONPATH": str(root)}
            db = f"sqlite:///{Path(tmp) / name / 'pipelinelib.db'}"
            subprocess.run([python, "-c", FILL, db], check=True, env=env, cwd=root)
            argv_ = [python, "-m", "pipelinelib", "status", "--db", db]
            commands[f"status {name} ({root})"] = (argv_, env, root)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(ROUNDS):
            for name, (argv_, env, cwd) in commands.items():
                started = time.perf_counter()
                subprocess.run(argv_, check=True, capture_output=True, env=env, cwd=cwd)
                samples[name].append(time.perf_counter() - started)
    base = statistics.median(samples["python -c pass"])
    for name, values in samples.items():
        value = statistics.median(values)
        print(f"{name}: {value * 1000:.0f} ms -> {value / base:.2f}x python -c pass")


if __name__ == "__main__":
    main(sys.argv[1:])
