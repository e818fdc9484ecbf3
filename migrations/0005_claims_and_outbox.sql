-- Every claim attempt, successful or not, and the transactional outbox
-- (DESIGN.md, "Claim transaction").

create type claim_status as enum ('success', 'failed');

create table claims (
    id               uuid primary key default gen_random_uuid(),
    user_id          uuid         not null references users (id),
    -- no foreign key: an attempt on a reward that is gone is still recorded
    reward_id        uuid         not null,
    event_id         uuid,
    status           claim_status not null,
    -- stable refusal code (CONDITION_NOT_MET, SOLD_OUT, ...) when failed
    reason           text,
    -- 'once', a local date (Daily) or an ISO week (Weekly) in the event's zone
    period_key       text         not null default 'once',
    -- 1..perUserLimit: lets a reward be granted more than once per period
    -- while the unique index below still makes each grant unique
    slot             integer      not null default 1,
    -- the Event generation whose rules granted or refused the claim
    event_generation bigint,
    idempotency_key  text,
    created_at       timestamptz  not null default now(),
    constraint claims_reason_when_failed check ((status = 'failed') = (reason is not null))
);

-- Only successful claims are unique: a failed attempt never blocks the real
-- one (the seed's plain unique index on (user, event) did).
create unique index claims_success_key on claims (user_id, event_id, period_key, slot)
    where status = 'success';
-- keyset pagination: newest first, id breaks ties
create index claims_created_idx on claims (created_at desc, id desc);
create index claims_user_created_idx on claims (user_id, created_at desc, id desc);
create index claims_reward_idx on claims (reward_id);
create index claims_event_idx on claims (event_id);

-- A retried request with the same Idempotency-Key gets the first answer.
create table idempotency_keys (
    user_id         uuid        not null references users (id),
    key             text        not null,
    request_path    text        not null,
    response_status smallint,
    response_body   jsonb,
    created_at      timestamptz not null default now(),
    primary key (user_id, key)
);

-- Written in the claim transaction; a relay publishes and marks rows.
create table outbox (
    id           bigint generated always as identity primary key,
    -- CloudEvents `type`, e.g. reward.claimed
    event_type   text        not null,
    -- CloudEvents-shaped JSON document
    payload      jsonb       not null,
    created_at   timestamptz not null default now(),
    published_at timestamptz
);
create index outbox_unpublished_idx on outbox (id) where published_at is null;
