#!/usr/bin/env bash
# Claims benchmark (issue 14): POST /claims/{rewardId}/claim under
# concurrent load in three scenarios, each against a same-run baseline on
# the same database: hot (one reward) and spread (60 rewards of one event)
# against the same grant sent by pgbench as a naive six-round-trip
# transaction (hot also against the claim statement sent raw), and storm (a
# reward of stock 100, sold out during the warm-up: answers/s against the
# hot granting rate). Prints claims/s, ratios, p50 and p99 latency. Run by
# hand (not by CI), from anywhere:
#
#   bench/claims/run.sh                     # 32 connections, 10 s each
#   CONNECTIONS=64 DURATION_SECS=20 bench/claims/run.sh
#
# Everything is throwaway and on loopback: a PostgreSQL started by
# scripts/with-postgres (fsync off, as for tests: both runs share it), a
# release api-server on a random port with rate limits off, an event with no
# condition and a reward with unlimited stock and a perUserLimit large enough
# that every user can keep claiming, users signed up through the API for the
# HTTP run and inserted directly (one per pgbench client) for the raw run.
#
# Environment: CONNECTIONS (32), DURATION_SECS (10), WARMUP_SECS (2),
# API_POOL (DATABASE_MAX_CONNECTIONS of the api-server; default 20, the
# server's own default: claims on one reward are admitted four at a time by
# api-server/src/claim/admission.rs whatever the pool size), API_SERVER_BIN
# (default target/release/api-server: another build, e.g. main's, to
# compare before and after on one machine state), SKIP_BUILD (set: use the
# binaries as built).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${LIVEOPS_BENCH_DB:-}" ]; then
  # Never the developer's DATABASE_URL: always a throwaway server.
  exec env -u DATABASE_URL LIVEOPS_BENCH_DB=1 scripts/with-postgres "$0" "$@"
fi

connections=${CONNECTIONS:-32}
duration=${DURATION_SECS:-10}
warmup=${WARMUP_SECS:-2}
api_pool=${API_POOL:-20}
work_dir=target/bench-claims
mkdir -p "$work_dir"

# Queries are checked against the committed .sqlx/ data when present,
# otherwise against the database named in .env (never the throwaway one,
# which is not migrated yet).
if [ -d .sqlx ]; then export SQLX_OFFLINE=${SQLX_OFFLINE:-true}; fi
if [ -z "${SKIP_BUILD:-}" ]; then
  # both packages in one invocation: the same feature set as a plain
  # `cargo build --release -p api-server -p liveops-bench`, so nothing is rebuilt
  env -u DATABASE_URL cargo build --release -p api-server -p liveops-bench --bin api-server --bin claims_bench
fi

port=$((20000 + RANDOM % 20000))
# The ADMIN that lists the ledger in the history scenario.
admin_email=bench-admin@example.com
admin_password=$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')
api_url="http://127.0.0.1:$port"
DATABASE_URL=$DATABASE_URL \
JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=') \
LISTEN_ADDR=127.0.0.1:$port \
RATE_LIMIT_LOGIN_PER_MINUTE=0 \
RATE_LIMIT_SIGNUP_PER_MINUTE=0 \
RATE_LIMIT_CLAIMS_PER_MINUTE=0 \
ADMIN_EMAIL=$admin_email \
ADMIN_PASSWORD=$admin_password \
DATABASE_MAX_CONNECTIONS=$api_pool \
RUST_LOG=${RUST_LOG:-warn} \
  "${API_SERVER_BIN:-target/release/api-server}" >"$work_dir/api-server.log" 2>&1 &
api_pid=$!
stop_api() { kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; }
trap stop_api EXIT

# The server migrates the database at start-up; wait until it is ready.
deadline=$((SECONDS + 60))
until curl -fsS "$api_url/readyz" >/dev/null 2>&1; do
  if [ $SECONDS -ge $deadline ] || ! kill -0 "$api_pid" 2>/dev/null; then
    echo "run.sh: the api-server did not become ready:" >&2
    cat "$work_dir/api-server.log" >&2
    exit 1
  fi
  sleep 0.2
done

reward_id=$(psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -qAt <<SQL
insert into events (id, namespace, name, display_name, starts_at, ends_at, phase, generation)
values ('00000000-0000-4000-9000-000000000001', 'bench', 'claims-bench', 'Claims benchmark',
        now() - interval '1 minute', now() + interval '1 day', 'Active', 1);
-- pgbench client n claims as user 00000000-0000-4000-8000-<n in 12 digits>
insert into users (id, email, password_hash, birth_date, invite_code)
select ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid,
       'pgbench-' || n || '@example.com', 'no-login', '1990-01-01', 'PGBENCH' || n
from generate_series(0, $connections - 1) as n;
insert into rewards (id, event_id, namespace, name, display_name, quantity, per_user_limit, generation)
values ('00000000-0000-4000-9000-000000000002', '00000000-0000-4000-9000-000000000001',
        'bench', 'claims-bench-reward', 'Benchmark reward', null, 2147483647, 1);
-- spread: 60 rewards of the same event (ids in bench/src/claim_statement.rs)
insert into rewards (id, event_id, namespace, name, display_name, quantity, per_user_limit, generation)
select ('00000000-0000-4000-9100-' || lpad(n::text, 12, '0'))::uuid, '00000000-0000-4000-9000-000000000001',
       'bench', 'spread-' || n, 'Spread reward ' || n, null, 2147483647, 1
from generate_series(0, 59) as n;
-- storm: stock 100, sold out during the storm's warm-up
insert into rewards (id, event_id, namespace, name, display_name, quantity, per_user_limit, generation)
values ('00000000-0000-4000-9000-000000000003', '00000000-0000-4000-9000-000000000001',
        'bench', 'storm-reward', 'Storm reward', 100, 2147483647, 1);
select '00000000-0000-4000-9000-000000000002';
SQL
)

target/release/claims_bench \
  --api-url "$api_url" \
  --database-url "$DATABASE_URL" \
  --reward-id "$reward_id" \
  --spread \
  --storm-reward-id 00000000-0000-4000-9000-000000000003 \
  --admin-email "$admin_email" \
  --admin-password "$admin_password" \
  --connections "$connections" \
  --duration-secs "$duration" \
  --warmup-secs "$warmup" \
  --work-dir "$work_dir"

psql "$DATABASE_URL" -qAt -c "select 'hot reward: ' || count(*) || ' claims recorded, claimed counter ' || (select claimed from rewards where id = '$reward_id') from claims where status = 'success' and reward_id = '$reward_id'"
