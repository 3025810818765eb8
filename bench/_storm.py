"""Concurrent publishers against a live service: the check behind reliability (a) and (b).

Each publish picks one of ``distinct`` builds of job ``storm`` and sends either its canonical
content or (one time in ``conflict_every``) a different content for the same job #number.
Afterwards, for every build: exactly one publish got 201, every 200 carried the winner's content,
every 409 a different one, and the stored manifest is the winner's. Any 5xx, connection error or
other status is a failure.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import requests

REGISTRY = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com"


def manifest_body(number: int, variant: int, job: str = "storm") -> dict[str, Any]:
    return {
        "job": job,
        "number": number,
        "display_name": f"Change {number}"
        if variant == 0
        else f"Change {number} (variant {variant})",
        "result": "SUCCESS",
        "environment": None,
        "source": None,
        "url": None,
        "services": {
            "service1": {
                "build": number,
                "image": f"{REGISTRY}/service1:{number}",
                "digest": "sha256:" + f"{number:064x}",
                "commit": f"{number:040x}",
                "commit_message": f"Change {number}",
            }
        },
    }


@attrs.define
class StormResult:
    publishes: int
    seconds: float
    statuses: Counter[int]
    problems: list[str]
    builds: int

    @property
    def rate(self) -> float:
        return self.publishes / self.seconds


def storm(
    urls: list[str],
    token: str,
    *,
    publishes: int,
    threads: int,
    distinct: int,
    conflict_every: int = 7,
    seed: int = 1,
    job: str = "storm",
) -> StormResult:
    rng = random.Random(seed)
    plan = [
        (rng.randrange(1, distinct + 1), 1 if rng.randrange(conflict_every) == 0 else 0)
        for _ in range(publishes)
    ]
    outcomes: dict[int, list[tuple[int, int]]] = defaultdict(list)  # number -> (variant, status)
    problems: list[str] = []
    lock = threading.Lock()
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["Authorization"] = f"Bearer {token}"
        s: requests.Session = local.session
        return s

    def one(index: int) -> None:
        number, variant = plan[index]
        url = urls[index % len(urls)]
        try:
            response = session().post(
                f"{url}/api/v1/builds", json=manifest_body(number, variant, job), timeout=60
            )
            status = response.status_code
        except requests.RequestException as exc:
            with lock:
                problems.append(f"publish {number}/{variant}: {exc}")
            return
        with lock:
            outcomes[number].append((variant, status))
            if status not in (200, 201, 409):
                problems.append(f"publish {number}/{variant}: HTTP {status} {response.text[:200]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(publishes)))
    seconds = time.perf_counter() - started

    statuses: Counter[int] = Counter(s for results in outcomes.values() for _, s in results)
    check = requests.Session()
    check.headers["Authorization"] = f"Bearer {token}"
    for number, results in sorted(outcomes.items()):
        winners = [v for v, s in results if s == 201]
        if len(winners) != 1:
            problems.append(f"build {number}: {len(winners)} publishes got 201 (want exactly 1)")
            continue
        winner = winners[0]
        for variant, status in results:
            if status == 200 and variant != winner:
                problems.append(f"build {number}: a different content got 200 (lost write)")
            if status == 409 and variant == winner:
                problems.append(f"build {number}: an identical replay got 409")
        stored = check.get(f"{urls[0]}/api/v1/jobs/{job}/builds/{number}", timeout=30)
        if stored.status_code != 200 or stored.json() != manifest_body(number, winner, job):
            problems.append(f"build {number}: stored content is not the acknowledged one")
    listed = check.get(f"{urls[0]}/api/v1/jobs/{job}/builds?limit=1000&result=ANY", timeout=30)
    numbers = [b["number"] for b in listed.json()["builds"]]
    if len(numbers) != len(set(numbers)) or (
        len(outcomes) <= 1000 and set(numbers) != set(outcomes)
    ):
        problems.append(f"listing has duplicates or strangers: {len(numbers)} rows")
    check.close()
    return StormResult(publishes, seconds, statuses, problems, len(outcomes))
