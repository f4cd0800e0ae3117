#!/usr/bin/env bash
# The host side of deploy/deploy.sh: sent over SSH on standard input and run by the deploy user
# on the application host, so the host needs no copy of it. Layout under --root (docs/runbook.md):
#   releases/<UTC timestamp>-<commit>/   one unpacked artifact each; .venv, var and .env are links
#   shared/env                            the EnvironmentFile of the systemd units (KEY=value lines)
#   shared/var/                           state that outlives releases (beat schedule, ...)
#   shared/venvs/<hash>/                  virtualenvs, one per distinct requirements.lock
#   current -> releases/<name>            what systemd runs; switched atomically (rename)
#   incoming/                             artifacts being uploaded
set -euo pipefail

usage() {
  echo "usage: remote.sh deploy ARTIFACT_NAME [options] | remote.sh rollback [options]" >&2
  exit 2
}

ACTION=${1:-}
shift || usage
ARTIFACT=""
if [ "$ACTION" = deploy ]; then
  ARTIFACT=${1:?artifact name}
  shift
fi
ROOT=/srv/addon-partner
HEALTH_URL=http://127.0.0.1:8000/health/ready
HEALTH_HOST=""
TIMEOUT=120
KEEP=5
SYSTEMCTL="sudo -n systemctl"
PYTHON=python3.11
WEB=addon-partner-web.service
BACKGROUND="addon-partner-worker.service addon-partner-beat.service addon-partner-relay.service"
while [ $# -gt 0 ]; do
  case $1 in
    --root) ROOT=$2 ;;
    --health-url) HEALTH_URL=$2 ;;
    --health-host) HEALTH_HOST=$2 ;;
    --timeout) TIMEOUT=$2 ;;
    --keep) KEEP=$2 ;;
    --systemctl) SYSTEMCTL=$2 ;;
    --python) PYTHON=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[ "$KEEP" -ge 2 ] || { echo "--keep must be at least 2 (the current release and one to roll back to)" >&2; exit 2; }

log() { printf '[deploy %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$ROOT/releases" "$ROOT/shared/var" "$ROOT/shared/venvs" "$ROOT/incoming"
[ -f "$ROOT/shared/env" ] || die "$ROOT/shared/env is missing (the environment file, see docs/runbook.md)"
exec 9>"$ROOT/.deploy.lock"
flock -n 9 || die "another deploy or rollback is running on this host"

current_name() { [ -L "$ROOT/current" ] && basename "$(readlink "$ROOT/current")" || true; }
releases() { find "$ROOT/releases" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' | sort; }

# Run manage.py of a release with the host's environment, as systemd would.
manage() {
  local dir=$1
  shift
  (cd "$dir" && set -a && . "$ROOT/shared/env" && set +a && .venv/bin/python manage.py "$@")
}

# One virtualenv per distinct requirements.lock (and Python): releases that share their
# dependencies share it, and a rollback finds its own still there.
ensure_venv() {
  local lock=$1 key venv
  key=$({ cat "$lock"; "$PYTHON" -VV; } | sha256sum | cut -c1-16)
  venv="$ROOT/shared/venvs/$key"
  if [ ! -f "$venv/.complete" ]; then
    log "building virtualenv $key"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
    # every package is pinned by the lock; pip may add a backport that only this host's Python
    # patch level asks for (an environment marker the build's Python did not meet)
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock"
    touch "$venv/.complete"
  fi
  echo "$venv"
}

# Static files depend only on the installed packages (the virtualenv) and the code's static/
# directories: when both match the current release's, its files are hard-linked instead of
# collected and compressed again (ten seconds and more per deploy).
static_key() {
  local dir=$1
  {
    readlink -f "$dir/.venv"
    cd "$dir" && find . -path ./static -prune -o -path ./.venv -prune -o -path ./var -prune \
      -o -path '*/static/*' -type f -print | sort | xargs -r sha256sum
  } | sha256sum | cut -c1-16
}

collect_static() {
  local dir=$1 from=$2 key
  key=$(static_key "$dir")
  if [ -n "$from" ] && [ -f "$ROOT/releases/$from/static/.key" ] && [ "$(cat "$ROOT/releases/$from/static/.key")" = "$key" ]; then
    log "static files unchanged: linked from $from"
    cp -al "$ROOT/releases/$from/static" "$dir/static"
    return
  fi
  log "collecting static files"
  manage "$dir" collectstatic --no-input --verbosity 0
  echo "$key" >"$dir/static/.key"
}

# `current` is replaced by rename(2): at every instant it names one whole release.
switch_to() {
  ln -sfn "releases/$1" "$ROOT/current.next"
  mv -T "$ROOT/current.next" "$ROOT/current"
  log "current -> releases/$1"
}

# The web first: its start empties the metrics directory that worker and beat write into.
restart_services() {
  log "restarting $WEB"
  # 9>&-: the deploy lock is not handed down to anything systemctl may start
  $SYSTEMCTL restart "$WEB" 9>&- || log "restart of $WEB failed"
  log "restarting $BACKGROUND"
  # shellcheck disable=SC2086 # several unit names
  $SYSTEMCTL restart $BACKGROUND 9>&- || log "restart of $BACKGROUND failed"
}

# Ready, and answering with the expected release (not the one it replaces).
serves() {
  "$PYTHON" - "$HEALTH_URL" "$HEALTH_HOST" "$1" <<'PY'
import json, sys, urllib.request
url, host, name = sys.argv[1:4]
request = urllib.request.Request(url, headers={"Host": host} if host else {})
try:
    with urllib.request.urlopen(request, timeout=3) as response:
        body = json.load(response)
except Exception:
    sys.exit(1)
sys.exit(0 if body.get("status") == "ok" and body.get("release", {}).get("name") == name else 1)
PY
}

wait_until_served() {
  local deadline=$((SECONDS + TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if serves "$1"; then
      log "$HEALTH_URL reports release $1"
      return 0
    fi
    sleep 1
  done
  log "$HEALTH_URL did not report release $1 within ${TIMEOUT}s"
  return 1
}

# Keep the newest $KEEP releases (names sort by time), never the current one; then the
# virtualenvs no release links to any more.
prune() {
  local current count name
  current=$(current_name)
  count=$(releases | wc -l)
  for name in $(releases); do
    [ "$count" -gt "$KEEP" ] || break
    if [ "$name" != "$current" ]; then
      log "removing old release $name"
      rm -rf "${ROOT:?}/releases/$name"
      count=$((count - 1))
    fi
  done
  local venv used
  used=$(for name in $(releases); do readlink -f "$ROOT/releases/$name/.venv" || true; done)
  for venv in "$ROOT"/shared/venvs/*; do
    [ -d "$venv" ] || continue
    grep -qxF "$(readlink -f "$venv")" <<<"$used" || { log "removing unused virtualenv $(basename "$venv")"; rm -rf "$venv"; }
  done
}

# Go back to $1 after $2 failed: switch, restart, wait.
fall_back() {
  local previous=$1 failed=$2
  if [ -z "$previous" ]; then
    log "no previous release to fall back to; $failed stays current but unhealthy"
    return 1
  fi
  log "rolling back to $previous"
  switch_to "$previous"
  restart_services
  wait_until_served "$previous" || log "the previous release $previous does not report healthy either"
}

deploy() {
  local artifact="$ROOT/incoming/$ARTIFACT" stage commit name dir previous venv
  [ -f "$artifact" ] || die "$artifact was not uploaded"
  stage=$(mktemp -d "$ROOT/releases/.unpack.XXXXXX")
  tar -xzf "$artifact" -C "$stage" --strip-components=1
  commit=$(sed -n 's/^commit=//p' "$stage/RELEASE")
  [ -n "$commit" ] || { rm -rf "$stage"; die "the artifact has no RELEASE commit (not built by make dist?)"; }
  name="$(date -u +%Y%m%dT%H%M%SZ)-${commit:0:12}"
  dir="$ROOT/releases/$name"
  [ ! -e "$dir" ] || { rm -rf "$stage"; die "$dir already exists"; }
  mv "$stage" "$dir"
  chmod 755 "$dir"
  echo "name=$name" >>"$dir/RELEASE"
  log "unpacked $ARTIFACT into releases/$name"

  venv=$(ensure_venv "$dir/requirements.lock")
  ln -s "$venv" "$dir/.venv"
  ln -s ../../shared/var "$dir/var"
  ln -s ../../shared/env "$dir/.env"

  # Before the switch, while the previous release serves: its code must work on the migrated
  # schema, so migrations are backward compatible (docs/runbook.md, "Migrations").
  log "applying migrations"
  manage "$dir" migrate --no-input
  collect_static "$dir" "$(current_name)"

  previous=$(current_name)
  switch_to "$name"
  restart_services
  if wait_until_served "$name"; then
    rm -f "$artifact"
    prune
    log "release $name deployed"
    return 0
  fi
  fall_back "$previous" "$name" || true
  log "removing failed release $name"
  rm -rf "${ROOT:?}/releases/$name"
  rm -f "$artifact"
  die "deploy of $name failed; ${previous:-nothing} is current"
}

rollback() {
  local current previous
  current=$(current_name)
  [ -n "$current" ] || die "no current release"
  previous=$(releases | awk -v current="$current" '$0 < current' | tail -n 1)
  [ -n "$previous" ] || die "no release older than $current to roll back to"
  log "rolling back from $current to $previous"
  switch_to "$previous"
  restart_services
  if wait_until_served "$previous"; then
    log "release $previous serves again ($current is kept; the next deploy replaces it)"
    return 0
  fi
  fall_back "$current" "$previous" || true
  die "rollback to $previous failed; $current is current again"
}

case $ACTION in
  deploy) deploy ;;
  rollback) rollback ;;
  *) usage ;;
esac
