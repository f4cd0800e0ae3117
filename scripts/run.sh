#!/usr/bin/env bash
# The foreground of `make run`: web, worker, beat and the outbox relay (Procfile) under honcho,
# from VENV. Ctrl-C (SIGINT) or SIGTERM stops them all; a stop that was asked for is a clean end
# (status 0 here, so make reports no error), while a process that dies on its own still fails.
set -uo pipefail
cd "$(dirname "$0")/.."
export VENV=${VENV:-.venv}

stopping=0
trap 'stopping=1' INT TERM
"$VENV/bin/honcho" start -f Procfile
status=$?
if [[ $stopping == 1 ]]; then
  echo "stopped"
  exit 0
fi
exit "$status"
