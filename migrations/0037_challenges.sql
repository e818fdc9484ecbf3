-- Challenges (issue 12; DESIGN.md, "Second stage", "Challenges"): counters
-- fed by game servers, the clients allowed to feed them, event windows
-- (`announceAt`, `claimUntil`, `claimPolicy.resetAt`) and reward
-- requirements. The operator projects Counter and IngestClient objects into
-- `counters` and `ingest_clients`; `POST /signals` writes `counter_signals`,
-- `counter_values` and `counter_days`; the claim statement reads them.

-- Event windows: listed (as Scheduled) from `announce_at`, hidden before;
-- claims still work after `ends_at` until `claim_until` while counting has
-- stopped; Daily/Weekly periods turn over at local `reset_at`.
alter table events
    add column announce_at timestamptz,
    add column claim_until timestamptz,
    add column reset_at    time not null default '00:00',
    add constraint events_announce_before_start check (announce_at is null or announce_at <= starts_at),
    add constraint events_claim_until_after_end check (claim_until is null or claim_until >= ends_at);

-- `Reward.spec.requires` as the CRD holds it ({"allOf": [...]} or
-- {"anyOf": [...]}); null = no requirement.
alter table rewards add column requires jsonb;

-- The local day an instant falls on in `zone` when days start at local
-- `reset_at`: wall-clock arithmetic, so a reset hour stays put across DST.
create function liveops_period_day(zone text, reset_at time, at timestamptz) returns date
    language sql stable parallel safe
    return ((at at time zone zone) - reset_at)::date;

-- The claim period an instant falls in: 'once', a local day 'YYYY-MM-DD' or
-- an ISO week 'IYYY-"W"IW' (weeks start on Monday at `reset_at`).
create function liveops_period_key(frequency claim_frequency, zone text, reset_at time, at timestamptz)
    returns text
    language sql stable parallel safe
    return case frequency
        when 'Once' then 'once'
        when 'Daily' then to_char(liveops_period_day(zone, reset_at, at), 'YYYY-MM-DD')
        else to_char(liveops_period_day(zone, reset_at, at), 'IYYY-"W"IW')
    end;

-- The first local day of the period after the one holding `at`; null for 'Once'.
create function liveops_next_period_day(frequency claim_frequency, zone text, reset_at time, at timestamptz)
    returns date
    language sql stable parallel safe
    return case frequency
        when 'Once' then null
        when 'Daily' then liveops_period_day(zone, reset_at, at) + 1
        else date_trunc('week', liveops_period_day(zone, reset_at, at))::date + 7
    end;

-- When the period holding `at` ends (the next reset); null for 'Once'. The
-- first instant whose period day is the next period's: normally that day at
-- `reset_at`, but when the reset time falls in a DST gap it is the jump
-- (on the hour or a quarter past it), and when it occurs twice (the clocks
-- go back) it is the first occurrence.
create function liveops_period_ends_at(frequency claim_frequency, zone text, reset_at time, at timestamptz)
    returns timestamptz
    language sql stable parallel safe
    return (
        select min(candidate)
        from (select (liveops_next_period_day(frequency, zone, reset_at, at) + reset_at) at time zone zone
                  as naive) next_reset,
             unnest(array[naive - interval '1 hour', naive, date_trunc('hour', naive),
                          date_trunc('hour', naive) + interval '15 minutes',
                          date_trunc('hour', naive) + interval '30 minutes',
                          date_trunc('hour', naive) + interval '45 minutes']) as candidate
        where candidate <= naive
          and liveops_period_day(zone, reset_at, candidate)
              >= liveops_next_period_day(frequency, zone, reset_at, at)
    );

create type counter_aggregation as enum ('Sum', 'Max', 'DistinctDays');

create table counters (
    -- the object's uid in a cluster; a UUIDv5 of namespace/name in manifests mode
    id           uuid primary key,
    namespace    text                not null,
    name         text                not null,
    -- counting happens in this event's window; fixed for the counter's life
    event_id     uuid                not null references events (id),
    display_name text                not null,
    description  text                not null default '',
    aggregation  counter_aggregation not null,
    -- bounds of one signal's `delta` (Sum) or `value` (Max); null for DistinctDays
    min_amount   bigint,
    max_amount   bigint,
    generation   bigint              not null,
    deleted_at   timestamptz,
    created_at   timestamptz         not null default now(),
    updated_at   timestamptz         not null default now(),
    constraint counters_namespace_name_key unique (namespace, name),
    constraint counters_bounds check (min_amount is null or max_amount is null or min_amount <= max_amount)
);
create index counters_event_idx on counters (event_id);

create table ingest_clients (
    id                 uuid primary key,
    namespace          text        not null,
    name               text        not null,
    -- SHA-256 digests (32 bytes each) of the accepted secrets; two during rotation
    secret_hashes      bytea[]     not null check (cardinality(secret_hashes) between 1 and 2),
    -- names of the counters (same namespace) this client may feed
    counters           text[]      not null default '{}',
    signals_per_minute integer     not null default 60000 check (signals_per_minute >= 1),
    suspended          boolean     not null default false,
    generation         bigint      not null,
    deleted_at         timestamptz,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    constraint ingest_clients_namespace_name_key unique (namespace, name)
);

-- Every signal ever counted, by its id: the primary key is what makes a
-- signal count once however often or concurrently it is posted.
create table counter_signals (
    counter_id  uuid        not null references counters (id),
    signal_id   text        not null,
    user_id     uuid        not null references users (id),
    client_id   uuid        not null references ingest_clients (id),
    occurred_at timestamptz not null,
    -- `delta` (Sum) or `value` (Max); 1 for DistinctDays
    amount      bigint      not null,
    received_at timestamptz not null default now(),
    primary key (counter_id, signal_id)
);
create index counter_signals_received_idx on counter_signals (counter_id, received_at);

-- A counter's value per user: `period_key` 'event' for the whole event
-- window, else the event's period key (liveops_period_key) of the signals.
create table counter_values (
    counter_id uuid        not null references counters (id),
    user_id    uuid        not null references users (id),
    period_key text        not null,
    value      bigint      not null,
    updated_at timestamptz not null default now(),
    primary key (counter_id, user_id, period_key)
);

-- The local days (liveops_period_day) a DistinctDays counter has seen per user.
create table counter_days (
    counter_id uuid not null references counters (id),
    user_id    uuid not null,
    day        date not null,
    primary key (counter_id, user_id, day)
);
