# syntax=docker/dockerfile:1
# The manifest service image: gunicorn (gevent workers) + the app over SQLite or PostgreSQL.
# Build: docker build -t pipelinelib-service .     (docs/operations.md "Container image")
# Not built by the test suite (no Docker daemon there); `make lint` checks it with hadolint and
# tests/integration/service/test_image_server.py runs its entrypoint and gunicorn config as is.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/pipelinelib
COPY pyproject.toml setup.cfg README.md LICENSE ./
COPY pipelinelib ./pipelinelib
RUN /opt/pipelinelib/bin/pip install --no-compile ".[server]" \
 && /opt/pipelinelib/bin/python -m compileall -q /opt/pipelinelib/lib

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="pipelinelib manifest service" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/example/pipelinelib"
# PIPELINELIB_TOKENS_FILE is a path, not a secret (the tokens come from Secrets Manager at run time).
# hadolint ignore=DL3064
ENV PATH=/opt/pipelinelib/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIPELINELIB_DB=sqlite:////var/lib/pipelinelib/pipelinelib.db \
    PIPELINELIB_TOKENS_FILE=/run/pipelinelib/tokens \
    PIPELINELIB_WORKER_TMP_DIR=/tmp \
    PIPELINELIB_GUNICORN_CONF=/etc/pipelinelib/gunicorn.conf.py
RUN groupadd --system --gid 10001 pipelinelib \
 && useradd --system --uid 10001 --gid pipelinelib --no-create-home --shell /usr/sbin/nologin pipelinelib \
 && mkdir -p /var/lib/pipelinelib /run/pipelinelib \
 && chown pipelinelib:pipelinelib /var/lib/pipelinelib /run/pipelinelib \
 && chmod 0700 /var/lib/pipelinelib /run/pipelinelib
COPY --from=build /opt/pipelinelib /opt/pipelinelib
COPY docker/gunicorn.conf.py /etc/pipelinelib/gunicorn.conf.py
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/pipelinelib-entrypoint
# With a read-only root filesystem, mount writable volumes at /tmp, /run/pipelinelib and (for
# SQLite) /var/lib/pipelinelib; the ECS task definition in terraform/src/manifest-service does.
VOLUME ["/var/lib/pipelinelib"]
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["/usr/local/bin/pipelinelib-entrypoint"]
