#!/usr/bin/env bash
# Creates .venv and installs the locked Python dependencies (requirements/dev.txt, hash-checked).
# Re-runs only when the lock file changes.
source "$(dirname "$0")/lib.sh"

LOCK="$ROOT/requirements/dev.txt"
stamp="$VENV/.installed-$(sha1sum "$LOCK" | cut -c1-12)"

if [ -f "$stamp" ]; then
  info "Python environment up to date (.venv)"
  exit 0
fi
if [ ! -x "$PY" ]; then
  step "Creating the virtualenv .venv"
  python3 -m venv "$VENV" || die "python3 -m venv failed: install python3-venv (Debian) and try again"
fi
step "Installing Python dependencies from requirements/dev.txt"
# (this machine's pip.conf may name local wheel folders that do not exist: those warnings are noise)
"$PY" -m pip install -q --disable-pip-version-check --require-hashes -r "$LOCK" 2> >(grep -v "is ignored: it is neither" >&2)

rm -f "$VENV"/.installed-*
touch "$stamp"
info "done"
