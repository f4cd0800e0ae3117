#!/usr/bin/env bash
# Deploy a release artifact (`make dist`) to an application host over SSH, or roll back by one.
#
#   deploy/deploy.sh --host USER@HOST [options] dist/addon-partner-<version>-<commit>.tar.gz
#   deploy/deploy.sh --host USER@HOST [options] --rollback
#
# On the host (deploy/remote.sh, sent over the same SSH connection): unpack into
# releases/<UTC timestamp>-<commit>/, link the virtualenv and shared/ (env, var), migrate,
# collect static files, switch `current` atomically, restart web then worker, beat and relay through
# systemd, and wait until /health/ready reports the NEW release; if it does not in time, switch
# back to the previous release and restart it. The last --keep releases are kept.
# Options and exit codes: docs/runbook.md ("Deploying").
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

usage() {
  sed -n '2,12p' "$0" >&2
  exit 2
}

HOST="" PORT=22 ROLLBACK=false ARTIFACT=""
SSH_OPTIONS=(-o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10)
REMOTE_OPTIONS=()
ROOT=/srv/addon-partner
while [ $# -gt 0 ]; do
  case $1 in
    --host) HOST=$2; shift ;;
    --port) PORT=$2; shift ;;
    --ssh-option) SSH_OPTIONS+=(-o "$2"); shift ;;
    --identity) SSH_OPTIONS+=(-i "$2" -o IdentitiesOnly=yes); shift ;;
    --root) ROOT=$2; REMOTE_OPTIONS+=(--root "$2"); shift ;;
    --health-url | --health-host | --timeout | --keep | --systemctl | --python) REMOTE_OPTIONS+=("$1" "$2"); shift ;;
    --rollback) ROLLBACK=true ;;
    -h | --help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) ARTIFACT=$1 ;;
  esac
  shift
done
[ -n "$HOST" ] || usage
if ! $ROLLBACK; then
  [ -f "$ARTIFACT" ] || { echo "artifact ${ARTIFACT:-?} not found (make dist)" >&2; exit 2; }
fi

ssh_host() { ssh -p "$PORT" "${SSH_OPTIONS[@]}" "$HOST" "$@"; }
quoted() { [ $# -eq 0 ] || printf '%q ' "$@"; }

# upload FILE NAME: into incoming/ under a temporary name, renamed once complete
upload() {
  local part="$ROOT/incoming/$2.part"
  ssh_host "mkdir -p $(quoted "$ROOT/incoming") && cat > $(quoted "$part") && mv $(quoted "$part" "$ROOT/incoming/$2")" <"$1"
}

# The host program travels with every deploy, so host and artifact never disagree about it.
upload "$HERE/remote.sh" remote.sh
if $ROLLBACK; then
  ssh_host "bash $(quoted "$ROOT/incoming/remote.sh") rollback $(quoted "${REMOTE_OPTIONS[@]}")" </dev/null
  exit
fi
name=$(basename "$ARTIFACT")
echo "[deploy] uploading $name to $HOST:$ROOT/incoming/" >&2
upload "$ARTIFACT" "$name"
ssh_host "bash $(quoted "$ROOT/incoming/remote.sh") deploy $(quoted "$name" "${REMOTE_OPTIONS[@]}")" </dev/null
