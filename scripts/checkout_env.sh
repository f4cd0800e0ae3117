#!/usr/bin/env bash
# Give this checkout its own database and Redis database, once: write .demo/checkout.env
# (read by config/env.py in development, and by scripts/services.sh). Two checkouts on one
# machine then never share a demo: no staff password reset, no secret rotated, no provider
# connection repointed, no Celery queue or remote-control (pidbox) message crossed — Celery's
# queues and control channel live in the broker's Redis database.
#
#   database: addon_partner_<first 10 hex digits of sha256(checkout path)>
#   Redis:    the first database from 1 to (databases − 3) that is empty and not claimed by
#             another existing checkout (claims are keys addon-partner:checkout-redis-db:<n> in
#             Redis database 0, the claims' home; the last two databases belong to the test suite,
#             one per parallel worker: tests/parallel.py).
# Idempotent: an existing file is kept (edit it to choose other values) and its claim renewed.
set -euo pipefail
cd "$(dirname "$0")/.."

FILE=.demo/checkout.env
ROOT=$(pwd -P)
REDIS=(redis-cli -h 127.0.0.1 -p 6379)
CLAIM=addon-partner:checkout-redis-db

redis_db_of() { sed -n 's|^REDIS_URL=redis://[^/]*/\([0-9][0-9]*\)$|\1|p' "$FILE"; }

owner_of() { "${REDIS[@]}" -n 0 get "$CLAIM:$1"; }

claim() {  # claim <n> [fresh]: take database n unless another live checkout holds it
  local owner
  owner=$(owner_of "$1")
  if [[ -n "$owner" && "$owner" != "$ROOT" && -d "$owner" ]]; then
    return 1  # claimed by a checkout that still exists (a claim of a deleted one is taken over)
  fi
  if [[ "${2:-}" == fresh && "$owner" != "$ROOT" && "$("${REDIS[@]}" -n "$1" dbsize)" != 0 ]]; then
    return 1  # not claimed, but in use (a test run, another tool): leave it alone
  fi
  if [[ -z "$owner" ]]; then
    "${REDIS[@]}" -n 0 set "$CLAIM:$1" "$ROOT" NX >/dev/null
  else
    "${REDIS[@]}" -n 0 set "$CLAIM:$1" "$ROOT" >/dev/null
  fi
  [[ "$(owner_of "$1")" == "$ROOT" ]]
}

if [[ -f "$FILE" ]]; then
  db=$(redis_db_of)
  if [[ -n "$db" ]] && ! claim "$db"; then
    echo "Redis database $db of $FILE is claimed by another checkout: $(owner_of "$db")" >&2
    echo "Delete $FILE (and run make reset-demo) to get a free one." >&2
    exit 1
  fi
  exit 0
fi

count=$("${REDIS[@]}" config get databases | tail -n 1)
db=""
for n in $(seq 1 $((count - 3))); do
  if claim "$n" fresh; then db=$n; break; fi
done
[[ -n "$db" ]] || { echo "No free Redis database for this checkout (all $((count - 3)) claimed)" >&2; exit 1; }

id=$(printf '%s' "$ROOT" | sha256sum | cut -c1-10)
mkdir -p -m 700 .demo
cat >"$FILE" <<EOF
# This checkout's own services (written once by scripts/checkout_env.sh for $ROOT).
# Read by config/env.py in development; the process environment wins over these lines.
DATABASE_URL=postgres://postgres@127.0.0.1:5432/addon_partner_$id
REDIS_URL=redis://127.0.0.1:6379/$db
EOF
echo "this checkout uses database addon_partner_$id and Redis database $db ($FILE)"
