"""gunicorn configuration of the manifest service: the one baked into the container image.

Used as ``gunicorn -c docker/gunicorn.conf.py 'pipelinelib.service:create_app()'`` (the image's
entrypoint does exactly that; docs/operations.md explains each choice and bench/server_choice.py
measures it). Settings can be overridden per deployment with GUNICORN_CMD_ARGS or flags.

* gevent workers: a connection costs a greenlet, not a thread, so clients that send their body
  one byte at a time cannot take every worker thread (the gthread 2x8 setup starved with 24 such
  clients). Database calls are short; psycopg 3 waits cooperatively.
* Logging: JSON access lines of the app (``pipelinelib.access``) on stdout, everything else on
  stderr; gunicorn's own access log is off. The dict is complete (root logger included): gunicorn
  merges ``logconfig_dict`` over its defaults only at the top level, so a dict without ``root``
  and ``console`` fails with "Unable to configure root logger".
* gunicorn's own error answers (malformed requests: 400, 414, 431, ...) are JSON like the app's.
* The tokens file is read by the master at start and on every HUP; a bad file is logged and the
  workers keep the last good tokens instead of failing to boot (see pipelinelib.service.auth).
"""

from __future__ import annotations

import json
import os
from typing import Any

bind = os.environ.get("PIPELINELIB_BIND", "0.0.0.0:8080")  # the container listens on all addresses
workers = int(os.environ.get("PIPELINELIB_WORKERS", "2"))  # about one per core
worker_class = "gevent"
worker_connections = 1000
keepalive = 5  # shorter than the ALB's idle timeout (60 s), so the ALB never reuses a closed one
timeout = 30
graceful_timeout = 20
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
forwarded_allow_ips = os.environ.get("PIPELINELIB_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None
errorlog = "-"
# /tmp is a tmpfs in the image's task definition: the root filesystem may be read-only.
worker_tmp_dir = os.environ.get("PIPELINELIB_WORKER_TMP_DIR", "/tmp")  # noqa: S108

logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(message)s"},
        "generic": {"format": "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stdout",
        },
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "generic",
            "stream": "ext://sys.stderr",
        },
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "generic",
            "stream": "ext://sys.stderr",
        },
    },
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "pipelinelib.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}


def _json_write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn.util.write_error (gunicorn 23-27, gunicorn/util.py) with a JSON body instead of
    HTML: the same status line, ``Connection: close`` and a non-blocking write."""
    from gunicorn import util

    body = json.dumps({"error": f"{reason}: {mesg}" if mesg else reason}, ensure_ascii=True)
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, (head + body).encode("latin-1"))


def _remember_tokens(server: Any) -> None:
    path = os.environ.get("PIPELINELIB_TOKENS_FILE")
    if path:
        from pipelinelib.service.auth import remember_tokens_file

        remember_tokens_file(path)


def on_starting(server: Any) -> None:
    from gunicorn import util

    util.write_error = _json_write_error
    _remember_tokens(server)  # a bad file at start stops the service: it must not run without


def on_reload(server: Any) -> None:
    _remember_tokens(server)  # a bad file now is logged; workers keep the last good tokens
