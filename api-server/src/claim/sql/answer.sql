-- The ledger row an Idempotency-Key was first answered with, read back to
-- answer a retry (api-server/src/claim/answer.rs). $1 claim id.
select c.id, c.status as "status: ClaimStatus", c.reason, c.reward_id, c.event_id,
       c.period_key, c.slot, c.event_generation, c.created_at,
       r.name as "reward_name?", r.display_name as "reward_display_name?", r.payload
from claims c
left join rewards r on r.id = c.reward_id
where c.id = $1
