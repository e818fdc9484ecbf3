-- Explaining a claim without making it (`kubectl liveops explain-claim`):
-- the read half of `decide.sql` (its `target`, `counted` and `decided`
-- CTEs, same expressions at the same `now()`), plus the figures behind each
-- flag. Writes nothing and takes no row locks; api-server/src/claim/
-- explain.rs reads the flags through the same precedence as decision.rs,
-- and the tests in claim/tests/explain.rs hold the two statements together.
-- The progress view (challenge/progress.rs) is built on it.
--
-- $1 reward id, $2 user id.
with target as (
    select r.id as reward_id, r.namespace as reward_namespace, r.name as reward_name,
           r.per_user_limit, r.quantity, r.claimed, r.requires, r.requires_counters,
           r.quantity is not null and r.claimed >= r.quantity as stock_gone,
           r.deleted_at is not null as reward_deleted,
           e.id as event_id, e.namespace, e.name as event_name, e.generation, e.phase::text as phase,
           e.condition, e.time_zone, e.starts_at, e.ends_at, e.max_rewards_per_user,
           e.max_claims, e.claims_total, e.claim_frequency::text as claim_frequency,
           e.max_claims is not null and e.claims_total >= e.max_claims as cap_reached,
           e.deleted_at is not null as event_deleted, e.suspended,
           e.phase = 'Invalid' as invalid,
           now() < e.starts_at as before_start,
           now() >= e.starts_at and now() < coalesce(e.claim_until, e.ends_at) as in_window,
           liveops_period_key(e.claim_frequency, e.time_zone, e.reset_at, now()) as period_key,
           now() as checked_at
    from rewards r
    join events e on e.id = r.event_id
    where r.id = $1
),
counted as (
    select t.*,
           coalesce((select max(c.slot) from claims c
                     where c.user_id = $2 and c.reward_id = t.reward_id
                       and c.period_key = t.period_key and c.status = 'success'), 0) + 1 as slot,
           coalesce((select max(c.reward_rank) from claims c
                     where c.user_id = $2 and c.event_id = t.event_id
                       and c.period_key = t.period_key and c.status = 'success'
                       and c.reward_rank is not null), 0) + 1 as next_rank
    from target t
),
decided as (
    select c.*,
           c.slot > c.per_user_limit as reward_limit_reached,
           c.slot = 1 and c.next_rank > coalesce(c.max_rewards_per_user, c.next_rank) as event_limit_reached,
           c.requires is not null
               and not liveops_requirement_holds(c.requires, v.counter_values, c.reward_namespace, $2, c.period_key)
               as requirements_unmet
    from counted c
    -- the counter values the requirement reads, in one look-up (inlined)
    cross join lateral liveops_requirement_values(c.requires_counters, c.reward_namespace, $2, c.period_key) v
)
select d.reward_id as "reward_id!", d.reward_namespace as "reward_namespace!",
       d.reward_name as "reward_name!", d.reward_deleted as "reward_deleted!",
       d.event_id as "event_id!", d.namespace as "event_namespace!", d.event_name as "event_name!",
       d.generation as "generation!", d.phase as "phase!", d.condition as "condition!",
       d.time_zone as "time_zone!", d.starts_at as "starts_at!", d.ends_at as "ends_at!",
       d.claim_frequency as "claim_frequency!", d.period_key as "period_key!",
       d.checked_at as "checked_at!",
       d.event_deleted as "event_deleted!", d.suspended as "suspended!", d.invalid as "invalid!",
       d.before_start as "before_start!", d.in_window as "in_window!",
       d.per_user_limit as "per_user_limit!", d.slot - 1 as "claimed_by_user!",
       d.max_rewards_per_user, d.next_rank - 1 as "rewards_taken_by_user!",
       d.quantity, d.claimed as "claimed!", d.max_claims, d.claims_total as "claims_total!",
       d.reward_limit_reached as "reward_limit_reached!",
       d.event_limit_reached as "event_limit_reached!",
       d.stock_gone as "stock_gone!", d.cap_reached as "cap_reached!",
       d.requires, d.requirements_unmet as "requirements_unmet!"
from decided d
