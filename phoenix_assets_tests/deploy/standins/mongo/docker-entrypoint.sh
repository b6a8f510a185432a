#!/bin/sh
# STAND-IN for the mongo image's entrypoint (see the Containerfile): nx-27017 has no
# authentication, so a root user asked for is refused rather than silently ignored.
set -eu
if [ -n "${MONGO_INITDB_ROOT_USERNAME:-}" ] || [ -n "${MONGO_INITDB_ROOT_PASSWORD:-}" ]; then
    echo "mongo stand-in (nx-27017): no authentication; leave MONGO_INITDB_ROOT_* empty" >&2
    exit 1
fi
exec "$@"
