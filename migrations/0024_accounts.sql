-- Accounts, second stage (DESIGN.md, "Second stage", "Accounts"): email
-- verification, password recovery, and the mail queue that delivers their
-- links off the request path.

-- When the user proved they read mail at `email`; null until then.
alter table users add column email_verified_at timestamptz;

-- Single-use tokens mailed as links. Only the SHA-256 of a token is kept;
-- the token itself exists in the mail that carries it and nowhere else once
-- that mail is delivered.
create table account_tokens (
    token_hash bytea primary key,
    user_id    uuid        not null references users (id) on delete cascade,
    purpose    text        not null check (purpose in ('verify_email', 'reset_password')),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    -- set when the token is redeemed, or when a newer token of the same
    -- purpose replaces it
    used_at    timestamptz
);
create index account_tokens_user_purpose_idx on account_tokens (user_id, purpose) where used_at is null;

-- Mails waiting for the SMTP server. A worker in each API replica takes due
-- rows with `for update skip locked`, sends them and deletes them, so a
-- mailed token does not outlive its delivery here; a failed attempt pushes
-- `next_attempt_at` back (exponential backoff) until the attempts run out.
create table mail_outbox (
    id              bigint generated always as identity primary key,
    recipient       text        not null,
    subject         text        not null,
    text_body       text        not null,
    html_body       text        not null,
    created_at      timestamptz not null default now(),
    attempts        integer     not null default 0,
    -- also the lease: a worker that takes a row moves this past the send
    -- timeout, so a replica that dies mid-send leaves the row to another
    next_attempt_at timestamptz not null default now(),
    last_error      text
);
create index mail_outbox_due_idx on mail_outbox (next_attempt_at);

-- Days of use recorded by a refresh rather than a password login (the
-- `loginStreak` and `loginDays` conditions count both).
alter table user_logins add column via_refresh boolean not null default false;
