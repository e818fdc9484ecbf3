-- Brings `claims_total` of uncapped live events up to the sum of their
-- rewards' `claimed` (migration 0036: claims on an uncapped event no longer
-- update its row); run about once a second by
-- api-server/src/claim/event_totals.rs. Only rows whose total moved are
-- written. A capped event is counted by the claim statement itself, under
-- its lock, and is never touched here (the `max_claims is null` test is
-- checked again on the row as it is when locked).
update events e set claims_total = t.total
from (
    select r.event_id, sum(r.claimed)::int as total
    from rewards r
    group by r.event_id
) t
where e.id = t.event_id and e.deleted_at is null and e.max_claims is null
  and e.claims_total <> t.total
