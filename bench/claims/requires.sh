#!/usr/bin/env bash
# Claim statement with and without `Reward.spec.requires` (issue 12): the
# claim statement `api-server/src/claim/sql/decide.sql`, sent raw by pgbench
# (prepared, as sqlx sends it), on 60 rewards without requirements and on
# 60 rewards each requiring {allOf: [wins >= 1, anyOf: [logins >= 3,
# claimed: starter]]} that every user meets (so both runs grant and write
# the same rows), alternating plain / requires ROUNDS times. The HTTP layer
# adds the same work to both, so the statement is where the difference is.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/claims/requires.sh
#
# Environment: CONNECTIONS (32), DURATION_SECS (10), ROUNDS (2), USERS (1000).
# Makes and drops its own database `liveops_bench_requires_<pid>`.
set -euo pipefail
cd "$(dirname "$0")/../.."

connections=${CONNECTIONS:-32}
duration=${DURATION_SECS:-10}
rounds=${ROUNDS:-2}
users=${USERS:-1000}
server=${DATABASE_URL:?set DATABASE_URL to a PostgreSQL server}
db=liveops_bench_requires_$$
url="${server%/*}/$db"
work=$(mktemp -d)
cleanup() { psql "$server" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

psql "$server" -qc "create database $db"
for f in migrations/*.sql; do psql "$url" -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null; done

psql "$url" -q -v ON_ERROR_STOP=1 <<SQL
insert into events (id, namespace, name, display_name, starts_at, ends_at, phase, generation)
values ('00000000-0000-4000-9000-000000000001', 'bench', 'requires-bench', 'Requires benchmark',
        now() - interval '1 minute', now() + interval '1 day', 'Active', 1);
insert into users (id, email, password_hash, birth_date, invite_code)
select ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid,
       'bench-' || n || '@example.com', 'no-login', '1990-01-01', 'BENCH' || n
from generate_series(0, $users - 1) as n;
-- plain: 9100-..., requires: 9200-... (60 each), plus the starter reward
insert into rewards (id, event_id, namespace, name, display_name, per_user_limit, generation, requires)
select ('00000000-0000-4000-' || kind || '-' || lpad(n::text, 12, '0'))::uuid,
       '00000000-0000-4000-9000-000000000001', 'bench', kind || '-' || n, 'Reward', 2147483647, 1,
       case when kind = '9200' then '{"allOf": [{"counter": {"name": "wins", "atLeast": 1}},
           {"anyOf": [{"counter": {"name": "logins", "atLeast": 3}}, {"claimed": {"reward": "starter"}}]}]}'::jsonb end
from generate_series(0, 59) as n, (values ('9100'), ('9200')) as k(kind);
insert into counters (id, namespace, name, event_id, display_name, aggregation, generation)
values (gen_random_uuid(), 'bench', 'wins', '00000000-0000-4000-9000-000000000001', 'Wins', 'Sum', 1),
       (gen_random_uuid(), 'bench', 'logins', '00000000-0000-4000-9000-000000000001', 'Logins', 'Sum', 1);
insert into counter_values (counter_id, user_id, period_key, value)
select k.id, u.id, 'event', 5 from counters k, users u;
analyze;
SQL

# The statement with pgbench variables for its parameters: $1 the reward
# (plain or requires series), $2 a random user, no verified condition, no
# key, a fresh claim id, a 24 h key lifetime.
statement() {
  local series=$1
  echo '\set r random(0, 59)'
  echo "\\set u random(0, $((users - 1)))"
  sed -e "s/\\\$1/('00000000-0000-4000-$series-' || lpad(:r::text, 12, '0'))::uuid/g" \
      -e "s/\\\$2/('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid/g" \
      -e 's/\$3/null::int8/g' -e 's/\$4::text/null::text/g' -e 's/\$5/gen_random_uuid()/g' \
      -e 's/\$6/86400/g' -e 's/--.*$//' api-server/src/claim/sql/decide.sql | tr '\n' ' '
  echo ';'
}
statement 9100 >"$work/plain.sql"
statement 9200 >"$work/requires.sql"

run() {
  pgbench -n -M prepared -c "$connections" -j 2 -T "$duration" -f "$work/$1.sql" "$url" 2>&1 |
    awk '/tps = / {print $3; exit}'
}
total_plain=0
total_requires=0
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) = 1 ]; then plain=$(run plain); requires=$(run requires)
  else requires=$(run requires); plain=$(run plain); fi
  echo "round $round: plain $plain claims/s, requires $requires claims/s"
  total_plain=$(echo "$total_plain + $plain" | bc -l)
  total_requires=$(echo "$total_requires + $requires" | bc -l)
done
granted=$(psql "$url" -qAt -c "select count(*) from claims where status = 'success'")
refused=$(psql "$url" -qAt -c "select count(*) from claims where status = 'failed'")
echo "granted $granted, refused $refused (expected 0)"
printf 'requires / plain: %.3f\n' "$(echo "$total_requires / $total_plain" | bc -l)"
