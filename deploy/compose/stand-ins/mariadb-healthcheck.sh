#!/bin/sh
# The official image's `healthcheck.sh --connect --innodb_initialized`, for the stand-in: a TCP
# connection (none is taken while the entrypoint initialises) and InnoDB ready. Other flags are
# accepted and checked the same way.
set -eu
MYSQL_PWD=${MARIADB_ROOT_PASSWORD:-} mariadb --protocol=tcp -h 127.0.0.1 -uroot -N -e \
  "SELECT 1 FROM information_schema.ENGINES WHERE ENGINE = 'InnoDB' AND SUPPORT IN ('YES', 'DEFAULT')" \
  | grep -q 1
