"""The board's link templates: only http(s) URLs come out, whatever the names contain."""

from __future__ import annotations

import pytest

from pipelinelib.errors import InvalidInputError
from pipelinelib.service.links import Links, is_http_url


def test_build_link_uses_jenkins_folder_paths_and_quotes_names() -> None:
    links = Links("https://ci.example.com/{job_path}/{number}/")
    assert links.build("team/svc/feature%2Flogin", 7) == (
        "https://ci.example.com/job/team/job/svc/job/feature%252Flogin/7/"
    )
    assert Links("https://ci.example.com/x?job={job}").build("a b/c", 1) == (
        "https://ci.example.com/x?job=a%20b/c"
    )


def test_without_a_template_only_a_recorded_http_url_is_linked() -> None:
    links = Links()
    assert links.build("deploy-test", 1, "https://ci/job/deploy-test/1/") == (
        "https://ci/job/deploy-test/1/"
    )
    for hostile in ("javascript:alert(1)", "data:text/html,x", "//evil", "https://", " https://x"):
        assert links.build("deploy-test", 1, hostile) is None, hostile
    assert links.commit("service1", "ab" * 20) is None  # no template, no commit link


@pytest.mark.parametrize(
    "template",
    [
        "javascript:alert('{commit}')",
        "{commit}",  # the scheme would come from the value
        "ftp://git/{commit}",
        "https://git/{commit!r}",
        "https://git/{commit:>50}",
        "https://git/{secret}",
        "https://git/{0}",
        "https://git/{commit",
    ],
)
def test_templates_that_could_produce_anything_else_are_refused(template: str) -> None:
    with pytest.raises(InvalidInputError):
        Links(commit_template=template)


def test_commit_link_quotes_the_service() -> None:
    links = Links(commit_template="https://git.example.com/{service}/commit/{commit}")
    assert links.commit("svc", "abc1234") == "https://git.example.com/svc/commit/abc1234"
    assert is_http_url(links.commit("svc", "abc1234"))


def test_refresh_from_the_environment_is_checked() -> None:
    assert Links.from_config({"refresh": "0"}).refresh == 0
    for bad in ("-1", "1e3", "999999"):
        with pytest.raises(InvalidInputError):
            Links.from_config({"refresh": bad})
