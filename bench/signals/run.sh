#!/usr/bin/env bash
# Signals benchmark (issue 12): signals ingested per second through
# POST /signals (CONNECTIONS connections, batches of BATCH fresh Sum
# signals) against the same batch statement sent raw by pgbench, on the
# same database in the same run; prints both rates and their ratio. Run by
# hand (not by CI), from anywhere:
#
#   bench/signals/run.sh                       # 32 connections, batches of 100, 10 s
#   CONNECTIONS=64 DURATION_SECS=20 bench/signals/run.sh
#
# Everything is throwaway and on loopback: a PostgreSQL started by
# scripts/with-postgres, a release api-server on a random port, an event
# with one unbounded Sum counter, an IngestClient allowed to feed it with a
# budget no run reaches, and USERS users inserted directly.
#
# Environment: CONNECTIONS (32), BATCH (100), USERS (1000), DURATION_SECS
# (10), WARMUP_SECS (2), API_POOL (20), API_SERVER_BIN (default
# target/release/api-server), BENCH_BIN (default target/release/signals_bench),
# SKIP_BUILD (set: use the binaries as built).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${LIVEOPS_BENCH_DB:-}" ]; then
  # Never the developer's DATABASE_URL: always a throwaway server.
  exec env -u DATABASE_URL LIVEOPS_BENCH_DB=1 scripts/with-postgres "$0" "$@"
fi

connections=${CONNECTIONS:-32}
batch=${BATCH:-100}
users=${USERS:-1000}
work_dir=target/bench-signals
mkdir -p "$work_dir"

if [ -d .sqlx ]; then export SQLX_OFFLINE=${SQLX_OFFLINE:-true}; fi
if [ -z "${SKIP_BUILD:-}" ]; then
  env -u DATABASE_URL cargo build --release -p api-server -p liveops-bench --bin api-server --bin signals_bench
fi

port=$((20000 + RANDOM % 20000))
api_url="http://127.0.0.1:$port"
DATABASE_URL=$DATABASE_URL \
JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=') \
LISTEN_ADDR=127.0.0.1:$port \
METRICS_ADDR=127.0.0.1:0 \
DATABASE_MAX_CONNECTIONS=${API_POOL:-20} \
RUST_LOG=${RUST_LOG:-warn} \
  "${API_SERVER_BIN:-target/release/api-server}" >"$work_dir/api-server.log" 2>&1 &
api_pid=$!
stop_api() { kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; }
trap stop_api EXIT

deadline=$((SECONDS + 60))
until curl -fsS "$api_url/readyz" >/dev/null 2>&1; do
  if [ $SECONDS -ge $deadline ] || ! kill -0 "$api_pid" 2>/dev/null; then
    echo "run.sh: the api-server did not become ready:" >&2
    cat "$work_dir/api-server.log" >&2
    exit 1
  fi
  sleep 0.2
done

secret=$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')
psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q <<SQL
insert into events (id, namespace, name, display_name, starts_at, ends_at, phase, generation, claim_frequency)
values ('00000000-0000-4000-9000-000000000001', 'bench', 'signals-bench', 'Signals benchmark',
        now() - interval '1 day', now() + interval '1 day', 'Active', 1, 'Daily');
insert into counters (id, namespace, name, event_id, display_name, aggregation, generation)
values ('00000000-0000-4000-9000-000000000002', 'bench', 'bench-kills',
        '00000000-0000-4000-9000-000000000001', 'Kills', 'Sum', 1);
insert into ingest_clients (id, namespace, name, secret_hashes, counters, signals_per_minute, generation)
values ('00000000-0000-4000-9000-000000000003', 'bench', 'bench-server',
        array[sha256(convert_to('$secret', 'UTF8'))], '{bench-kills}', 2000000000, 1);
insert into users (id, email, password_hash, birth_date, invite_code)
select ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid,
       'bench-' || n || '@example.com', 'no-login', '1990-01-01', 'BENCH' || n
from generate_series(0, $users - 1) as n;
SQL

"${BENCH_BIN:-target/release/signals_bench}" \
  --api-url "$api_url" \
  --database-url "$DATABASE_URL" \
  --client-row 00000000-0000-4000-9000-000000000003 \
  --client-id bench/bench-server \
  --client-secret "$secret" \
  --users "$users" \
  --connections "$connections" \
  --batch "$batch" \
  --duration-secs "${DURATION_SECS:-10}" \
  --warmup-secs "${WARMUP_SECS:-2}" \
  --work-dir "$work_dir"
