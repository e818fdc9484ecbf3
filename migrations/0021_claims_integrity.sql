-- Claims: integrity on every path (DESIGN.md, "Second stage").

-- perUserLimit counts claims of *that reward* per period: each grant is
-- unique per (user, reward, period, slot), slot in 1..perUserLimit. Before,
-- the index was per event, so claiming reward A made reward B of the same
-- event answer ALREADY_CLAIMED.
drop index claims_success_key;
create unique index claims_success_key on claims (user_id, reward_id, period_key, slot)
    where status = 'success';

-- claimPolicy.maxRewardsPerUser: distinct rewards one user may take from an
-- event per period (absent = no event-wide limit).
alter table events add column max_rewards_per_user integer check (max_rewards_per_user >= 1);

-- The first grant of each reward to a user in a period takes the next
-- `reward_rank` (1, 2, ...) in that event and period; the unique index makes
-- two concurrent first grants of different rewards take different ranks, so
-- maxRewardsPerUser holds under races as perUserLimit does through `slot`.
-- Later grants of the same reward (slot > 1) carry no rank.
alter table claims add column reward_rank integer check (reward_rank >= 1);
update claims c set reward_rank = ranked.rank
from (
    select id, row_number() over (partition by user_id, event_id, period_key order by created_at, id) as rank
    from claims
    where status = 'success' and slot = 1
) as ranked
where c.id = ranked.id;
create unique index claims_reward_rank_key on claims (user_id, event_id, period_key, reward_rank)
    where status = 'success' and reward_rank is not null;

-- Identical refusals (same user, reward and reason) within one hour are one
-- ledger row that counts them, so a client hammering a sold-out reward
-- cannot bury the staff listings under copies of the same refusal.
-- `refused_in` is the hour; rows recorded before this migration have none.
alter table claims
    add column refused_in timestamptz,
    add column attempts integer not null default 1 check (attempts >= 1),
    add column last_attempt_at timestamptz;
create unique index claims_refusal_key on claims (user_id, reward_id, reason, refused_in)
    where status = 'failed' and refused_in is not null;

-- Idempotency-Key answered from the ledger: a key names the claim row (a
-- grant or a recorded refusal) it was first answered with, and is written by
-- the same statement as that row, so a committed claim can never run again
-- under its key, whatever happened to the first answer. Keys expire
-- (IDEMPOTENCY_KEY_TTL_SECONDS); the claim rows themselves are never deleted.
drop table idempotency_keys;
create table claim_idempotency_keys (
    user_id    uuid        not null,
    key        text        not null,
    -- a key reused for another reward answers 422
    reward_id  uuid        not null,
    claim_id   uuid        not null,
    created_at timestamptz not null default now(),
    primary key (user_id, key)
);
create index claim_idempotency_keys_created_idx on claim_idempotency_keys (created_at);
