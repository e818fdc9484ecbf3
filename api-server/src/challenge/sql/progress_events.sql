-- The events a progress view covers, with the instants it reports, read at
-- one `now()` (`server_time`): one event by id ($1), or (when $1 is null)
-- every event open for claims right now. Deleted events and events before
-- their `announceAt` are not shown, as GET /events hides them.
--
-- `period_key` and `period_ends_at` are those of the claim statement
-- (liveops_period_key / liveops_period_ends_at, migration 0037); an event
-- marked Invalid (its zone may be unknown) has neither.
select e.id, e.namespace, e.name, e.display_name, e.phase::text as "phase!",
       now() as "server_time!",
       case when e.phase <> 'Invalid'
            then liveops_period_key(e.claim_frequency, e.time_zone, e.reset_at, now()) end as period_key,
       case when e.phase <> 'Invalid'
            then liveops_period_ends_at(e.claim_frequency, e.time_zone, e.reset_at, now()) end as period_ends_at,
       -- the next instant the event's phase can change at
       (select min(at) from unnest(array[e.announce_at, e.starts_at, e.ends_at, e.claim_until]) as t(at)
        where at > now()) as next_transition_at
from events e
where e.deleted_at is null
  and (e.announce_at is null or now() >= e.announce_at)
  and ($1::uuid is null and now() >= e.starts_at and now() < coalesce(e.claim_until, e.ends_at)
       or e.id = $1)
order by e.starts_at, e.namespace, e.name
