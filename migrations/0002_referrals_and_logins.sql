-- Who invited whom, and every successful login: the inputs of the
-- `referrals`, `loginStreak` and `loginDays` condition kinds.

create table referrals (
    id         uuid primary key default gen_random_uuid(),
    inviter_id uuid        not null references users (id) on delete cascade,
    -- an invitee is counted once, for one inviter
    invitee_id uuid        not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    constraint referrals_invitee_key unique (invitee_id),
    constraint referrals_not_self check (inviter_id <> invitee_id)
);
create index referrals_inviter_created_idx on referrals (inviter_id, created_at);

create table user_logins (
    id           bigint generated always as identity primary key,
    user_id      uuid        not null references users (id) on delete cascade,
    logged_in_at timestamptz not null default now()
);
create index user_logins_user_time_idx on user_logins (user_id, logged_in_at);
