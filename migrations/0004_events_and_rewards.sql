-- Events and rewards as projected by the operator from the Event and
-- Reward custom resources (DESIGN.md, "Custom resources"). The cluster owns
-- the definitions; the API only reads these rows, except `claimed`, which
-- only the claim transaction writes.

create type event_phase as enum ('Scheduled', 'Active', 'Ended', 'Suspended', 'Invalid');
create type claim_frequency as enum ('Once', 'Daily', 'Weekly');

create table events (
    -- the object's uid in a cluster; a UUIDv5 of namespace/name in manifests mode
    id               uuid primary key,
    namespace        text            not null,
    name             text            not null,
    display_name     text            not null,
    description      text            not null default '',
    starts_at        timestamptz     not null,
    ends_at          timestamptz     not null,
    -- IANA zone that defines a "day" for streaks and Daily/Weekly periods
    time_zone        text            not null default 'UTC',
    -- the CRD's one-of object, e.g. {"loginStreak": {"days": 7}}; {} = none
    condition        jsonb           not null default '{}'::jsonb,
    claim_frequency  claim_frequency not null default 'Once',
    suspended        boolean         not null default false,
    -- event-wide cap on successful claims (the seed's maxRewardCount)
    max_claims       integer check (max_claims >= 1),
    claims_total     integer         not null default 0 check (claims_total >= 0),
    -- as the operator last wrote it; the claim transaction decides by time
    phase            event_phase     not null,
    generation       bigint          not null,
    deleted_at       timestamptz,
    created_at       timestamptz     not null default now(),
    updated_at       timestamptz     not null default now(),
    constraint events_window check (ends_at > starts_at)
);
create unique index events_live_name_key on events (namespace, name) where deleted_at is null;

create table rewards (
    id              uuid primary key,
    event_id        uuid        not null references events (id),
    namespace       text        not null,
    name            text        not null,
    display_name    text        not null,
    description     text        not null default '',
    -- total stock from the spec; null = unlimited
    quantity        integer check (quantity >= 0),
    -- successful claims so far; written only by the claim transaction, so
    -- editing `quantity` in YAML never resets it
    claimed         integer     not null default 0 check (claimed >= 0),
    per_user_limit  integer     not null default 1 check (per_user_limit >= 1),
    payload         jsonb,
    generation      bigint      not null,
    deleted_at      timestamptz,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create unique index rewards_live_name_key on rewards (namespace, name) where deleted_at is null;
create index rewards_event_idx on rewards (event_id);

-- Status of resources loaded by `operator --manifests DIR`, where there is
-- no API server to hold it. One row per object.
create table resource_status (
    kind       text        not null,
    namespace  text        not null,
    name       text        not null,
    status     jsonb       not null,
    updated_at timestamptz not null default now(),
    primary key (kind, namespace, name)
);
