#!/bin/sh
# Like the official NATS image: options alone mean nats-server with those options.
set -eu
if [ "${1#-}" != "$1" ]; then set -- nats-server "$@"; fi
exec "$@"
