#!/usr/bin/env bash
# Installs the Debian packages gridgis needs, only those that are missing.
#   scripts/system.sh            server needs: PostgreSQL + PostGIS, GDAL, gettext, Node.js
#   scripts/system.sh --browser  also Chromium and a CJK font for the browser tests
source "$(dirname "$0")/lib.sh"

want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

pg_major() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1; }

missing=()
need() { installed "$1" || missing+=("$1"); }

step "Checking system packages"
if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  cat >&2 <<MSG
This is not a Debian-like system, so gridgis cannot install its system packages itself.
Install these with your package manager, then run the command again:
  PostgreSQL (15 or newer) with PostGIS 3, GDAL (ogr2ogr and libgdal), gettext, Node.js 18+ with npm,
  Python 3.11+ with venv$( [ $want_browser = 1 ] && echo ", Chromium and a CJK font (for the browser tests)")
Or point DATABASE_URL at an existing PostGIS database.
MSG
  exit 1
fi

major="$(pg_major)"
if [ -z "$major" ]; then
  need postgresql
else
  need "postgresql-$major"
fi
[ -n "$major" ] && need "postgresql-$major-postgis-3"
need postgresql-contrib
need gdal-bin
need gettext
need python3-venv
command -v node >/dev/null || need nodejs
command -v npm >/dev/null || need npm
if [ $want_browser = 1 ]; then
  need chromium
  need fonts-wqy-microhei
fi

if [ ${#missing[@]} -eq 0 ] && [ -n "$major" ]; then
  info "all present (PostgreSQL $major with PostGIS, GDAL, gettext$( [ $want_browser = 1 ] && echo ', Chromium'))"
  exit 0
fi

if ! is_root; then
  die "missing system packages: ${missing[*]}
    run as root:  apt-get update && apt-get install -y ${missing[*]}
    (or run 'sudo make ...'), then run the command again."
fi

step "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
major="$(pg_major)"
if ! installed "postgresql-$major-postgis-3"; then
  step "Installing PostGIS for PostgreSQL $major"
  apt-get install -y -qq --no-install-recommends "postgresql-$major-postgis-3" >/dev/null
fi
info "done"
