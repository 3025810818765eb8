"""pipelinelib.toml: the environments a team declares, and the mistakes the loader names."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelinelib.environments import (
    find_environments_file,
    load_environments,
    parse_environments,
    read_environments_file,
)
from pipelinelib.errors import (
    FileAccessError,
    InvalidInputError,
    NotFoundError,
    UnknownEnvironmentError,
)
from pipelinelib.promotion import check_environment

REPO_FILE = Path(__file__).resolve().parents[2] / "pipelinelib.toml"


def test_the_repository_file_declares_the_pipeline_order() -> None:
    config = read_environments_file(REPO_FILE)
    assert config.names == ["test", "beta", "staging", "live", "sandbox"]
    assert [e.name for e in config.environments if e.protected] == ["staging", "live"]
    live = config.require("live")
    assert (live.upstream, live.approvals, live.stack) == ("staging", 1, "appcluster-live")
    assert config.require("sandbox").upstream == "staging"
    assert config.downstream("staging") == ["live", "sandbox"]
    [window] = live.freeze
    assert window.contains(datetime(2026, 12, 25, tzinfo=UTC))
    assert not window.contains(datetime(2027, 1, 5, tzinfo=UTC))  # the end is excluded


def test_order_follows_upstreams_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pipelinelib.toml"
    path.write_text(
        '[environments.live]\nupstream = "qa"\n[environments.qa]\nupstream = "dev"\n'
        "[environments.dev]\n"
    )
    config = read_environments_file(path)
    assert config.names == ["dev", "qa", "live"]
    assert config.order(["live", "other", "dev", "alpha"]) == ["dev", "live", "alpha", "other"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no \\[environments.NAME\\] tables"),
        ("[environments.beta]\nupstream = 'tset'\n[environments.test]\n", "did you mean 'test'"),
        (
            "[environments.test]\nupstreem = 'x'\n",
            "unknown key 'upstreem'; did you mean 'upstream'",
        ),
        ("[environments.a]\nupstream = 'b'\n[environments.b]\nupstream = 'a'\n", "no first"),
        (
            "[environments.t]\n[environments.a]\nupstream = 'b'\n[environments.b]\nupstream = 'a'\n",
            "a, b form an upstream cycle",
        ),
        ("[environments.t]\napprovals = 11\n", "between 0 and 10"),
        ("[environments.t]\nprotected = 'yes'\n", "expected true or false"),
        ("[environments.Test]\n", "invalid environment name"),
        (
            "[environments.t]\nfreeze = [{start = 2026-12-01T00:00:00, end = 2026-12-02T00:00:00Z,"
            " reason = 'x'}]\n",
            "no UTC offset",
        ),
        (
            "[environments.t]\nfreeze = [{start = '2026-12-02T00:00:00Z', end = "
            "'2026-12-01T00:00:00Z', reason = 'x'}]\n",
            "start must be before end",
        ),
        (
            "[environments.t]\nfreeze = [{start = '2026-12-01T00:00:00Z', end = "
            "'2026-12-02T00:00:00Z'}]\n",
            "'reason' is required",
        ),
        (
            "[environments.t]\nfreeze = [{start = 'tomorrow', end = 'x', reason = 'y'}]\n",
            "RFC 3339",
        ),
        ("[environments\n", "not valid TOML"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pipelinelib.toml"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=message):
        read_environments_file(path)


def test_unknown_environment_suggests_the_closest_name() -> None:
    config = parse_environments({"environments": {"test": {}, "staging": {"upstream": "test"}}})
    with pytest.raises(UnknownEnvironmentError, match="did you mean 'staging'"):
        check_environment(config, "stagin")
    with pytest.raises(NotFoundError, match="declared: test, staging"):
        config.require("prod")


def test_found_by_flag_then_variable_then_walking_up(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    deep = root / "a" / "b"
    deep.mkdir(parents=True)
    (root / "pipelinelib.toml").write_text("[environments.dev]\n")
    (root / "a" / "pipelinelib.toml").write_text("[tool.other]\n")  # no environments: skipped
    assert find_environments_file(deep) == root / "pipelinelib.toml"
    assert load_environments(environ={}, start=deep).names == ["dev"]
    other = tmp_path / "other.toml"
    other.write_text("[environments.prod]\n")
    assert load_environments(
        environ={"PIPELINELIB_ENVIRONMENTS": str(other)}, start=deep
    ).names == ["prod"]
    assert load_environments(
        root / "pipelinelib.toml", environ={"PIPELINELIB_ENVIRONMENTS": str(other)}
    ).names == ["dev"]
    assert not load_environments("none", start=deep).declared
    assert not load_environments(environ={}, start=tmp_path).declared  # nothing above tmp_path
    with pytest.raises(FileAccessError, match="no such environments file"):
        load_environments(tmp_path / "missing.toml")
