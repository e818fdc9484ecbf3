-- One page of the claim history (api-server/src/claim/history.rs), newest
-- first, keyset-paginated by (created_at, id). Every filter is optional:
-- $1 user, $2 status, $3 event, $4 reward, $5 from (inclusive), $6 to
-- (exclusive), $7/$8 the cursor (created_at, id) to continue after, $9 the
-- page size plus one (the extra row tells whether another page exists).
select c.id, c.user_id, c.reward_id, r.name as "reward_name?",
       r.display_name as "reward_display_name?", c.event_id,
       c.status as "status: ClaimStatus", c.reason, c.period_key,
       c.event_generation, c.created_at, c.attempts,
       coalesce(c.last_attempt_at, c.created_at) as "last_attempt_at!"
from claims c
left join rewards r on r.id = c.reward_id
where ($1::uuid is null or c.user_id = $1)
  and ($2::claim_status is null or c.status = $2)
  and ($3::uuid is null or c.event_id = $3)
  and ($4::uuid is null or c.reward_id = $4)
  and ($5::timestamptz is null or c.created_at >= $5)
  and ($6::timestamptz is null or c.created_at < $6)
  and ($7::timestamptz is null or (c.created_at, c.id) < ($7, $8::uuid))
order by c.created_at desc, c.id desc
limit $9
