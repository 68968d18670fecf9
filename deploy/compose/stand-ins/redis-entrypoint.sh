#!/bin/sh
# Like the official Redis image: options alone mean redis-server; it runs as `redis` in /data; and
# protected mode is off (the official image compiles it off), so other containers may connect.
set -eu
if [ "${1#-}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" != redis-server ]; then exec "$@"; fi
shift
chown redis:redis /data
exec setpriv --reuid=redis --regid=redis --init-groups redis-server --protected-mode no "$@"
