#!/usr/bin/env bash
# The project-local PostGIS cluster: data in var/pgdata (git-ignored), a unix socket in var/pgrun
# and a loopback TCP port (GRIDGIS_PG_PORT, default 54329, away from a system server's 5432).
#   scripts/pg.sh start | stop | status
# Skipped entirely when DATABASE_URL is set: then that database is used as it is.
source "$(dirname "$0")/lib.sh"

PORT="${GRIDGIS_PG_PORT:-54329}"
DATA="$VAR/pgdata"
RUN="$VAR/pgrun"
LOG="$VAR/postgresql.log"
DB_USER=gridgis
DB_NAME=gridgis

major="$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)"
[ -n "$major" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql (run scripts/system.sh)"
BIN="/usr/lib/postgresql/$major/bin"

# PostgreSQL refuses to run as root: as root, the cluster belongs to the 'postgres' system user.
if is_root; then
  OWNER=postgres
  id -u "$OWNER" >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin "$OWNER"
  as_owner() { runuser -u "$OWNER" -- "$@"; }
else
  OWNER="$(id -un)"
  as_owner() { "$@"; }
fi

# A unix socket path is limited to ~107 bytes; deep checkouts fall back to a short path in /tmp.
if [ ${#RUN} -gt 80 ]; then
  RUN="/tmp/gridgis-pg-$(printf '%s' "$ROOT" | sha1sum | cut -c1-10)"
fi

pg() { as_owner "$BIN/pg_ctl" -D "$DATA" "$@"; }
running() { [ -f "$DATA/PG_VERSION" ] && pg status >/dev/null 2>&1; }

let_owner_reach_project() {
  # The owner must be able to walk down to var/; a checkout in a private temp folder may not allow it.
  local dir="$ROOT"
  while [ "$dir" != "/" ]; do
    if ! as_owner test -x "$dir"; then
      info "letting $OWNER traverse $dir (chmod o+x)"
      chmod o+x "$dir"
    fi
    dir="$(dirname "$dir")"
  done
}

init_cluster() {
  step "Creating the project-local PostGIS cluster (PostgreSQL $major) in var/pgdata"
  mkdir -p "$VAR"
  let_owner_reach_project
  install -d -o "$OWNER" -m 700 "$DATA"
  as_owner "$BIN/initdb" -D "$DATA" -U "$DB_USER" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$DATA/postgresql.conf" <<CONF
# gridgis: loopback only, project-local socket
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$RUN'
shared_buffers = 256MB
max_connections = 200
fsync = ${GRIDGIS_PG_FSYNC:-on}
CONF
}

start() {
  if [ -n "${DATABASE_URL:-}" ]; then
    info "DATABASE_URL is set: using that database, not starting a local cluster"
    return
  fi
  [ -f "$DATA/PG_VERSION" ] || init_cluster
  install -d -o "$OWNER" -m 775 "$RUN"
  if running; then
    info "PostGIS cluster already running on 127.0.0.1:$PORT"
  else
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      die "port $PORT on 127.0.0.1 is taken by another server; choose another: GRIDGIS_PG_PORT=NNNN make ..."
    fi
    step "Starting the PostGIS cluster on 127.0.0.1:$PORT (socket in $RUN)"
    touch "$LOG" && chown "$OWNER" "$LOG"
    pg -l "$LOG" -o "-p $PORT -k $RUN" -w -t 60 start >/dev/null || { tail -n 20 "$LOG" >&2; die "PostgreSQL did not start (log: $LOG)"; }
  fi
  if ! as_owner "$BIN/psql" -h "$RUN" -p "$PORT" -U "$DB_USER" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    info "creating database $DB_NAME with PostGIS"
    as_owner "$BIN/createdb" -h "$RUN" -p "$PORT" -U "$DB_USER" "$DB_NAME"
  fi
  as_owner "$BIN/psql" -q -h "$RUN" -p "$PORT" -U "$DB_USER" -d "$DB_NAME" \
    -c "CREATE EXTENSION IF NOT EXISTS postgis" -c "CREATE EXTENSION IF NOT EXISTS pg_trgm" 2>&1 | grep -v NOTICE || true
}

stop() {
  if running; then
    step "Stopping the PostGIS cluster"
    pg -m fast stop >/dev/null
  else
    info "PostGIS cluster is not running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running on 127.0.0.1:$PORT"; else echo "stopped"; fi ;;
  url) echo "postgis://$DB_USER@127.0.0.1:$PORT/$DB_NAME" ;;
  *) die "usage: scripts/pg.sh start|stop|status|url" ;;
esac
