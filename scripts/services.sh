#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on this machine; start them when they are down,
# then create the database: the one named as the first argument, else DATABASE_URL's, else
# this checkout's own (scripts/checkout_env.sh). Idempotent; used by `make run` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}

if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
  echo "PostgreSQL is down: starting it"
  version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "${version:-15}" main start
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
fi
pg_isready -q -h "$PGHOST" -p "$PGPORT" || { echo "PostgreSQL did not start" >&2; exit 1; }

# The suite runs on two workers, and its concurrency tests open 50 connections each (threads, or
# gunicorn behind them): PostgreSQL's default of 100 connections is too few for two at once. A
# local server of this machine is raised to PG_MIN_CONNECTIONS (restarted once, when it is lower).
PG_MIN_CONNECTIONS=${PG_MIN_CONNECTIONS:-300}
current=$(psql -h "$PGHOST" -p "$PGPORT" -U postgres -tAc "SHOW max_connections")
if [[ "$PGHOST" == 127.0.0.1 && "$current" -lt "$PG_MIN_CONNECTIONS" ]]; then
  echo "PostgreSQL allows $current connections: raising it to $PG_MIN_CONNECTIONS (restart)"
  psql -h "$PGHOST" -p "$PGPORT" -U postgres -qc "ALTER SYSTEM SET max_connections = $PG_MIN_CONNECTIONS"
  version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "${version:-15}" main restart
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
  pg_isready -q -h "$PGHOST" -p "$PGPORT" || { echo "PostgreSQL did not come back" >&2; exit 1; }
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Redis is down: starting it"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "Redis did not start" >&2; exit 1; }

if [[ $# -ge 1 ]]; then
  DB_NAME=$1
else
  if [[ -z "${DATABASE_URL:-}" ]]; then
    scripts/checkout_env.sh
    DATABASE_URL=$(sed -n 's/^DATABASE_URL=//p' .demo/checkout.env)
  fi
  DB_NAME=${DATABASE_URL##*/}
  DB_NAME=${DB_NAME%%\?*}
fi

if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
  createdb -h "$PGHOST" -p "$PGPORT" -U postgres "$DB_NAME"
  echo "created database $DB_NAME"
fi
