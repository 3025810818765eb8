"""copy-artifact: selectors, Copy Artifact's Ant globs, untrusted paths, one metadata request."""

from __future__ import annotations

import hashlib
import json
import os
import time
import tracemalloc
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import responses
from responses import matchers

from pipelinelib.errors import (
    DeadlineExceededError,
    FileAccessError,
    InvalidInputError,
    JenkinsError,
    NotFoundError,
    PermissionDeniedError,
    UnsafeArtifactPathError,
)
from pipelinelib.jenkins.client import ARTIFACT_TREE, Artifact, JenkinsClient, RetryPolicy
from pipelinelib.jenkins.copyartifact import (
    ArtifactFilter,
    Selector,
    copy_artifacts,
    parse_selector,
    plan,
    safe_relative_path,
)
from tests.fakes import jenkins as fj
from tests.fakes.jenkins import FakeJenkins, FakeJob

BASE = fj.BASE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lastSuccessful", Selector("lastSuccessful")),
        ("lastStable", Selector("lastStable")),
        ("lastCompleted", Selector("lastCompleted")),
        ("lastSuccessfulBuild", Selector("lastSuccessful")),
        ("12", Selector("number", 12)),
        (" 12 ", Selector("number", 12)),
        ("12-Fix login", Selector("number", 12)),
        ("12-Fix - dashed - 'quoted' \"login\" ✓", Selector("number", 12)),
    ],
)
def test_selectors(text: str, expected: Selector) -> None:
    assert parse_selector(text) == expected


@pytest.mark.parametrize("text", ["", "latest", "-12", "0", "lastFailed", "12a-x", "../12"])
def test_bad_selectors_are_refused(text: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid selector"):
        parse_selector(text)


def test_selector_path_segments() -> None:
    assert parse_selector("lastStable").path_segment == "lastStableBuild"
    assert parse_selector("lastCompleted").path_segment == "lastCompletedBuild"
    assert parse_selector("7-x").path_segment == "7"


PATHS = [
    "app.jar",
    "output/service1.env.groovy",
    "output/service1.manifest.json",
    "output/nested/deep/service2.env.groovy",
    "reports/test.xml",
    "reports/TEST.XML",
    "a b/with space.txt",
]


@pytest.mark.parametrize(
    ("includes", "excludes", "expected"),
    [
        ("", None, PATHS),  # empty filter means **, as in the plugin
        ("**", None, PATHS),
        ("*.jar", None, ["app.jar"]),
        ("**/*.jar", None, ["app.jar"]),  # ** matches zero directories
        ("output/*.groovy", None, ["output/service1.env.groovy"]),
        (
            "output/**/*.groovy",
            None,
            ["output/service1.env.groovy", "output/nested/deep/service2.env.groovy"],
        ),
        (
            "output/",
            None,
            [
                "output/service1.env.groovy",
                "output/service1.manifest.json",
                "output/nested/deep/service2.env.groovy",
            ],
        ),
        ("**/*.xml", None, ["reports/test.xml"]),  # case-sensitive
        ("reports/test.???", None, ["reports/test.xml"]),
        (
            "*.jar, reports/*.xml ,output/*.json",
            None,
            ["app.jar", "output/service1.manifest.json", "reports/test.xml"],
        ),
        (
            "output/**",
            "**/nested/**",
            ["output/service1.env.groovy", "output/service1.manifest.json"],
        ),
        (
            "**",
            "*.jar,reports/",
            [
                "output/service1.env.groovy",
                "output/service1.manifest.json",
                "output/nested/deep/service2.env.groovy",
                "a b/with space.txt",
            ],
        ),
        ("a b/*", None, ["a b/with space.txt"]),
        ("out*/*.json", None, ["output/service1.manifest.json"]),
        ("*", None, ["app.jar"]),  # * stays in one segment
        ("/app.jar", None, []),  # relative paths never start with /
        ("output\\*.json", None, ["output/service1.manifest.json"]),  # Ant turns \ into /
    ],
)
def test_ant_patterns_like_copy_artifact(
    includes: str, excludes: str | None, expected: list[str]
) -> None:
    f = ArtifactFilter.parse(includes, excludes)
    assert sorted(p for p in PATHS if f.matches(p)) == sorted(expected)


REFUSED = [
    "../x",
    "a/../../x",
    "/etc/x",
    "..\\x",
    "C:\\x",
    "C:x",
    "c:/x",
    "a/./../x",
    "a/..",
    "..",
    ".",
    "./x",
    "a//b",
    "a/",
    "",
    "nul\x00byte",
    "new\nline",
    "esc\x1b[31m",
    "del\x7f",
    "a\\b",
]
ACCEPTED = ["foo..bar", ".foo", "a/.b", "a/b..", "...", "x/..y/z", "ünïcode/файл.txt", "a b/c d"]


@pytest.mark.parametrize("path", REFUSED)
def test_unsafe_paths_are_refused(path: str) -> None:
    with pytest.raises(UnsafeArtifactPathError):
        safe_relative_path(path)


@pytest.mark.parametrize("path", ACCEPTED)
def test_odd_but_safe_paths_are_accepted(path: str) -> None:
    assert "/".join(safe_relative_path(path)) == path


def tree_listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def register_build(job: str, selector: str, number: int, files: dict[str, bytes]) -> None:
    base = f"{BASE}/{fj.job_path_of(job)}"
    responses.get(
        f"{base}{selector}/api/json",
        json=fj.build_artifacts(number, list(files)),
        match=[matchers.query_param_matcher({"tree": ARTIFACT_TREE})],
    )
    for path, body in files.items():
        quoted = "/".join(quote(s, safe="") for s in path.split("/"))
        responses.get(f"{base}{number}/artifact/{quoted}", body=body)


@pytest.fixture
def client() -> JenkinsClient:
    return JenkinsClient(
        BASE, user="ci", token="t", retry=RetryPolicy(attempts=2), sleep=lambda _: None
    )


@responses.activate
@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/etc/x", "..\\x", "C:\\x", "a/./../x"])
def test_a_traversal_path_writes_nothing_anywhere(
    client: JenkinsClient, tmp_path: Path, bad: str
) -> None:
    register_build("team/svc", "lastSuccessfulBuild", 7, {"good.txt": b"ok", bad: b"evil"})
    target = tmp_path / "work" / "target"
    with pytest.raises(UnsafeArtifactPathError, match="refusing artifact path"):
        copy_artifacts(client, job="team/svc", selector=Selector("lastSuccessful"), target=target)
    assert tree_listing(tmp_path) == []  # not even the target: checked before anything is written
    assert len(responses.calls) == 1  # the metadata request only, no download


@responses.activate
def test_accepted_odd_names_are_written_inside_the_target(
    client: JenkinsClient, tmp_path: Path
) -> None:
    files = {p: p.encode() for p in ["foo..bar", ".foo", "a/.b"]}
    register_build("svc", "lastSuccessfulBuild", 3, files)
    target = tmp_path / "t"
    result = copy_artifacts(client, job="svc", selector=Selector("lastSuccessful"), target=target)
    assert tree_listing(tmp_path) == ["t", "t/.foo", "t/a", "t/a/.b", "t/foo..bar"]
    for path, body in files.items():
        assert (target / path).read_bytes() == body
    assert [f.path for f in result.files] == list(files)


@responses.activate
def test_a_symlinked_directory_in_the_target_is_not_followed(
    client: JenkinsClient, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "target"
    target.mkdir()
    (target / "output").symlink_to(outside, target_is_directory=True)
    register_build("svc", "lastSuccessfulBuild", 3, {"output/x.env.groovy": b"evil"})
    with pytest.raises(FileAccessError, match="symlink or not a directory"):
        copy_artifacts(client, job="svc", selector=Selector("lastSuccessful"), target=target)
    assert list(outside.iterdir()) == []
    assert (target / "output").is_symlink()


@responses.activate
def test_a_symlinked_file_in_the_target_is_not_written_through(
    client: JenkinsClient, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("keep")
    target = tmp_path / "target"
    target.mkdir()
    (target / "x.txt").symlink_to(secret)
    register_build("svc", "lastSuccessfulBuild", 3, {"x.txt": b"evil"})
    with pytest.raises(FileAccessError, match="refusing to replace"):
        copy_artifacts(client, job="svc", selector=Selector("lastSuccessful"), target=target)
    assert secret.read_text() == "keep"
    assert sorted(os.listdir(target)) == ["x.txt"]  # no temporary file left behind


@responses.activate
def test_one_metadata_request_then_one_download_per_file(
    client: JenkinsClient, tmp_path: Path
) -> None:
    files = {
        "output/service1.env.groovy": b"env.SERVICE1_BUILD = '90'\n",
        "output/service1.manifest.json": b"{}",
        "output/other.txt": b"no",
        "logs/x.env.groovy": b"excluded",
    }
    register_build("team/service1-build", "42", 42, files)
    target = tmp_path / "import"
    result = copy_artifacts(
        client,
        job="team/service1-build",
        selector=parse_selector("42-Fix login"),
        target=target,
        includes="**/*.env.groovy, **/*.json",
        excludes="logs/",
    )
    assert [f.path for f in result.files] == [
        "output/service1.env.groovy",
        "output/service1.manifest.json",
    ]
    urls = [c.request.url for c in responses.calls]
    assert len(urls) == 3
    meta = urlsplit(urls[0])
    assert meta.path == "/job/team/job/service1-build/42/api/json"
    assert parse_qs(meta.query) == {
        "tree": ["number,result,artifacts[displayPath,fileName,relativePath]"]
    }
    assert sorted(urlsplit(u).path for u in urls[1:]) == [
        "/job/team/job/service1-build/42/artifact/output/service1.env.groovy",
        "/job/team/job/service1-build/42/artifact/output/service1.manifest.json",
    ]
    assert (target / "output/service1.env.groovy").read_bytes() == files[
        "output/service1.env.groovy"
    ]
    assert tree_listing(target) == [
        "output",
        "output/service1.env.groovy",
        "output/service1.manifest.json",
    ]


@responses.activate
def test_downloads_use_the_number_the_permalink_resolved_to(
    client: JenkinsClient, tmp_path: Path
) -> None:
    register_build("svc", "lastStableBuild", 11, {"a.txt": b"a"})
    result = copy_artifacts(
        client, job="svc", selector=Selector("lastStable"), target=tmp_path / "t"
    )
    assert result.number == 11
    assert urlsplit(responses.calls[1].request.url).path == "/job/svc/11/artifact/a.txt"


@responses.activate
def test_flatten_and_fingerprint(client: JenkinsClient, tmp_path: Path) -> None:
    files = {"output/a/one.env.groovy": b"1", "output/b/two.env.groovy": b"22"}
    register_build("svc", "lastCompletedBuild", 5, files)
    target = tmp_path / "flat"
    result = copy_artifacts(
        client,
        job="svc",
        selector=Selector("lastCompleted"),
        target=target,
        includes="output/**",
        flatten=True,
        fingerprint=True,
    )
    assert tree_listing(target) == ["fingerprints.json", "one.env.groovy", "two.env.groovy"]
    expected = {
        "one.env.groovy": hashlib.md5(b"1", usedforsecurity=False).hexdigest(),
        "two.env.groovy": hashlib.md5(b"22", usedforsecurity=False).hexdigest(),
    }
    assert json.loads((target / "fingerprints.json").read_text()) == expected
    assert {f.path: f.md5 for f in result.files} == expected


@responses.activate
def test_files_are_hashed_only_when_fingerprints_are_asked_for(
    client: JenkinsClient, tmp_path: Path
) -> None:
    register_build("svc", "lastCompletedBuild", 5, {"a.bin": b"x" * 1000})
    target = tmp_path / "plain"
    result = copy_artifacts(client, job="svc", selector=Selector("lastCompleted"), target=target)
    assert tree_listing(target) == ["a.bin"]
    assert (target / "a.bin").read_bytes() == b"x" * 1000
    assert [(f.path, f.size, f.md5) for f in result.files] == [("a.bin", 1000, None)]
    assert result.fingerprints_file is None
    assert result.to_dict()["files"][0]["md5"] is None


@responses.activate
def test_flatten_refuses_two_files_with_one_name(client: JenkinsClient, tmp_path: Path) -> None:
    register_build("svc", "lastSuccessfulBuild", 5, {"a/x.txt": b"1", "b/x.txt": b"2"})
    with pytest.raises(InvalidInputError, match=r"would both be written to 'x\.txt'"):
        copy_artifacts(
            client,
            job="svc",
            selector=Selector("lastSuccessful"),
            target=tmp_path / "t",
            flatten=True,
        )
    assert not (tmp_path / "t").exists()


@responses.activate
def test_nothing_matching_is_an_error_unless_optional(
    client: JenkinsClient, tmp_path: Path
) -> None:
    register_build("svc", "lastSuccessfulBuild", 5, {"a.txt": b"1"})
    with pytest.raises(
        NotFoundError, match=r"no artifact of svc #5 matches filter '\*\.jar' \(1 archived\)"
    ):
        copy_artifacts(
            client,
            job="svc",
            selector=Selector("lastSuccessful"),
            target=tmp_path / "t",
            includes="*.jar",
        )
    result = copy_artifacts(
        client,
        job="svc",
        selector=Selector("lastSuccessful"),
        target=tmp_path / "t",
        includes="*.jar",
        optional=True,
    )
    assert result.files == ()
    assert not (tmp_path / "t").exists()


@responses.activate
def test_a_missing_build_is_optional_too(client: JenkinsClient, tmp_path: Path) -> None:
    responses.get(f"{BASE}/job/svc/lastSuccessfulBuild/api/json", status=404)
    responses.get(f"{BASE}/job/svc/api/json", json={"_class": fj.WORKFLOW_JOB, "name": "svc"})
    with pytest.raises(NotFoundError):
        copy_artifacts(client, job="svc", selector=Selector("lastSuccessful"), target=tmp_path)
    assert (
        copy_artifacts(
            client, job="svc", selector=Selector("lastSuccessful"), target=tmp_path, optional=True
        ).files
        == ()
    )


@responses.activate
def test_a_running_build_has_no_artifacts_yet(client: JenkinsClient, tmp_path: Path) -> None:
    responses.get(f"{BASE}/job/svc/9/api/json", json=fj.build_artifacts(9, [], result=None))
    with pytest.raises(InvalidInputError, match="still running"):
        copy_artifacts(client, job="svc", selector=Selector("number", 9), target=tmp_path)


def test_plan_checks_only_what_matches() -> None:
    artifacts = [Artifact("../evil.txt", "evil.txt"), Artifact("good.jar", "good.jar")]
    planned = plan(artifacts, ArtifactFilter.parse("*.jar"), flatten=False)
    assert [p.destination for p in planned] == [("good.jar",)]


def test_downloads_are_streamed_in_constant_memory(tmp_path: Path) -> None:
    size = 8 * 1024 * 1024
    state = FakeJenkins(
        jobs={"svc": FakeJob([fj.run("svc", 1)], {1: ["big.bin"]}, artifact_size=size)}
    )
    with fj.serve_jenkins(state):
        client = JenkinsClient(state.base_url)
        tracemalloc.start()
        try:
            result = copy_artifacts(
                client, job="svc", selector=Selector("number", 1), target=tmp_path
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.files[0].size == size
    assert (tmp_path / "big.bin").read_bytes() == fj.artifact_bytes("svc", 1, "big.bin", size)
    assert peak < size / 8, f"peak {peak} bytes for an {size} byte artifact"


def test_a_download_cut_short_leaves_no_file_behind(tmp_path: Path) -> None:
    size = 1024 * 1024
    job = FakeJob([fj.run("svc", 1)], {1: ["big.bin"]}, artifact_size=size, cut_after=300_000)
    target = tmp_path / "t"
    target.mkdir()
    (target / "big.bin").write_bytes(b"previous copy")
    with fj.serve_jenkins(FakeJenkins(jobs={"svc": job})) as state:
        client = JenkinsClient(state.base_url, retry=RetryPolicy(attempts=1))
        with pytest.raises(JenkinsError, match="failed after it started"):
            copy_artifacts(client, job="svc", selector=Selector("number", 1), target=target)
    assert os.listdir(target) == ["big.bin"]  # no temporary file left
    assert (target / "big.bin").read_bytes() == b"previous copy"  # the old file untouched


def test_a_second_copy_replaces_the_files_of_the_first(tmp_path: Path) -> None:
    """The deploy job's rerun copies into a workspace that already holds the artifacts: each is
    replaced whole (the old file is removed just before the new one is renamed into place)."""
    job = FakeJob([fj.run("svc", 1)], {1: ["a.bin", "sub/b.bin"]}, artifact_size=4096)
    target = tmp_path / "t"
    (target / "sub").mkdir(parents=True)
    (target / "a.bin").write_bytes(b"old a")
    (target / "sub" / "b.bin").write_bytes(b"old b" * 5000)
    with fj.serve_jenkins(FakeJenkins(jobs={"svc": job})) as state:
        client = JenkinsClient(state.base_url)
        copy_artifacts(client, job="svc", selector=Selector("number", 1), target=target)
        copy_artifacts(client, job="svc", selector=Selector("number", 1), target=target)
    for rel in ("a.bin", "sub/b.bin"):
        assert (target / rel).read_bytes() == fj.artifact_bytes("svc", 1, rel, 4096)
    assert sorted(os.listdir(target)) == ["a.bin", "sub"]
    assert os.listdir(target / "sub") == ["b.bin"]


@responses.activate
@pytest.mark.parametrize("status", [404, 403])
def test_optional_never_forgives_a_missing_or_forbidden_job(
    client: JenkinsClient, tmp_path: Path, status: int
) -> None:
    # A typo in --project: Jenkins answers 404 on the build and on the job itself (403 when the
    # job exists but the user may not read it). The Copy Artifact plugin aborts here too.
    for selector in ("lastSuccessfulBuild", "12"):
        responses.get(f"{BASE}/job/team/job/svc-buidl/{selector}/api/json", status=status)
    responses.get(f"{BASE}/job/team/job/svc-buidl/api/json", status=status)
    expected = NotFoundError if status == 404 else PermissionDeniedError
    for selector in (Selector("lastSuccessful"), Selector("number", 12)):
        with pytest.raises(expected, match="svc-buidl"):
            copy_artifacts(
                client, job="team/svc-buidl", selector=selector, target=tmp_path, optional=True
            )
    assert list(tmp_path.iterdir()) == []


@responses.activate
def test_a_multibranch_job_name_is_accepted_and_percent_encoded_in_the_url(
    client: JenkinsClient, tmp_path: Path
) -> None:
    # Jenkins' URL for the branch job 'feature%2Flogin' escapes its '%': .../job/feature%252Flogin/
    url = f"{BASE}/job/team/job/service1/job/feature%252Flogin/lastSuccessfulBuild/api/json"
    responses.get(url, json=fj.build_artifacts(3, []))
    result = copy_artifacts(
        client,
        job="team/service1/feature%2Flogin",
        selector=Selector("lastSuccessful"),
        target=tmp_path,
        optional=True,
    )
    assert (result.number, result.files) == (3, ())


def test_a_trickling_download_ends_at_the_deadline_and_leaves_no_file(tmp_path: Path) -> None:
    job = FakeJob([fj.run("svc", 1)], {1: ["slow.bin"]}, artifact_size=100, trickle_seconds=0.05)
    target = tmp_path / "t"
    with fj.serve_jenkins(FakeJenkins(jobs={"svc": job})) as state:
        client = JenkinsClient(state.base_url, retry=RetryPolicy(attempts=1))
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError, match="before the deadline"):
            copy_artifacts(
                client,
                job="svc",
                selector=Selector("number", 1),
                target=target,
                deadline=time.monotonic() + 1.0,
            )
        elapsed = time.monotonic() - started
    # The whole file needs 5 s; the copy stops at its deadline, well before.
    assert elapsed < 4.0
    assert list(target.iterdir()) == []


def test_a_download_within_its_deadline_is_complete(tmp_path: Path) -> None:
    job = FakeJob([fj.run("svc", 1)], {1: ["a.bin", "b.bin"]}, artifact_size=300_000)
    with fj.serve_jenkins(FakeJenkins(jobs={"svc": job})) as state:
        client = JenkinsClient(state.base_url)
        result = copy_artifacts(
            client,
            job="svc",
            selector=Selector("number", 1),
            target=tmp_path,
            deadline=time.monotonic() + 60,
        )
    assert [f.size for f in result.files] == [300_000, 300_000]
    assert (tmp_path / "b.bin").read_bytes() == fj.artifact_bytes("svc", 1, "b.bin", 300_000)


def test_the_cli_downloads_with_the_measured_default_worker_count() -> None:
    """`pipelinelib copy-artifact` and the library share one default (chosen by bench
    jenkins_list, docs/benchmarks.md)."""
    from pipelinelib.cli import cli
    from pipelinelib.jenkins.copyartifact import DEFAULT_WORKERS

    command = cli.commands["copy-artifact"]
    (option,) = [p for p in command.params if p.name == "workers"]
    assert option.default == DEFAULT_WORKERS
