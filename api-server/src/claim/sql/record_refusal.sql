-- Records a refused claim in the ledger, after the claim statement decided
-- and wrote nothing (DESIGN.md, "Claim transaction", step 6; written by
-- api-server/src/claim/refusal.rs).
--
-- $1 user id, $2 reward id, $3 reason code, $4 Idempotency-Key (null:
-- none), $5 key lifetime in seconds.
--
-- Identical refusals (same user, reward and reason) within one hour are one
-- row that counts them (`attempts`, `last_attempt_at`), so a client
-- hammering a sold-out reward cannot bury the listings under copies. A
-- reward id that names no reward is not recorded at all: there is nothing
-- to audit, and random ids would otherwise each write a row.
with recorded as (
    insert into claims as c (user_id, reward_id, event_id, status, reason, event_generation,
                             idempotency_key, refused_in, last_attempt_at)
    select $1, r.id, e.id, 'failed', $3, e.generation, $4::text, date_trunc('hour', now()), now()
    from rewards r
    join events e on e.id = r.event_id
    where r.id = $2
    on conflict (user_id, reward_id, reason, refused_in) where status = 'failed' and refused_in is not null
    do update set attempts = c.attempts + 1, last_attempt_at = excluded.last_attempt_at,
                  event_generation = excluded.event_generation
    returning c.id
),
keyed as (
    -- the key answers this refusal from now on; a live key of a concurrent
    -- twin is left alone (its answer wins)
    insert into claim_idempotency_keys as k (user_id, key, reward_id, claim_id)
    select $1, $4::text, $2, id from recorded where $4::text is not null
    on conflict (user_id, key) do update
        set reward_id = excluded.reward_id, claim_id = excluded.claim_id, created_at = now()
        where k.created_at <= now() - make_interval(secs => $5)
    returning claim_id
)
select (select id from recorded) as "failed_claim_id?"
