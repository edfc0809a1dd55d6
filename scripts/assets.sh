#!/usr/bin/env bash
# Installs the front-end libraries (Leaflet, OpenLayers for the admin) from npm with the lock file.
source "$(dirname "$0")/lib.sh"

stamp="$ROOT/node_modules/.installed-$(sha1sum "$ROOT/package-lock.json" | cut -c1-12)"
if [ -f "$stamp" ]; then
  info "npm assets up to date (node_modules)"
  exit 0
fi
step "Installing front-end libraries from npm (package-lock.json)"
(cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
touch "$stamp"
info "done"
