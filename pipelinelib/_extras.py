"""Optional parts of pipelinelib and the one check that names the extra to install.

The default install is what a Jenkins agent needs (publish, import, load-env, orchestrate,
copy-artifact, status through ``--server``). The rest is optional (setup.cfg ``extras_require``):

=========  ====================================================  ==================================
extra      brings                                                needed by
=========  ====================================================  ==================================
store      SQLAlchemy, Alembic                                   a local store (``--db``, SQLite):
                                                                 commands without ``--server``,
                                                                 ``demo``, ``store export/import``
server     store + psycopg, Flask, prometheus-client, gunicorn,  ``serve``, the container image,
           granian                                               PostgreSQL URLs
aws        boto3                                                 ``verify-images``, ``wait-rollout``
=========  ====================================================  ==================================
"""

from __future__ import annotations

import importlib.util

from pipelinelib.errors import MissingExtraError

#: extra -> the top-level modules it provides (checked without importing them: start-up stays fast)
EXTRAS: dict[str, tuple[str, ...]] = {
    "store": ("sqlalchemy", "alembic"),
    "postgres": ("psycopg",),
    "server": ("sqlalchemy", "alembic", "flask", "prometheus_client"),
    "aws": ("boto3", "botocore"),
}
#: where each module comes from, for the message
_INSTALL_AS = {"postgres": "server"}


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    return [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]


def require(extra: str, what: str) -> None:
    """Raise MissingExtraError naming the pip command when ``extra`` is not installed.

    ``what`` says who needs it, e.g. ``"a local store (--db)"``.
    """
    absent = missing(extra)
    if absent:
        name = _INSTALL_AS.get(extra, extra)
        raise MissingExtraError(
            f"{what} needs the [{name}] extra ({', '.join(absent)} not installed): "
            f"pip install 'pipelinelib[{name}]'",
            extra=name,
        )
