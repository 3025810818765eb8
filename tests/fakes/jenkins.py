"""Jenkins JSON as Jenkins really answers it, and a small Jenkins-shaped HTTP server.

Shapes checked against jenkinsci/jenkins (Job.getNewBuilds is exported as ``builds`` and limited
to the newest 100; ``allBuilds`` is every build), Run's exported properties (``_class``,
``building``, ``displayName`` = ``#N`` when none was set, ``result`` null while building) and the
artifact entries (``displayPath``, ``fileName``, ``relativePath``).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import attrs

WORKFLOW_JOB = "org.jenkinsci.plugins.workflow.job.WorkflowJob"
WORKFLOW_RUN = "org.jenkinsci.plugins.workflow.job.WorkflowRun"
FREESTYLE_PROJECT = "hudson.model.FreeStyleProject"
FREESTYLE_BUILD = "hudson.model.FreeStyleBuild"
FOLDER = "com.cloudbees.hudson.plugins.folder.Folder"
CRUMB_ISSUER = "hudson.security.csrf.DefaultCrumbIssuer"
BASE = "http://jenkins.example.com"
JENKINS_BUILDS_CAP = 100  # Job.getNewBuilds(): getBuilds().limit(100)


def job_url(job: str, base: str = BASE) -> str:
    return base + "/" + "".join(f"job/{seg}/" for seg in job.split("/"))


def run(
    job: str,
    number: int,
    result: str | None = "SUCCESS",
    *,
    display_name: str | None = None,
    building: bool | None = None,
    kind: str = WORKFLOW_RUN,
    timestamp: int | None = None,
    base: str = BASE,
) -> dict[str, Any]:
    """One entry of ``builds[number,result,displayName,building,timestamp,url]``."""
    if building is None:
        building = result is None
    return {
        "_class": kind,
        "building": building,
        "displayName": display_name if display_name is not None else f"#{number}",
        "number": number,
        "result": result,
        "timestamp": timestamp if timestamp is not None else 1_700_000_000_000 + number * 60_000,
        "url": f"{job_url(job, base)}{number}/",
    }


def job_builds(builds: Sequence[dict[str, Any]], kind: str = WORKFLOW_JOB) -> dict[str, Any]:
    return {"_class": kind, "builds": list(builds)}


def folder(jobs: Sequence[str], base: str = BASE, path: str = "") -> dict[str, Any]:
    """A folder's JSON: no ``builds``, only ``jobs``."""
    return {
        "_class": FOLDER,
        "jobs": [
            {
                "_class": WORKFLOW_JOB,
                "name": name,
                "url": job_url(f"{path}/{name}".strip("/"), base),
            }
            for name in jobs
        ],
    }


def artifact(relative_path: str, display_path: str | None = None) -> dict[str, Any]:
    name = relative_path.rsplit("/", 1)[-1]
    return {
        "displayPath": display_path if display_path is not None else name,
        "fileName": name,
        "relativePath": relative_path,
    }


def build_artifacts(
    number: int,
    paths: Sequence[str],
    result: str | None = "SUCCESS",
    kind: str = WORKFLOW_RUN,
) -> dict[str, Any]:
    """``tree=number,result,artifacts[displayPath,fileName,relativePath]`` of one build."""
    names = [p.rsplit("/", 1)[-1] for p in paths]
    # Jenkins shows the shortest unique path: the file name, or the whole path when ambiguous.
    return {
        "_class": kind,
        "artifacts": [
            artifact(p, p if names.count(p.rsplit("/", 1)[-1]) > 1 else None) for p in paths
        ],
        "number": number,
        "result": result,
    }


def crumb(value: str = "3f1c0ffee") -> dict[str, Any]:
    return {"_class": CRUMB_ISSUER, "crumb": value, "crumbRequestField": "Jenkins-Crumb"}


def description(text: str | None, kind: str = WORKFLOW_RUN) -> dict[str, Any]:
    return {"_class": kind, "description": text}


# --- a Jenkins-shaped HTTP server on loopback (benchmarks, timeouts, end-to-end CLI) -----------

_RANGE = re.compile(r"^builds\[([^\]]*)\](?:\{(\d*),?(\d*)\})?$")
_JOB_PREFIX = re.compile(r"^/((?:job/[^/]+/)+)(.*)$")


def artifact_bytes(job: str, number: int, path: str, size: int) -> bytes:
    return b"".join(iter_artifact_bytes(job, number, path, size))


def iter_artifact_bytes(
    job: str, number: int, path: str, size: int, chunk: int = 64 * 1024
) -> Iterator[bytes]:
    """Deterministic content, produced in chunks so the server itself stays small in memory."""
    seed = hashlib.sha256(f"{job}#{number}/{path}".encode()).digest()
    block = seed * (chunk // len(seed))
    sent = 0
    while sent < size:
        piece = block[: min(chunk, size - sent)]
        sent += len(piece)
        yield piece


@attrs.define
class FakeJob:
    builds: list[dict[str, Any]]  # newest first, as run() makes them
    artifacts: dict[int, list[str]] = attrs.Factory(dict)
    artifact_size: int = 1024
    cut_after: int | None = None  # close the connection after this many bytes of an artifact
    trickle_seconds: float | None = None  # send artifacts one byte at a time, this far apart


@attrs.define
class FakeJenkins:
    """What the server serves and what it saw; tests and benchmarks share it."""

    jobs: dict[str, FakeJob] = attrs.Factory(dict)
    requests: list[tuple[str, str]] = attrs.Factory(list)
    posts: list[tuple[str, dict[str, list[str]], dict[str, str]]] = attrs.Factory(list)
    crumb: str = "3f1c0ffee"
    lock: threading.Lock = attrs.Factory(threading.Lock)
    base_url: str = ""

    def record(self, method: str, path: str) -> None:
        with self.lock:
            self.requests.append((method, path))


def _handler(state: FakeJenkins) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, as from Jetty

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, data: Any) -> None:
            self._send(200, json.dumps(data).encode(), "application/json;charset=utf-8")

        def _not_found(self) -> None:
            self._send(404, b"<html>Not Found</html>", "text/html")

        def _resolve(self, path: str) -> tuple[str, FakeJob, str] | None:
            match = _JOB_PREFIX.match(path)
            if not match:
                return None
            segments = [unquote(s) for s in match.group(1).split("/") if s and s != "job"]
            job = "/".join(segments)
            found = state.jobs.get(job)
            return (job, found, match.group(2)) if found else None

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/__requests":  # for a server in another process (benchmarks)
                self._json({"requests": len(state.requests)})
                return
            state.record("GET", self.path)
            query = parse_qs(url.query)
            if url.path == "/crumbIssuer/api/json":
                self._json(crumb(state.crumb))
                return
            resolved = self._resolve(url.path)
            if resolved is None:
                self._not_found()
                return
            job, fake, rest = resolved
            if rest == "api/json":
                self._job_json(job, fake, query.get("tree", [""])[0])
                return
            parts = rest.split("/", 2)
            build = self._find_build(fake, parts[0])
            if build is None:
                self._not_found()
                return
            if len(parts) == 2 and parts[1] == "api":
                self._not_found()
            elif parts[1:2] == ["api"] and parts[2] == "json":
                number = build["number"]
                tree = query.get("tree", [""])[0]
                if tree.startswith("number,result,artifacts"):
                    self._json(build_artifacts(number, fake.artifacts.get(number, [])))
                else:
                    self._json({k: v for k, v in build.items() if k != "url"})
            elif parts[1:2] == ["artifact"]:
                rel = unquote(parts[2])
                if rel not in fake.artifacts.get(build["number"], []):
                    self._not_found()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(fake.artifact_size))
                self.end_headers()
                sent = 0
                if fake.trickle_seconds is not None:  # a server at 1 byte/s, as in the report
                    data = artifact_bytes(job, build["number"], rel, fake.artifact_size)
                    for i in range(len(data)):
                        try:
                            self.wfile.write(data[i : i + 1])
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(fake.trickle_seconds)
                    return
                for piece in iter_artifact_bytes(job, build["number"], rel, fake.artifact_size):
                    if fake.cut_after is not None and sent + len(piece) > fake.cut_after:
                        self.wfile.write(piece[: fake.cut_after - sent])
                        self.close_connection = True
                        return
                    self.wfile.write(piece)
                    sent += len(piece)
            else:
                self._not_found()

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            state.record("POST", self.path)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8")
            with state.lock:
                state.posts.append((url.path, parse_qs(body), dict(self.headers)))
            self.send_response(302)
            self.send_header("Location", ".")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _find_build(self, fake: FakeJob, name: str) -> dict[str, Any] | None:
            if name == "lastSuccessfulBuild":
                return next((b for b in fake.builds if b["result"] == "SUCCESS"), None)
            if name.isdigit():
                return next((b for b in fake.builds if b["number"] == int(name)), None)
            return None

        def _job_json(self, job: str, fake: FakeJob, tree: str) -> None:
            if tree == "_class,name":  # Job's exported _class and name (hudson.model.Item)
                self._json({"_class": WORKFLOW_JOB, "name": job.rsplit("/", 1)[-1]})
                return
            if tree.startswith("allBuilds[number]"):  # what a naive client asks for
                self._json(
                    {
                        "_class": WORKFLOW_JOB,
                        "allBuilds": [{"number": b["number"]} for b in fake.builds],
                    }
                )
                return
            match = _RANGE.match(tree)
            if not match:
                self._send(400, b"unsupported tree in the fake", "text/plain")
                return
            fields = match.group(1).split(",")
            visible = fake.builds[:JENKINS_BUILDS_CAP]
            start = int(match.group(2) or 0)
            end = int(match.group(3)) if match.group(3) else len(visible)
            page = [{k: b[k] for k in ["_class", *fields] if k in b} for b in visible[start:end]]
            self._json(job_builds(page))

    return Handler


@contextmanager
def serve_jenkins(state: FakeJenkins) -> Iterator[FakeJenkins]:
    """Serve ``state`` on a free loopback port; ``state.base_url`` is set while it runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def job_path_of(job: str) -> str:
    """``team/svc`` -> ``job/team/job/svc/`` (plain segments; the tests use quotable names only
    where they say so)."""
    from urllib.parse import quote

    return "".join(f"job/{quote(seg, safe='')}/" for seg in job.split("/"))
