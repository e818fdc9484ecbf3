#!/usr/bin/env bash
# API conformance: serves the api-server on a throwaway database and runs
# schemathesis against its /openapi.json (examples, coverage and fuzzing per
# operation, then stateful sequences over the inferred links), once as a
# USER and once as the ADMIN. Any failed check fails the run.
#   scripts/with-postgres bash tests/api-spec/run.sh   # a throwaway PostgreSQL
#   tests/api-spec/run.sh                              # the server in DATABASE_URL
# Optional: API_SERVER_BIN (skip the build), API_SPEC_MAX_EXAMPLES (default
# 50 per operation), API_SPEC_SEED (default 1, so a run can be repeated),
# ADMIN_EMAIL and ADMIN_PASSWORD.
set -euo pipefail
repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo_root"
here=tests/api-spec

: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL server, or run under scripts/with-postgres}"

venv="$repo_root/.venv-api-spec"
requirements="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
# Reinstall only when requirements.txt changed since the last install.
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$wanted" >"$stamp"
fi
python="$venv/bin/python"

if [[ -z "${API_SERVER_BIN:-}" ]]; then
  # As scripts/test: queries are checked against the committed .sqlx/ data.
  SQLX_OFFLINE="${SQLX_OFFLINE:-true}" cargo build --locked -p api-server --bin api-server
  API_SERVER_BIN="${CARGO_TARGET_DIR:-$repo_root/target}/debug/api-server"
fi

psql_bin=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
database="liveops_api_spec_$$"
database_url="${DATABASE_URL%/*}/$database"
work=$(mktemp -d /tmp/liveops-api-spec.XXXXXX)
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  "$psql_bin" "$DATABASE_URL" -qc "drop database if exists $database with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"$psql_bin" "$DATABASE_URL" -qc "create database $database"

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base_url="http://127.0.0.1:$port"
admin_email="${ADMIN_EMAIL:-spec-admin@example.com}"
admin_password="${ADMIN_PASSWORD:-spec-admin-password}"
# Rate limits off: schemathesis sends hundreds of logins, signups, claims
# and mails. SMTP_URL unset: mails go to the server's log.
env DATABASE_URL="$database_url" \
  JWT_SECRET="$("$python" -c 'import secrets; print(secrets.token_urlsafe(48))')" \
  LISTEN_ADDR="127.0.0.1:$port" METRICS_ADDR=127.0.0.1:0 \
  ADMIN_EMAIL="$admin_email" ADMIN_PASSWORD="$admin_password" \
  RATE_LIMIT_LOGIN_PER_MINUTE=0 RATE_LIMIT_SIGNUP_PER_MINUTE=0 RATE_LIMIT_CLAIMS_PER_MINUTE=0 RATE_LIMIT_MAIL_PER_MINUTE=0 \
  RATE_LIMIT_TOKEN_FAILURES_PER_MINUTE=0 \
  RUST_LOG="${RUST_LOG:-warn}" LOG_FORMAT=json \
  "$API_SERVER_BIN" serve >"$work/server.log" 2>&1 &
server_pid=$!

read -r user_token admin_token < <("$python" "$here/prepare.py" --base-url "$base_url" \
  --admin-email "$admin_email" --admin-password "$admin_password") || {
  echo "api-spec: the server did not come up; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
}
# The migrations have run by now (the server applies them before it serves).
"$psql_bin" "$database_url" -q -v ON_ERROR_STOP=1 -f "$here/seed.sql"

status=0
for role in USER ADMIN; do
  if [[ $role == USER ]]; then token=$user_token; else token=$admin_token; fi
  echo "==> schemathesis as $role"
  # From the scratch directory: Hypothesis keeps files in the working directory.
  (cd "$work" && "$venv/bin/st" --config-file "$repo_root/$here/schemathesis.toml" run "$base_url/openapi.json" \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "${API_SPEC_MAX_EXAMPLES:-50}" --seed "${API_SPEC_SEED:-1}" \
    --header "Authorization: Bearer $token" \
    --request-timeout 10 --no-color) || status=1
done

# A 500 is a bug even where schemathesis let it pass: show what the server logged.
if grep -q '"level":"ERROR"' "$work/server.log"; then
  echo "api-spec: the server logged errors:" >&2
  grep '"level":"ERROR"' "$work/server.log" | head -n 50 >&2
  status=1
fi
exit "$status"
