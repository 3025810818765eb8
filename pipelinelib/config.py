"""The only module that reads the environment.

Flags beat environment variables, which beat these defaults: the CLI declares each flag with
``envvar=`` (see :mod:`pipelinelib.cli`), and library users build :class:`Settings` themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import attrs

DEFAULT_DB = "sqlite:///.pipelinelib/pipelinelib.db"
# Every answer of the manifest service carries this header (its version): how the HTTP store
# tells the service from whatever else --server / PIPELINELIB_SERVER points at.
SERVICE_HEADER = "X-Pipelinelib-Service"

ENV_SERVER = "PIPELINELIB_SERVER"
ENV_TOKEN = "PIPELINELIB_TOKEN"  # noqa: S105 - a variable name, not a secret
ENV_DB = "PIPELINELIB_DB"
ENV_TOKENS_FILE = "PIPELINELIB_TOKENS_FILE"
ENV_ENVIRONMENTS = "PIPELINELIB_ENVIRONMENTS"
ENV_TERRAFORM = "PIPELINELIB_TERRAFORM"
ENV_TERRAFORM_IMAGE = "PIPELINELIB_TERRAFORM_IMAGE"  # orchestrate --runner docker
ENV_JENKINS_URL = "JENKINS_URL"
ENV_JENKINS_USER = "JENKINS_USER"
ENV_JENKINS_TOKEN = "JENKINS_API_TOKEN"  # noqa: S105 - a variable name
ENV_JOB = "JOB_NAME"
ENV_BUILD = "BUILD_NUMBER"
ENV_URL = "BUILD_URL"
# The board's links (issue 17): http(s) URL templates, docs/insight.md lists the placeholders.
ENV_BUILD_LINK = "PIPELINELIB_BUILD_URL_TEMPLATE"
ENV_COMMIT_LINK = "PIPELINELIB_COMMIT_URL_TEMPLATE"
ENV_BOARD_REFRESH = "PIPELINELIB_BOARD_REFRESH"
# AWS: the region of the ECS/ECR clients. botocore reads credentials (and AWS_ENDPOINT_URL, which
# the demo points at a loopback moto_server) itself; only the region is ours to resolve.
ENV_AWS_REGION = "AWS_REGION"
ENV_AWS_DEFAULT_REGION = "AWS_DEFAULT_REGION"
AWS_REGION_ENVVARS = (ENV_AWS_REGION, ENV_AWS_DEFAULT_REGION)


@attrs.frozen
class Settings:
    server: str | None = None
    token: str | None = None
    db: str = DEFAULT_DB
    jenkins_url: str | None = None
    jenkins_user: str | None = None
    jenkins_token: str | None = None
    terraform: str | None = None
    job: str | None = None
    build: str | None = None
    url: str | None = None
    aws_region: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value else None

        return cls(
            server=get(ENV_SERVER),
            token=get(ENV_TOKEN),
            db=get(ENV_DB) or DEFAULT_DB,
            jenkins_url=get(ENV_JENKINS_URL),
            jenkins_user=get(ENV_JENKINS_USER),
            jenkins_token=get(ENV_JENKINS_TOKEN),
            terraform=get(ENV_TERRAFORM),
            job=get(ENV_JOB),
            build=get(ENV_BUILD),
            url=get(ENV_URL),
            aws_region=get(ENV_AWS_REGION) or get(ENV_AWS_DEFAULT_REGION),
        )


def tokens_file(environ: Mapping[str, str] | None = None) -> str | None:
    """The service's tokens file from ``PIPELINELIB_TOKENS_FILE`` (``serve --tokens-file`` wins)."""
    env = os.environ if environ is None else environ
    return env.get(ENV_TOKENS_FILE) or None


def link_templates(environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """The board's URL templates: ``build`` (``PIPELINELIB_BUILD_URL_TEMPLATE``), ``commit``
    (``PIPELINELIB_COMMIT_URL_TEMPLATE``) and the page refresh in seconds
    (``PIPELINELIB_BOARD_REFRESH``, default 60, 0 turns it off); unset: None."""
    env = os.environ if environ is None else environ
    return {
        "build": env.get(ENV_BUILD_LINK) or None,
        "commit": env.get(ENV_COMMIT_LINK) or None,
        "refresh": env.get(ENV_BOARD_REFRESH) or None,
    }


def environments_file(environ: Mapping[str, str] | None = None) -> str | None:
    """The environments file from ``PIPELINELIB_ENVIRONMENTS`` (``--environments-file`` wins)."""
    env = os.environ if environ is None else environ
    return env.get(ENV_ENVIRONMENTS) or None


ENV_BUILD_USER = "BUILD_USER_ID"  # Jenkins' build-user-vars plugin: who started the build


def local_identity(environ: Mapping[str, str] | None = None) -> str | None:
    """Who runs a command against a local store: BUILD_USER_ID, else the login name.

    A local store has no authentication; over the service the token's identity counts.
    """
    env = os.environ if environ is None else environ
    return env.get(ENV_BUILD_USER) or env.get("USER") or env.get("LOGNAME") or None


ENV_MIN_FREE_MB = "PIPELINELIB_MIN_FREE_MB"
DEFAULT_MIN_FREE_MB = 64


def min_free_mb(environ: Mapping[str, str] | None = None) -> int:
    """Free space (MiB) an SQLite store's filesystem needs for ``/healthz`` to say ready."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_MIN_FREE_MB) or ""
    try:
        return max(0, int(raw)) if raw else DEFAULT_MIN_FREE_MB
    except ValueError:
        return DEFAULT_MIN_FREE_MB
