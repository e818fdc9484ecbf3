-- The claim statement (DESIGN.md, "Claim transaction"): decides one claim
-- attempt and, when it is granted, writes it, in one autocommit statement;
-- api-server/src/claim/decision.rs turns its one row into a `Decision`.
--
-- $1 reward id, $2 user id, $3 the event generation whose condition the
-- caller was verified to meet (null: not verified), $4 the Idempotency-Key
-- (null: none), $5 the id for a new claim row, $6 key lifetime in seconds.
--
-- A refusal by a limit, the stock or the reward's requirements is recorded
-- in the ledger by this same statement (`refusal_recorded`); other refusals
-- by record_refusal.sql.
--
-- Data-modifying CTEs in the order their data dependencies force: the
-- claim row and the outbox row first (no contended lock), then the hot
-- rows (a capped event's claims_total, the reward's stock), so their locks
-- are held only for those updates and the commit. When the stock or the
-- event cap turns out to be exhausted after the claim row was written, or
-- the event's cap changed under the claim, `liveops_claim_abort`
-- (migration 0020) raises and undoes the statement.
with prior as (
    -- the claim row this key was first answered with: answer it again
    select k.reward_id, k.claim_id
    from claim_idempotency_keys k
    where k.user_id = $2 and k.key = $4::text
      and k.created_at > now() - make_interval(secs => $6)
),
target as (
    select r.id as reward_id, r.name as reward_name, r.display_name as reward_display_name,
           r.payload, r.per_user_limit, r.namespace as reward_namespace, r.requires, r.requires_counters,
           r.quantity is not null and r.claimed >= r.quantity as stock_gone,
           r.deleted_at is not null as reward_deleted,
           e.id as event_id, e.namespace, e.name as event_name, e.generation,
           e.condition, e.time_zone, e.starts_at, e.ends_at, e.max_rewards_per_user,
           e.max_claims is not null and e.claims_total >= e.max_claims as cap_reached,
           e.max_claims is not null as capped,
           e.deleted_at is not null as event_deleted, e.suspended,
           e.phase = 'Invalid' as invalid,
           now() < e.starts_at as before_start,
           now() >= e.starts_at and now() < coalesce(e.claim_until, e.ends_at) as in_window,
           liveops_period_key(e.claim_frequency, e.time_zone, e.reset_at, now()) as period_key
    from rewards r
    join events e on e.id = r.event_id
    where r.id = $1 and not exists (select 1 from prior)
      -- an event is unknown to players before `announceAt`
      and (e.announce_at is null or now() >= e.announce_at)
),
open_target as (
    select * from target
    where not reward_deleted and not event_deleted and not suspended and not invalid and in_window
),
counted as (
    -- slot: this user's next grant of this reward in the period
    -- (1..perUserLimit); next_rank: the next distinct reward of the event
    -- in the period (1..maxRewardsPerUser), taken by a first grant only
    select t.*,
           coalesce((select max(c.slot) from claims c
                     where c.user_id = $2 and c.reward_id = t.reward_id
                       and c.period_key = t.period_key and c.status = 'success'), 0) + 1 as slot,
           coalesce((select max(c.reward_rank) from claims c
                     where c.user_id = $2 and c.event_id = t.event_id
                       and c.period_key = t.period_key and c.status = 'success'
                       and c.reward_rank is not null), 0) + 1 as next_rank
    from open_target t
),
decided as (
    select c.*,
           c.slot > c.per_user_limit as reward_limit_reached,
           c.slot = 1 and c.next_rank > coalesce(c.max_rewards_per_user, c.next_rank) as event_limit_reached,
           c.condition <> '{}'::jsonb and c.generation is distinct from $3 as condition_pending,
           -- `Reward.spec.requires` (migrations 0038, 0040), judged here so
           -- it costs no round trip; refused after the limits and the stock
           c.requires is not null
               and not liveops_requirement_holds(c.requires, v.counter_values, c.reward_namespace, $2, c.period_key)
               as requirements_unmet
    from counted c
    -- the counter values the requirement reads, in one look-up (inlined)
    cross join lateral liveops_requirement_values(c.requires_counters, c.reward_namespace, $2, c.period_key) v
),
refused as (
    -- a limit, the stock or the requirements refuse (in the precedence of
    -- decision.rs's `Flags::refusal`; `open_target` already let only open events through):
    -- recorded right here, so a refusal costs this one statement, not a
    -- second one after it (issue 14: a sold-out storm)
    select d.reward_id, d.event_id, d.generation,
           case when d.reward_limit_reached or d.event_limit_reached then 'ALREADY_CLAIMED'
                when d.stock_gone or d.cap_reached then 'SOLD_OUT'
                else 'REQUIREMENTS_NOT_MET' end as reason
    from decided d
    where d.reward_limit_reached or d.event_limit_reached or d.stock_gone or d.cap_reached
       or d.requirements_unmet
),
refusal_recorded as (
    -- as sql/record_refusal.sql: identical refusals within one hour are
    -- one counted row
    insert into claims as c (user_id, reward_id, event_id, status, reason, event_generation,
                             idempotency_key, refused_in, last_attempt_at)
    select $2, f.reward_id, f.event_id, 'failed', f.reason, f.generation, $4::text,
           date_trunc('hour', now()), now()
    from refused f
    on conflict (user_id, reward_id, reason, refused_in) where status = 'failed' and refused_in is not null
    do update set attempts = c.attempts + 1, last_attempt_at = excluded.last_attempt_at,
                  event_generation = excluded.event_generation
    returning c.id, c.reason
),
refusal_keyed as (
    -- the key answers this refusal from now on; a live key of a concurrent
    -- twin is left alone (its answer wins)
    insert into claim_idempotency_keys as k (user_id, key, reward_id, claim_id)
    select $2, $4::text, $1, r.id from refusal_recorded r where $4::text is not null
    on conflict (user_id, key) do update
        set reward_id = excluded.reward_id, claim_id = excluded.claim_id, created_at = now()
        where k.created_at <= now() - make_interval(secs => $6)
    returning 1
),
granted_target as (
    select * from decided
    where not reward_limit_reached and not event_limit_reached and not stock_gone
      and not cap_reached and not requirements_unmet and not condition_pending
),
inserted as (
    -- a concurrent twin holding the same slot or rank makes this insert
    -- nothing; the caller runs the statement again
    insert into claims (id, user_id, reward_id, event_id, status, period_key, slot, reward_rank,
                        event_generation, idempotency_key)
    select $5, $2, g.reward_id, g.event_id, 'success', g.period_key, g.slot,
           case when g.slot = 1 then g.next_rank end, g.generation, $4::text
    from granted_target g
    on conflict do nothing
    returning id, created_at
),
keyed as (
    insert into claim_idempotency_keys as k (user_id, key, reward_id, claim_id)
    select $2, $4::text, $1, i.id from inserted i where $4::text is not null
    on conflict (user_id, key) do update
        set reward_id = excluded.reward_id, claim_id = excluded.claim_id, created_at = now()
        where k.created_at <= now() - make_interval(secs => $6)
    returning 1
),
announced as (
    -- `data` is relay/src/event_schema.rs's RewardClaimed (docs/events/)
    insert into outbox (event_type, payload)
    select 'dev.liveops.reward.claimed', jsonb_build_object(
        'specversion', '1.0',
        'id', i.id,
        'source', '/liveops/events/' || g.namespace || '/' || g.event_name,
        'type', 'dev.liveops.reward.claimed',
        'time', i.created_at,
        'subject', g.reward_name,
        'datacontenttype', 'application/json',
        'data', jsonb_build_object(
            'claimId', i.id, 'userId', $2::uuid, 'rewardId', g.reward_id,
            'rewardName', g.reward_name, 'eventId', g.event_id,
            'eventNamespace', g.namespace, 'eventName', g.event_name,
            'eventGeneration', g.generation, 'periodKey', g.period_key,
            'slot', g.slot, 'payload', g.payload))
    from inserted i, granted_target g
    returning id
),
capped as (
    -- only a capped event's row is counted here, under its lock: that is
    -- what enforces `max_claims`; an uncapped event's total is the sum of
    -- its rewards' `claimed` (migration 0036), so claims on its rewards do
    -- not queue on one row
    update events e set claims_total = e.claims_total + 1
    from granted_target g
    where e.id = g.event_id and g.capped and exists (select 1 from announced)
      and (e.max_claims is null or e.claims_total < e.max_claims)
    returning e.id
),
stocked as (
    -- `event_capped` as this statement read it: a cap added or removed
    -- since (migration 0036's trigger rewrites the row) makes this update
    -- nothing and the claim runs again
    update rewards r set claimed = r.claimed + 1
    from granted_target g
    where r.id = $1 and exists (select 1 from announced)
      and (not g.capped or exists (select 1 from capped))
      and r.event_capped = g.capped
      and (r.quantity is null or r.claimed < r.quantity)
    returning r.id, r.claimed, r.quantity
),
sold_out as (
    -- the grant that took the last unit announces the sell-out, once; the
    -- id is stable per reward and stock so a republished copy deduplicates.
    -- `data` is relay/src/event_schema.rs's RewardSoldOut (docs/events/)
    insert into outbox (event_type, payload)
    select 'dev.liveops.reward.sold_out', jsonb_build_object(
        'specversion', '1.0',
        'id', md5('dev.liveops.reward.sold_out/' || s.id || '/' || s.quantity)::uuid,
        'source', '/liveops/events/' || g.namespace || '/' || g.event_name,
        'type', 'dev.liveops.reward.sold_out',
        'time', i.created_at,
        'subject', g.reward_name,
        'datacontenttype', 'application/json',
        'data', jsonb_build_object(
            'rewardId', s.id, 'rewardName', g.reward_name, 'eventId', g.event_id,
            'eventNamespace', g.namespace, 'eventName', g.event_name,
            'quantity', s.quantity, 'lastClaimId', i.id))
    from stocked s, granted_target g, inserted i
    where s.claimed = s.quantity
)
select p.reward_id as "prior_reward_id?", p.claim_id as "prior_claim_id?",
       t.reward_id is not null as "found!",
       t.reward_deleted as "reward_deleted?", t.event_deleted as "event_deleted?",
       t.suspended as "suspended?", t.invalid as "invalid?",
       t.before_start as "before_start?", t.in_window as "in_window?",
       d.reward_limit_reached as "reward_limit_reached?",
       d.event_limit_reached as "event_limit_reached?",
       t.stock_gone as "stock_gone?", t.cap_reached as "cap_reached?",
       d.requirements_unmet as "requirements_unmet?",
       d.condition_pending as "condition_pending?",
       t.condition as "condition?", t.generation as "generation?",
       t.time_zone as "time_zone?", t.starts_at as "starts_at?", t.ends_at as "ends_at?",
       t.event_id as "event_id?", t.period_key as "period_key?", d.slot as "slot?",
       t.reward_name as "reward_name?", t.reward_display_name as "reward_display_name?",
       t.payload as "payload?",
       i.id as "claim_id?", i.created_at as "created_at?",
       (select r.reason from refusal_recorded r) as "recorded_refusal?",
       case
           when i.id is not null and not exists (select 1 from stocked)
               then liveops_claim_abort(case
                   when t.capped and not exists (select 1 from capped) then 'MAX_CLAIMS_REACHED'
                   when liveops_reward_capped_now($1) is distinct from t.capped then 'CAP_CHANGED'
                   else 'SOLD_OUT' end)
           -- a concurrent request with the same key answered first
           when i.id is not null and $4::text is not null and not exists (select 1 from keyed)
               then liveops_claim_abort('KEY_TAKEN')
       end as "aborted?"
from (select 1) as one
left join prior p on true
left join target t on true
left join decided d on true
left join inserted i on true
