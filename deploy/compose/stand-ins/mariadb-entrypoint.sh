#!/bin/sh
# The part of the official MariaDB entrypoint that compose.yaml relies on: options alone mean
# "mariadbd with these options"; an empty data directory is initialised with the root password,
# the application user and /docker-entrypoint-initdb.d/*.sql before the server takes connections.
set -eu
if [ "${1#-}" != "$1" ]; then set -- mariadbd "$@"; fi
if [ "$1" != mariadbd ]; then exec "$@"; fi
shift
datadir=/var/lib/mysql
chown mysql:mysql "$datadir" /run/mysqld

sql_string() { printf "'%s'" "$(printf %s "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"; }

if [ ! -d "$datadir/mysql" ]; then
  : "${MARIADB_ROOT_PASSWORD:?the stand-in needs MARIADB_ROOT_PASSWORD}"
  echo "stand-in: initialising $datadir"
  mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db --auth-root-authentication-method=normal >/dev/null
  socket=/run/mysqld/init.sock
  # No networking while initialising: the health check (over TCP) fails until this is done.
  mariadbd --user=mysql --datadir="$datadir" --skip-networking --socket="$socket" &
  pid=$!
  i=0
  until mariadb-admin --socket="$socket" -uroot ping >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -lt 120 ] || { echo "stand-in: mariadbd did not start" >&2; exit 1; }
    sleep 0.5
  done
  root_password=$(sql_string "$MARIADB_ROOT_PASSWORD")
  {
    # As the official image: only root@localhost stays of the accounts mariadb-install-db makes
    # (root@127.0.0.1 and the others have no password). printf, not echo: dash's echo would read
    # the backslashes in a password.
    printf '%s\n' "DELETE FROM mysql.global_priv WHERE User NOT IN ('mariadb.sys', 'root') OR Host <> 'localhost'; FLUSH PRIVILEGES;"
    printf '%s\n' "CREATE USER 'root'@'%' IDENTIFIED BY $root_password; GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "${MARIADB_USER:-}" ]; then
      printf '%s\n' "CREATE USER $(sql_string "$MARIADB_USER")@'%' IDENTIFIED BY $(sql_string "${MARIADB_PASSWORD:-}");"
    fi
    for f in /docker-entrypoint-initdb.d/*.sql; do [ -e "$f" ] && cat "$f" && echo; done
    printf '%s\n' "ALTER USER 'root'@'localhost' IDENTIFIED BY $root_password; FLUSH PRIVILEGES;"
  } | mariadb --socket="$socket" -uroot
  kill "$pid"
  wait "$pid" || true
  echo "stand-in: initialised"
fi
exec mariadbd --user=mysql "$@"
