#!/bin/sh
# Entrypoint of the manifest service image (Dockerfile); tested outside a container by
# tests/integration/service/test_image_server.py.
#
# * PIPELINELIB_TOKENS (the tokens file's content, as ECS injects a Secrets Manager secret) is
#   written to PIPELINELIB_TOKENS_FILE (default /run/pipelinelib/tokens, a tmpfs in the task) with
#   mode 0600 and removed from the environment. Without it, PIPELINELIB_TOKENS_FILE is used as is.
# * No arguments, or only flags: gunicorn with the baked config and those flags.
#   Anything else runs as a command, e.g. `pipelinelib store export`.
set -eu

if [ -n "${PIPELINELIB_TOKENS:-}" ]; then
  tokens_file="${PIPELINELIB_TOKENS_FILE:-/run/pipelinelib/tokens}"
  (
    umask 077
    mkdir -p "$(dirname "$tokens_file")"
    printf '%s\n' "$PIPELINELIB_TOKENS" > "$tokens_file.new"
    mv "$tokens_file.new" "$tokens_file"
  )
  export PIPELINELIB_TOKENS_FILE="$tokens_file"
  unset PIPELINELIB_TOKENS
fi

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  exec gunicorn -c "${PIPELINELIB_GUNICORN_CONF:-/etc/pipelinelib/gunicorn.conf.py}" "$@" \
    'pipelinelib.service:create_app()'
fi
exec "$@"
