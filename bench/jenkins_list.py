"""Jenkins over REST: list-builds and copy-artifact against naive one-request-per-item baselines.

A Jenkins-shaped HTTP server (tests/fakes/jenkins.py) runs in a child process on loopback, so
client and server do not share a GIL. Both sides of each ratio run in the same run:

* list: the newest 100 successful builds of a job with 5,000 builds (5% failed, the newest one
  running), pipelinelib's ``tree=builds[...]{0,100}`` against the naive client that lists
  ``builds[number]`` and then asks for each build's record (both see the newest 100 builds:
  Jenkins exports no more under ``builds``);
* copy: 50 artifacts of 1 MiB and 200 artifacts of 64 KiB, pipelinelib's copy (one metadata
  request, streamed downloads over one session) with 1-4 workers, with and without
  ``--fingerprint`` (MD5 of every file), against sequential downloads, one ``requests.get`` per
  file; 7 rounds, every variant once per round.
"""

from __future__ import annotations

import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import requests

from bench._timing import median_seconds

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipelinelib.jenkins.client import JenkinsClient  # noqa: E402
from pipelinelib.jenkins.copyartifact import Selector, copy_artifacts  # noqa: E402
from tests.fakes import jenkins as fj  # noqa: E402

REPEAT = 5
LIST_JOB = "team/service1-build"
BUILDS = 5000
LIMIT = 100
COPY_WORKERS = (1, 2, 3, 4)
COPY_ROUNDS = 7
COPY_CASES = [("copy-50x1MiB", 50, 1024 * 1024), ("copy-200x64KiB", 200, 64 * 1024)]


def _serve(conn: Connection, jobs: dict[str, fj.FakeJob]) -> None:
    state = fj.FakeJenkins(jobs=jobs)
    with fj.serve_jenkins(state):
        conn.send(state.base_url)
        conn.recv()  # until told to stop


def _builds() -> list[dict[str, object]]:
    out = []
    for number in range(BUILDS, 0, -1):
        if number == BUILDS:
            result = None
        elif number % 20 == 0:
            result = "FAILURE"
        else:
            result = "SUCCESS"
        out.append(fj.run(LIST_JOB, number, result, display_name=f"Change {number}\n\nbody"))
    return out


def _requests_seen(base: str) -> int:
    with urllib.request.urlopen(base + "__requests") as answer:
        return int(json.load(answer)["requests"])


def naive_list(base: str) -> list[int]:
    session = requests.Session()
    path = fj.job_path_of(LIST_JOB)
    numbers = session.get(
        f"{base}{path}api/json", params={"tree": "builds[number]"}, timeout=30
    ).json()["builds"]
    found = []
    for entry in numbers:
        record = session.get(f"{base}{path}{entry['number']}/api/json", timeout=30).json()
        if record["result"] == "SUCCESS" and not record["building"]:
            found.append(record["number"])
            if len(found) == LIMIT:
                break
    session.close()
    return found


def sequential_copy(base: str, job: str, paths: list[str], target: Path) -> None:
    path = fj.job_path_of(job)
    for rel in paths:
        answer = requests.get(f"{base}{path}1/artifact/{rel}", timeout=30)
        answer.raise_for_status()
        (target / rel).write_bytes(answer.content)


def main() -> None:
    jobs = {LIST_JOB: fj.FakeJob(_builds())}
    for name, count, size in COPY_CASES:
        jobs[name] = fj.FakeJob(
            [fj.run(name, 1)], {1: [f"a{i:03d}.bin" for i in range(count)]}, artifact_size=size
        )
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(child, jobs), daemon=True)
    server.start()
    base = parent.recv()
    try:
        client = JenkinsClient(base)
        before = _requests_seen(base)
        listed = [b.number for b in client.successful_builds(LIST_JOB, limit=LIMIT)]
        ours_requests = _requests_seen(base) - before
        before = _requests_seen(base)
        assert naive_list(base) == listed
        naive_requests = _requests_seen(base) - before
        ours = median_seconds(lambda: client.successful_builds(LIST_JOB, limit=LIMIT), REPEAT)
        naive = median_seconds(lambda: naive_list(base), REPEAT)
        print(
            f"list-builds --source jenkins ({BUILDS} builds, limit {LIMIT}): "
            f"{ours * 1000:.1f} ms, {ours_requests} request(s) vs naive {naive * 1000:.1f} ms, "
            f"{naive_requests} requests -> {naive / ours:.1f}x faster"
        )
        for name, count, _size in COPY_CASES:
            paths = [f"a{i:03d}.bin" for i in range(count)]
            with tempfile.TemporaryDirectory() as tmp:
                before = _requests_seen(base)
                copy_artifacts(client, job=name, selector=Selector("number", 1), target=Path(tmp))
                ours_requests = _requests_seen(base) - before
                # Rounds interleave every variant with the baseline: the machine is shared.
                variants: dict[str, Callable[[], object]] = {
                    "sequential requests.get": lambda tmp=tmp, paths=paths, name=name: (
                        sequential_copy(base, name, paths, Path(tmp))
                    )
                }
                for workers in COPY_WORKERS:
                    for fingerprint in (False, True):
                        variants[f"{workers} workers{' --fingerprint' if fingerprint else ''}"] = (
                            lambda tmp=tmp, name=name, w=workers, fp=fingerprint: copy_artifacts(
                                client,
                                job=name,
                                selector=Selector("number", 1),
                                target=Path(tmp),
                                workers=w,
                                fingerprint=fp,
                            )
                        )
                samples: dict[str, list[float]] = {key: [] for key in variants}
                for _ in range(COPY_ROUNDS):
                    for key, run in variants.items():
                        started = time.perf_counter()
                        run()
                        samples[key].append(time.perf_counter() - started)
            naive = statistics.median(samples["sequential requests.get"])
            print(
                f"copy-artifact {name}: {ours_requests} requests (1 metadata + "
                f"{ours_requests - 1} downloads); sequential {naive * 1000:.1f} ms, {count} requests"
            )
            for key in variants:
                if key.startswith("sequential"):
                    continue
                ours = statistics.median(samples[key])
                print(f"  {key}: {ours * 1000:.1f} ms -> {naive / ours:.2f}x sequential")
        client.close()
    finally:
        parent.send("stop")
        server.join(10)


if __name__ == "__main__":
    main()
