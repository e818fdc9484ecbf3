-- The outbox relay (DESIGN.md, "Second stage" -> "Event bus"): the `relay`
-- binary publishes each outbox row to the broker, marks it published only
-- after the broker's acknowledgement, and deletes published rows once
-- RELAY_RETENTION_SECONDS have passed.

-- A row the broker refused (not a broker outage, which never counts) is
-- tried again after a backoff; after RELAY_MAX_ATTEMPTS refusals it moves
-- to outbox_dead_letters so the rows behind it keep flowing.
alter table outbox
    add column attempts        integer not null default 0 check (attempts >= 0),
    add column last_error      text,
    add column next_attempt_at timestamptz;

-- Retention deletes published rows oldest first, in bounded batches.
create index outbox_published_idx on outbox (published_at) where published_at is not null;

-- Rows the broker kept refusing, kept whole so an operator can inspect,
-- fix and re-insert them into the outbox.
create table outbox_dead_letters (
    outbox_id  bigint primary key,
    event_type text        not null,
    payload    jsonb       not null,
    created_at timestamptz not null,
    attempts   integer     not null,
    last_error text        not null,
    dead_at    timestamptz not null default now()
);
