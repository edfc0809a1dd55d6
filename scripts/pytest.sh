#!/usr/bin/env bash
# Runs pytest; "no tests collected" (exit 5) is a failure, never a green run.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
set +e
"$PY" -m pytest "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  die "pytest collected no tests: that is a failure, not a pass"
fi
exit $rc
