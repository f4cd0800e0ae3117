#!/usr/bin/env bash
# Reset this checkout's demo (stop `make run` first): drop its database, empty its Redis
# database, forget its demo credentials. The next `make run` seeds a new demo. Another
# checkout's demo is never touched: the names come from this checkout's .demo/checkout.env
# only (never from DATABASE_URL / REDIS_URL in the shell, which may point anywhere).
set -euo pipefail
cd "$(dirname "$0")/.."

FILE=.demo/checkout.env
value() { sed -n "s/^$1=//p" "$FILE" 2>/dev/null; }
DATABASE_URL=$(value DATABASE_URL)
REDIS_URL=$(value REDIS_URL)
if [[ -z "$DATABASE_URL" || -z "$REDIS_URL" ]]; then
  echo "No demo to reset here ($FILE is missing: make run creates it)." >&2
  exit 0
fi

db=${DATABASE_URL##*/}
db=${db%%\?*}
redis_db=${REDIS_URL##*/}
if [[ "$db" == addon_partner || "$redis_db" == 0 ]]; then
  # the shared defaults of older checkouts: refuse rather than reset someone else's demo
  echo "Refusing to reset the shared default database/Redis ($db, $redis_db): set them in $FILE." >&2
  exit 1
fi

dropdb -h 127.0.0.1 -U postgres --if-exists --force "$db"
redis-cli -u "$REDIS_URL" flushdb >/dev/null
rm -f .demo/credentials.json var/celerybeat-schedule*
echo "demo reset: database $db dropped, Redis database $redis_db emptied, .demo/credentials.json removed"
