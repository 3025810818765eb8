"""Reaching Jenkins for the verbs: the one way a command gets a :class:`JenkinsClient`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipelinelib.jenkins.client import JenkinsClient


def open_jenkins(url: str | None, user: str | None, timeout: float) -> JenkinsClient:
    """A client for ``url`` as ``user``; the API token comes from the environment only
    (``JENKINS_TOKEN``: never a flag, since ``ps`` shows flags). ``timeout`` is in seconds, per
    request (connecting gets at most 10 s of it). Use it as a context manager.
    """
    from pipelinelib.config import Settings
    from pipelinelib.jenkins.client import JenkinsClient

    settings = Settings(
        jenkins_url=url, jenkins_user=user, jenkins_token=Settings.from_env().jenkins_token
    )
    return JenkinsClient.from_settings(
        settings, connect_timeout=min(10.0, timeout), read_timeout=timeout
    )
