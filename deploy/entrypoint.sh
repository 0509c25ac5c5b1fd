#!/bin/sh
# The image's entrypoint: one image, four services. SERVICE (catalog, review, orders, license)
# picks the service at run time; the first argument picks what to do with it:
#
#   serve        (default) uvicorn on 0.0.0.0:$PORT, PORT defaulting to the service's own port
#   migrate      `market db upgrade $SERVICE`: run before a new version starts serving
#   healthcheck  GET /healthz on this container's port (the image's HEALTHCHECK)
#
# Any other command runs as given, without SERVICE (e.g. `market keys rotate --dir DIR`).
set -eu

command="${1:-serve}"
case "$command" in
  serve | migrate | healthcheck) ;;
  *) exec "$@" ;;
esac

case "${SERVICE:-}" in
  catalog) default_port=8001 ;;
  review) default_port=8002 ;;
  orders) default_port=8003 ;;
  license) default_port=8004 ;;
  *)
    echo "entrypoint: SERVICE must be catalog, review, orders or license (got '${SERVICE:-}')" >&2
    exit 64
    ;;
esac
port="${PORT:-$default_port}"

case "$command" in
  serve)
    # One process a container: scale with replicas, not workers. --lifespan on makes a failed
    # startup (no signing key, a bad setting) end the process instead of serving half-built.
    exec uvicorn "services.${SERVICE}.main:create_app" --factory \
      --host 0.0.0.0 --port "$port" --no-access-log --lifespan on \
      --timeout-graceful-shutdown 20
    ;;
  migrate)
    exec market db upgrade "$SERVICE"
    ;;
  healthcheck)
    exec python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=3)' \
      "http://127.0.0.1:${port}/healthz"
    ;;
esac
