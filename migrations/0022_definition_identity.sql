-- Definitions are identified by (namespace, name), not by object uid
-- (DESIGN.md, "Second stage" -> "Claims: integrity on every path").
--
-- Until now a row's id was the object's uid in a cluster, so deleting and
-- re-creating an Event or Reward (kubectl replace --force, Argo CD Replace,
-- a Helm reinstall) soft-deleted the old row and inserted a new one with
-- claimed = 0: stock refilled and every user could claim again. From now on
-- the operator upserts on (namespace, name), keeping the id the row already
-- has, so a re-created object lands on its old row, ledger and all. A row
-- new to the table gets a UUIDv5 of kind/namespace/name, in a cluster and
-- in manifests mode alike (operator/src/projection/ids.rs); rows made
-- earlier keep their uid-based ids, which API clients may hold.
--
-- That needs exactly one row per namespace/name, soft-deleted ones included,
-- so the partial "live" unique indexes become full ones at the end. A
-- database may already hold several incarnations of one name (soft-deleted
-- older ones beside the live one); they are merged first, by this rule, per
-- table and per (namespace, name):
-- * The survivor is the live row (the old partial index allowed at most
--   one), or else the most recently created incarnation. Its id is the one
--   clients see in GET /events today, so it is the id that stays.
-- * Counters add up: the survivor's claims_total / claimed grow by those of
--   the merged rows, so caps and stock count every grant of every
--   incarnation.
-- * What pointed at a merged row points at the survivor: rewards.event_id,
--   claims.event_id, claims.reward_id. No claim row is deleted. Rows that
--   would then collide under the claims indexes of 0021 are renumbered:
--   - slot: per (user, reward, period) the successful claims are numbered
--     1, 2, ... in the order they were granted. A user whom two
--     incarnations both paid (the historical double pay) keeps both rows,
--     as slots 1 and 2, and perUserLimit counts both from now on.
--   - reward_rank: recomputed exactly as 0021 computed it (first grants,
--     slot 1, numbered by time per user, event and period) in every
--     (user, event, period) that a moved or renumbered claim belongs to.
--   - a recorded refusal that would fold into another row with the same
--     user, reward, reason and hour keeps its row and count, but loses its
--     hour (refused_in = null, as refusals recorded before 0021 have none).
--   A claim keeps the event that granted it (after the event merge): when
--   incarnations of one Reward belonged to different Events, the survivor's
--   event is the reward's, and its claims from the other event stay filed
--   under that event. claim_idempotency_keys and the outbox keep the ids they
--   recorded: a retried request names the id it named first and still gets
--   its claim back; published messages are history.
-- * Each merged row is then deleted, after being copied whole into
--   definition_merges, so the incarnation a claim was granted under can
--   still be traced (its created_at/deleted_at bound the claims it made).

create table definition_merges (
    kind        text        not null check (kind in ('Event', 'Reward')),
    -- the id the merged incarnation had, and the row it was merged into
    merged_id   uuid        primary key,
    survivor_id uuid        not null,
    -- the merged row as it stood (to_jsonb), counters and dates included
    definition  jsonb       not null,
    merged_at   timestamptz not null default now()
);

-- Plain temporary tables (not ON COMMIT DROP): this file also runs under
-- psql without an enclosing transaction; they are dropped at the end.
create temporary table merge_map (
    kind        text not null,
    merged_id   uuid primary key,
    survivor_id uuid not null
);
insert into merge_map (kind, merged_id, survivor_id)
select 'Event', id, survivor_id
from (
    select id, first_value(id) over (
               partition by namespace, name
               order by deleted_at is null desc, created_at desc, id desc) as survivor_id
    from events
) as ranked
where id <> survivor_id;
insert into merge_map (kind, merged_id, survivor_id)
select 'Reward', id, survivor_id
from (
    select id, first_value(id) over (
               partition by namespace, name
               order by deleted_at is null desc, created_at desc, id desc) as survivor_id
    from rewards
) as ranked
where id <> survivor_id;

insert into definition_merges (kind, merged_id, survivor_id, definition)
select m.kind, m.merged_id, m.survivor_id, to_jsonb(e)
from merge_map m join events e on e.id = m.merged_id
where m.kind = 'Event'
union all
select m.kind, m.merged_id, m.survivor_id, to_jsonb(r)
from merge_map m join rewards r on r.id = m.merged_id
where m.kind = 'Reward';

-- Counters add up.
update events s set claims_total = s.claims_total + merged.total, updated_at = now()
from (
    select m.survivor_id, sum(e.claims_total) as total
    from merge_map m join events e on e.id = m.merged_id
    where m.kind = 'Event'
    group by m.survivor_id
) as merged
where s.id = merged.survivor_id;
update rewards s set claimed = s.claimed + merged.total, updated_at = now()
from (
    select m.survivor_id, sum(r.claimed) as total
    from merge_map m join rewards r on r.id = m.merged_id
    where m.kind = 'Reward'
    group by m.survivor_id
) as merged
where s.id = merged.survivor_id;

-- Rewards of a merged event belong to the surviving event.
update rewards r set event_id = m.survivor_id
from merge_map m
where m.kind = 'Event' and r.event_id = m.merged_id;

-- Refusals that would fold into one row: the survivor's own (else the
-- newest) keeps its hour.
update claims c set refused_in = null
from (
    select c.id, row_number() over (
               partition by c.user_id, coalesce(m.survivor_id, c.reward_id), c.reason, c.refused_in
               order by m.merged_id is null desc, c.created_at desc, c.id desc) as n
    from claims c left join merge_map m on m.kind = 'Reward' and m.merged_id = c.reward_id
    where c.status = 'failed' and c.refused_in is not null
      and coalesce(m.survivor_id, c.reward_id) in (select survivor_id from merge_map where kind = 'Reward')
) as ranked
where c.id = ranked.id and ranked.n > 1;

-- New slots of every successful claim of a merged reward group.
create temporary table slot_moves as
select c.id, coalesce(m.survivor_id, c.reward_id) as reward_id,
       row_number() over (
           partition by c.user_id, coalesce(m.survivor_id, c.reward_id), c.period_key
           order by c.created_at, c.id)::integer as slot
from claims c left join merge_map m on m.kind = 'Reward' and m.merged_id = c.reward_id
where c.status = 'success'
  and coalesce(m.survivor_id, c.reward_id) in (select survivor_id from merge_map where kind = 'Reward');

-- (user, event, period) groups whose ranks are recomputed, keyed by the
-- event each claim will belong to.
create temporary table rank_groups as
select distinct c.user_id, coalesce(m.survivor_id, c.event_id) as event_id, c.period_key
from claims c left join merge_map m on m.kind = 'Event' and m.merged_id = c.event_id
where c.status = 'success' and c.event_id is not null
  and (m.merged_id is not null or c.id in (select id from slot_moves));

-- Unique indexes are checked row by row, so ranks are cleared before any
-- claim moves, and slots pass through negative numbers (which no claim
-- holds) on their way to the final ones.
update claims c set reward_rank = null
from (
    select c.id
    from claims c
    left join merge_map m on m.kind = 'Event' and m.merged_id = c.event_id
    join rank_groups g on g.user_id = c.user_id and g.event_id = coalesce(m.survivor_id, c.event_id)
                      and g.period_key = c.period_key
    where c.status = 'success' and c.reward_rank is not null
) as cleared
where c.id = cleared.id;
update claims c set reward_id = s.reward_id, slot = -s.slot
from slot_moves s
where c.id = s.id;
update claims c set slot = -c.slot
from slot_moves s
where c.id = s.id;
update claims c set reward_id = m.survivor_id
from merge_map m
where m.kind = 'Reward' and c.reward_id = m.merged_id;
update claims c set event_id = m.survivor_id
from merge_map m
where m.kind = 'Event' and c.event_id = m.merged_id;
update claims c set reward_rank = ranked.rank
from (
    select c.id, row_number() over (
               partition by c.user_id, c.event_id, c.period_key
               order by c.created_at, c.id)::integer as rank
    from claims c
    join rank_groups g on g.user_id = c.user_id and g.event_id = c.event_id and g.period_key = c.period_key
    where c.status = 'success' and c.slot = 1
) as ranked
where c.id = ranked.id;

-- The merged rows go (rewards first: they reference events).
delete from rewards r using merge_map m where m.kind = 'Reward' and r.id = m.merged_id;
delete from events e using merge_map m where m.kind = 'Event' and e.id = m.merged_id;

drop table merge_map, slot_moves, rank_groups;

-- One row per namespace/name for good: the operator's upsert conflicts on
-- these (`on conflict (namespace, name)`), live or soft-deleted.
drop index events_live_name_key;
alter table events add constraint events_namespace_name_key unique (namespace, name);
drop index rewards_live_name_key;
alter table rewards add constraint rewards_namespace_name_key unique (namespace, name);
