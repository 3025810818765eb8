"""JenkinsClient against responses shaped like real Jenkins JSON: exact requests, retries, errors."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from pipelinelib.errors import (
    AuthenticationError,
    InvalidInputError,
    InvalidNameError,
    JenkinsError,
    NotFoundError,
    PermissionDeniedError,
)
from pipelinelib.jenkins.client import (
    BUILD_FIELDS,
    JenkinsClient,
    RetryPolicy,
    job_path,
)
from pipelinelib.model import Choice, subject_of
from tests.fakes import jenkins as fj
from tests.fakes.hostile import MARKER
from tests.fakes.scripted_server import scripted_server

BASE = fj.BASE


def tree_of(call: responses.Call) -> str:
    return parse_qs(urlsplit(call.request.url).query)["tree"][0]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> JenkinsClient:
    return JenkinsClient(
        BASE, user="ci", token="s3cret-token", retry=RetryPolicy(attempts=3), sleep=sleeps.append
    )


@pytest.mark.parametrize(
    ("job", "path"),
    [
        ("service1-build", "job/service1-build/"),
        ("team/service1-build", "job/team/job/service1-build/"),
        ("a/b/c", "job/a/job/b/job/c/"),
        ("team/my svc+1", "job/team/job/my%20svc%2B1/"),
        ("équipe/svc", "job/%C3%A9quipe/job/svc/"),
    ],
)
def test_job_path_quotes_each_folder_segment(job: str, path: str) -> None:
    assert job_path(job) == path


@pytest.mark.parametrize("job", ["", "a//b", "../x", "a/../b", "/abs", "a/", "tab\tname"])
def test_job_path_refuses_names_jenkins_would_not_have(job: str) -> None:
    with pytest.raises(InvalidNameError):
        job_path(job)


@responses.activate
def test_successful_builds_is_one_request_with_a_range_and_skips_running_and_failed(
    client: JenkinsClient,
) -> None:
    job = "team/service1-build"
    builds = [
        fj.run(job, 15, None, display_name="Still running"),  # result null, building true
        fj.run(job, 14, "SUCCESS", display_name='Fix "quoted" login\nDetails: it\'s fixed'),
        fj.run(job, 13, "FAILURE", display_name="Broken"),
        fj.run(job, 12, "SUCCESS", kind=fj.FREESTYLE_BUILD),  # no display name: "#12"
        fj.run(job, 11, "UNSTABLE"),
        fj.run(job, 10, "ABORTED"),
        fj.run(job, 9, "SUCCESS", display_name="Add - dashes - here"),
    ]
    responses.get(
        f"{BASE}/job/team/job/service1-build/api/json",
        json=fj.job_builds(builds),
        match=[matchers.query_param_matcher({"tree": f"builds[{BUILD_FIELDS}]{{0,3}}"})],
    )
    found = client.successful_builds(job, limit=3)
    assert [str(b.choice) for b in found] == [
        '14-Fix "quoted" login',
        "12-#12",
        "9-Add - dashes - here",
    ]
    # The first page held 7 entries (more than asked: Jenkins applies the range, this fake
    # does not), three of them successful: no second request.
    assert len(responses.calls) == 1
    assert tree_of(responses.calls[0]) == (
        "builds[number,result,displayName,building,timestamp,url]{0,3}"
    )
    assert "allBuilds" not in responses.calls[0].request.url
    assert found[0].kind == fj.WORKFLOW_RUN and found[1].kind == fj.FREESTYLE_BUILD
    assert Choice.parse(str(found[2].choice)) == Choice(9, "Add - dashes - here")


@responses.activate
def test_successful_builds_pages_only_while_the_pages_are_full(client: JenkinsClient) -> None:
    job = "deploy-test"
    url = f"{BASE}/job/deploy-test/api/json"
    first = [fj.run(job, 20, "SUCCESS"), fj.run(job, 19, "FAILURE"), fj.run(job, 18, None)]
    second = [fj.run(job, 17, "FAILURE"), fj.run(job, 16, "SUCCESS"), fj.run(job, 15, "SUCCESS")]
    third = [fj.run(job, 14, "SUCCESS")]
    for page, (start, end) in zip([first, second, third], [(0, 3), (3, 6), (6, 9)], strict=True):
        responses.get(
            url,
            json=fj.job_builds(page),
            match=[
                matchers.query_param_matcher({"tree": f"builds[{BUILD_FIELDS}]{{{start},{end}}}"})
            ],
        )
    found = client.successful_builds(job, limit=3)
    assert [b.number for b in found] == [20, 16, 15]
    assert [tree_of(c)[-5:] for c in responses.calls] == ["{0,3}", "{3,6}"]


@responses.activate
def test_successful_builds_stops_at_a_short_page(client: JenkinsClient) -> None:
    job = "deploy-test"
    responses.get(
        f"{BASE}/job/deploy-test/api/json",
        json=fj.job_builds([fj.run(job, 2, "FAILURE"), fj.run(job, 1, "SUCCESS")]),
    )
    assert [b.number for b in client.successful_builds(job, limit=5)] == [1]
    assert len(responses.calls) == 1


@responses.activate
def test_a_folder_is_not_a_job(client: JenkinsClient) -> None:
    responses.get(f"{BASE}/job/team/api/json", json=fj.folder(["service1-build"], path="team"))
    with pytest.raises(
        InvalidInputError, match=r"'team' is com\.cloudbees\.hudson\.plugins\.folder\.Folder"
    ):
        client.successful_builds("team")


@responses.activate
def test_basic_auth_is_sent(client: JenkinsClient) -> None:
    responses.get(f"{BASE}/job/j/api/json", json=fj.job_builds([]))
    client.successful_builds("j")
    assert responses.calls[0].request.headers["Authorization"] == "Basic Y2k6czNjcmV0LXRva2Vu"


# Retries are urllib3's (pipelinelib.retrying): `responses` replaces the adapter and never runs
# urllib3's loop, so these talk to a real server on 127.0.0.1.


def test_500_then_200_is_retried_with_backoff(sleeps: list[float]) -> None:
    answers = [(500, {"error": "Server Error"}), (200, fj.job_builds([fj.run("j", 1)]))]
    with scripted_server(answers) as (url, server):
        client = JenkinsClient(url, retry=RetryPolicy(attempts=3), sleep=sleeps.append)
        assert [b.number for b in client.successful_builds("j")] == [1]
    assert len(server.requests) == 2
    assert sleeps == [0.5]


def test_gateway_errors_back_off_exponentially_then_fail(sleeps: list[float]) -> None:
    with scripted_server([(502, None), (503, None), (504, None)]) as (url, server):
        client = JenkinsClient(url, retry=RetryPolicy(attempts=3), sleep=sleeps.append)
        with pytest.raises(JenkinsError, match=r"HTTP 504 for GET http://127\.0\.0\.1:\d+/job/j/"):
            client.successful_builds("j")
    assert len(server.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_a_500_on_a_post_is_retried_only_on_gateway_errors(sleeps: list[float]) -> None:
    answers = [(200, fj.description(None)), (200, fj.crumb()), (502, None), (500, None)]
    with scripted_server(answers) as (url, server):
        client = JenkinsClient(url, retry=RetryPolicy(attempts=3), sleep=sleeps.append)
        with pytest.raises(JenkinsError, match="HTTP 500 for POST"):
            client.set_display_name("j", 3, "x")
    assert [m for m, _ in server.requests] == ["GET", "GET", "POST", "POST"]
    assert server.requests[1][1] == "/crumbIssuer/api/json"
    assert sleeps == [0.5]


@responses.activate
def test_a_500_on_a_post_is_not_retried(client: JenkinsClient) -> None:
    responses.get(f"{BASE}/crumbIssuer/api/json", json=fj.crumb())
    responses.get(f"{BASE}/job/j/3/api/json", json=fj.description(None))
    responses.post(f"{BASE}/job/j/3/configSubmit", status=500)
    with pytest.raises(JenkinsError, match="HTTP 500 for POST"):
        client.set_display_name("j", 3, "x")
    assert [c.request.method for c in responses.calls] == ["GET", "GET", "POST"]


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (401, AuthenticationError, "rejected the credentials \\(HTTP 401\\)"),
        (403, PermissionDeniedError, "HTTP 403"),
        (404, NotFoundError, "not found in Jenkins \\(HTTP 404\\) \\(job 'team/missing'\\)"),
    ],
)
@responses.activate
def test_401_403_404_are_clear_and_never_show_the_token(
    status: int, error: type[Exception], text: str
) -> None:
    client = JenkinsClient("http://ci:s3cret-token@jenkins.example.com/", sleep=lambda _: None)
    responses.get(f"{BASE}/job/team/job/missing/api/json", status=status)
    with pytest.raises(error, match=text) as caught:
        client.successful_builds("team/missing")
    assert "s3cret-token" not in str(caught.value)
    assert f"{BASE}/job/team/job/missing/api/json" in str(caught.value)
    assert len(responses.calls) == 1  # never retried
    # the credentials of the URL moved to the Authorization header
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")


def test_connection_refused_is_retried_then_named(dead_port: int) -> None:
    sleeps: list[float] = []
    client = JenkinsClient(
        f"http://127.0.0.1:{dead_port}/", retry=RetryPolicy(attempts=3), sleep=sleeps.append
    )
    with pytest.raises(
        JenkinsError, match=r"cannot reach Jenkins at .* after 3 attempts \(.*refused"
    ):
        client.successful_builds("j")
    assert sleeps == [0.5, 1.0]


def test_a_silent_jenkins_fails_within_the_read_timeout(silent_server: str) -> None:
    client = JenkinsClient(silent_server, connect_timeout=1, read_timeout=0.5)
    start = time.monotonic()
    with pytest.raises(
        JenkinsError,
        match=r"did not answer within 0\.5 s: GET http://127\.0\.0\.1:\d+/job/j/api/json",
    ):
        client.successful_builds("j")
    assert time.monotonic() - start < 2.0


@responses.activate
def test_crumb_is_fetched_once_and_sent_on_every_post(client: JenkinsClient) -> None:
    responses.get(f"{BASE}/crumbIssuer/api/json", json=fj.crumb("abc123"))
    for number in (1, 2):
        responses.get(f"{BASE}/job/j/{number}/api/json", json=fj.description("kept"))
        responses.post(
            f"{BASE}/job/j/{number}/configSubmit",
            status=302,
            headers={"Location": "."},
            match=[matchers.header_matcher({"Jenkins-Crumb": "abc123"})],
        )
    client.set_display_name("j", 1, "one")
    client.set_display_name("j", 2, "two")
    crumb_calls = [c for c in responses.calls if "crumbIssuer" in c.request.url]
    assert len(crumb_calls) == 1
    assert [c.request.method for c in responses.calls].count("POST") == 2


@responses.activate
def test_without_csrf_protection_no_crumb_is_sent(client: JenkinsClient) -> None:
    responses.get(f"{BASE}/crumbIssuer/api/json", status=404)
    responses.get(f"{BASE}/job/j/1/api/json", json=fj.description(None))
    responses.post(f"{BASE}/job/j/1/configSubmit", status=302)
    client.set_display_name("j", 1, "one")
    assert "Jenkins-Crumb" not in responses.calls[-1].request.headers


@responses.activate
def test_an_expired_crumb_is_fetched_again_once(client: JenkinsClient) -> None:
    responses.get(f"{BASE}/crumbIssuer/api/json", json=fj.crumb("old"))
    responses.get(f"{BASE}/crumbIssuer/api/json", json=fj.crumb("new"))
    responses.get(f"{BASE}/job/j/1/api/json", json=fj.description(None))
    responses.post(f"{BASE}/job/j/1/configSubmit", status=403)
    responses.post(f"{BASE}/job/j/1/configSubmit", status=302)
    client.set_display_name("j", 1, "one")
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert [p.request.headers["Jenkins-Crumb"] for p in posts] == ["old", "new"]


HOSTILE_NAMES = [
    'Fix "quoted" login',
    "It's <script>alert('x')</script>",
    "line1\nline2\r\nline3",
    "${System.exit(1)}",
    f"'; new File('{MARKER}').text = 'x'; '",
    "unicode ✓ 日本語 \U0001f680",
    "a & b = c + d % e",
    'json={"displayName": "nested"}',
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@responses.activate
def test_set_display_name_posts_the_form_jenkins_posts_with_the_name_exact(
    client: JenkinsClient, name: str
) -> None:
    job = "team/service1-build"
    responses.get(f"{BASE}/crumbIssuer/api/json", json=fj.crumb("c"))
    responses.get(
        f"{BASE}/job/team/job/service1-build/90/api/json",
        json=fj.description("Deployed by <b>ops</b>\nsecond line"),
        match=[matchers.query_param_matcher({"tree": "description"})],
    )
    responses.post(f"{BASE}/job/team/job/service1-build/90/configSubmit", status=302)
    client.set_display_name(job, 90, name)
    post = responses.calls[-1].request
    assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(post.body, keep_blank_values=True, strict_parsing=True)
    assert list(form) == ["json"]
    assert json.loads(form["json"][0]) == {
        "displayName": name,
        "description": "Deployed by <b>ops</b>\nsecond line",
    }
    assert len(responses.calls) == 3


def test_the_subject_of_a_jenkins_display_name_is_the_contract_subject() -> None:
    name = "  First line\twith tab\nsecond"
    build = fj.run("j", 5, display_name=name)
    from pipelinelib.jenkins.client import JenkinsBuild

    assert JenkinsBuild.from_json(build).subject == subject_of(name, 5) == "First linewith tab"


@responses.activate
def test_malformed_jenkins_json_is_a_jenkins_error(client: JenkinsClient) -> None:
    responses.get(f"{BASE}/job/j/api/json", body="<html>login</html>", status=200)
    with pytest.raises(JenkinsError, match="not JSON"):
        client.successful_builds("j")


def test_user_and_token_come_together() -> None:
    with pytest.raises(InvalidInputError, match="both"):
        JenkinsClient(BASE, user="ci")
    with pytest.raises(InvalidInputError, match="no Jenkins URL"):
        JenkinsClient("")


@responses.activate
def test_python_jenkins_shares_the_one_session(client: JenkinsClient) -> None:
    responses.get(f"{BASE}/", headers={"X-Jenkins": "2.440.3"}, body="")
    assert client.version() == "2.440.3"
    assert client.python_jenkins._session is client.session


ARTIFACT = f"{BASE}/job/svc/7/artifact/out/app.jar"


@responses.activate
def test_an_artifact_download_carries_the_credentials(client: JenkinsClient) -> None:
    """Downloads skip requests' per-request preparation (JenkinsClient._download) but must send
    what a prepared request sends: Basic auth and the client's User-Agent."""
    expected = "Basic " + base64.b64encode(b"ci:s3cret-token").decode()
    responses.get(
        ARTIFACT,
        body=b"jar bytes",
        match=[matchers.header_matcher({"Authorization": expected})],
    )
    body = b"".join(client.iter_artifact("svc", 7, "out/app.jar"))
    assert body == b"jar bytes"
    sent = responses.calls[0].request.headers
    assert sent["User-Agent"] == client.session.headers["User-Agent"]


@responses.activate
def test_an_artifact_redirected_elsewhere_is_followed_without_the_credentials(
    client: JenkinsClient,
) -> None:
    """An artifact manager (e.g. artifact-manager-s3) answers the artifact URL with a redirect
    to its storage; the body is fetched there, and Jenkins' credentials stay with Jenkins
    (requests drops Authorization when the host changes)."""
    stored = "https://bucket.s3.example.com/svc/7/app.jar?X-Amz-Signature=abc"
    responses.get(ARTIFACT, status=302, headers={"Location": stored})
    responses.get(stored, body=b"from storage")
    assert b"".join(client.iter_artifact("svc", 7, "out/app.jar")) == b"from storage"
    assert [c.request.url for c in responses.calls][-1] == stored
    assert "Authorization" not in responses.calls[-1].request.headers


def test_an_artifact_download_is_retried_like_any_read(sleeps: list[float]) -> None:
    """A real server on 127.0.0.1 (urllib3's retry loop runs only there): a gateway error on
    the artifact is retried with the client's backoff, on the download path too."""
    with scripted_server([(503, None), (200, {"artifact": "body"})]) as (url, server):
        client = JenkinsClient(url, retry=RetryPolicy(attempts=3), sleep=sleeps.append)
        body = b"".join(client.iter_artifact("svc", 7, "out/app.jar"))
    assert json.loads(body) == {"artifact": "body"}
    assert [path for _, path in server.requests] == ["/job/svc/7/artifact/out/app.jar"] * 2
    assert sleeps == [0.5]


@responses.activate
def test_a_missing_artifact_is_not_found(client: JenkinsClient) -> None:
    responses.get(ARTIFACT, status=404)
    with pytest.raises(NotFoundError, match=r"app\.jar"):
        b"".join(client.iter_artifact("svc", 7, "out/app.jar"))
