"""The manifest service: a Flask app over a :class:`~pipelinelib.store.ManifestStore`.

``create_app`` is the WSGI entry point for every server: ``pipelinelib serve`` (development),
gunicorn in production (docs/operations.md): ``gunicorn 'pipelinelib.service:create_app()'``
reads its configuration from the environment (``PIPELINELIB_DB``, ``PIPELINELIB_TOKENS_FILE``).
"""

from __future__ import annotations

import json
import logging
import time
from collections import ChainMap
from collections.abc import Mapping
from pathlib import Path

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from pipelinelib import __version__
from pipelinelib.config import SERVICE_HEADER
from pipelinelib.environments import EnvironmentsConfig
from pipelinelib.errors import PipelinelibError, StoreUnavailableError
from pipelinelib.service.auth import Authorizer, TokensFile
from pipelinelib.service.choices_cache import ChoicesCache
from pipelinelib.store import ManifestStore

DEFAULT_MAX_BODY = 1024 * 1024
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Errors whose class an HTTP client cannot tell from the status alone: named in "type".
TYPED_ERRORS = frozenset(
    {"LockedError", "LockExpiredError", "PromotionRefusedError", "UnknownEnvironmentError"}
)
access_log = logging.getLogger("pipelinelib.access")
log = logging.getLogger(__name__)


def json_error(status: int, message: str, kind: str | None = None) -> Response:
    """``{"error": message}``, plus ``"type"`` (the pipelinelib error class) when known, so
    HttpStore raises the same class the SQL store raised."""
    from pipelinelib.service.api import dumps

    body = {"error": message, **({"type": kind} if kind else {})}
    response = Response(dumps(body), status=status, mimetype="application/json")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def create_app(
    store: ManifestStore | str | None = None,
    *,
    tokens: dict[str, frozenset[str]] | None = None,
    tokens_file: Path | str | None = None,
    allow_anonymous_writes: bool = False,
    require_read_token: bool = False,
    max_body: int = DEFAULT_MAX_BODY,
    environments: EnvironmentsConfig | Path | str | None = None,
) -> Flask:
    """Build the app. ``store`` is a store or a database URL; None reads the environment.

    ``environments``: the declared environments (a config or the path of ``pipelinelib.toml``);
    None finds them as the CLI does (``PIPELINELIB_ENVIRONMENTS``, then walking up from the
    working directory). A store built here enforces their promotion rules.
    """
    from pipelinelib import config
    from pipelinelib.environments import load_environments
    from pipelinelib.service import api, board, control, health, insight, ledger_api, metrics

    settings = config.Settings.from_env()
    if store is None:
        store = settings.db
    if not isinstance(environments, EnvironmentsConfig):
        given = getattr(store, "environments_config", None)
        if environments is None and isinstance(given, EnvironmentsConfig) and given.declared:
            environments = given
        else:
            environments = load_environments(environments)
    if isinstance(store, str):
        from pipelinelib.store import open_store

        store = open_store(db=store, environments=environments)
    if tokens_file is None and tokens is None:
        tokens_file = config.tokens_file()
    token_source: Mapping[str, frozenset[str]] = tokens or {}
    if tokens_file is not None:
        watched = TokensFile(Path(tokens_file))
        token_source = ChainMap(dict(tokens), watched) if tokens else watched  # type: ignore[arg-type]

    app = Flask("pipelinelib.service")
    # No HTML redirects: '//' and trailing slashes reach the views (and their JSON errors).
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.json.ensure_ascii = True  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["pipelinelib"] = {
        "store": store,
        "auth": Authorizer(
            token_source,
            allow_anonymous_writes=allow_anonymous_writes,
            require_read_token=require_read_token,
        ),
        "max_body": max_body,
        "metrics": metrics.Metrics(),
        "choices_cache": ChoicesCache(),
        "environments": environments,
        "health": health.WriteHealth(config.min_free_mb() * 1024 * 1024),
        "links": insight.startup_links(),  # the board's URL templates (issue 17)
    }
    app.register_blueprint(api.blueprint)
    app.register_blueprint(board.blueprint)
    app.register_blueprint(ledger_api.blueprint)
    app.register_blueprint(control.blueprint)
    app.register_blueprint(insight.blueprint)
    api.register_converters(app)

    @app.before_request
    def _start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        app.extensions["pipelinelib"]["metrics"].observe(
            request.method, route, response.status_code, elapsed
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Lets a client tell the manifest service from whatever else --server points at.
        response.headers[SERVICE_HEADER] = __version__
        if request.method in _WRITES and response.status_code < 300:
            app.extensions["pipelinelib"]["health"].write_succeeded()
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                json.dumps(
                    {
                        "method": request.method,
                        "path": request.path,
                        "route": route,
                        "status": response.status_code,
                        "ms": round(elapsed * 1000, 3),
                        "remote": request.remote_addr,
                        "bytes": response.calculate_content_length(),
                    },
                    ensure_ascii=True,
                )
            )
        return response

    @app.errorhandler(PipelinelibError)
    def _pipelinelib_error(exc: PipelinelibError) -> Response:
        status = exc.http_status
        if status >= 500:
            log.warning("request failed: %s", exc.message)
        if isinstance(exc, StoreUnavailableError) and request.method in _WRITES:
            app.extensions["pipelinelib"]["health"].write_failed(exc.message)
        kind = type(exc).__name__
        response = json_error(status, exc.message, kind if kind in TYPED_ERRORS else None)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="pipelinelib"'
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        response = json_error(exc.code or 500, exc.description or exc.name)
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("internal error")
        return json_error(500, f"internal error ({type(exc).__name__})")

    return app
