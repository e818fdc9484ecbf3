-- Refresh-token families (rotation with reuse detection) and the shared
-- rate-limit counters that every API replica reads and writes.

-- One family per login; every rotation adds a token to it. Presenting a
-- token that was already rotated revokes the whole family.
create table refresh_token_families (
    id         uuid primary key default gen_random_uuid(),
    user_id    uuid        not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);
create index refresh_token_families_user_idx on refresh_token_families (user_id);

create table refresh_tokens (
    -- SHA-256 of the opaque token; the token itself is never stored
    token_hash bytea primary key,
    family_id  uuid        not null references refresh_token_families (id) on delete cascade,
    issued_at  timestamptz not null default now(),
    expires_at timestamptz not null,
    -- set when this token is exchanged for its successor
    rotated_at timestamptz
);
create index refresh_tokens_family_idx on refresh_tokens (family_id);

-- Fixed-window counters: one row per (bucket, window start). Old windows
-- are deleted opportunistically by the API.
create table rate_limit_counters (
    bucket       text        not null,
    window_start timestamptz not null,
    hits         integer     not null default 0,
    primary key (bucket, window_start)
);
