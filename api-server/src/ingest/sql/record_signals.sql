-- Records one batch of signals for one client, exactly once per
-- (counter, signal id), in one statement (DESIGN.md, "Challenges").
-- $1 client id; $2..$8 the batch's distinct signals as parallel arrays:
-- ids, user ids, counter names, amount kinds ('delta' | 'value' | 'none'),
-- amounts, occurredAt, boundary errors ('' = none).
-- Any contract error, or a suspended/deleted client, records nothing; the
-- answer is one row per signal with its error or its status.
with client as (
    select id, namespace, counters
    from ingest_clients
    where id = $1 and not suspended and deleted_at is null
),
batch as (
    select *
    from unnest($2::text[], $3::uuid[], $4::text[], $5::text[], $6::int8[], $7::timestamptz[], $8::text[])
        with ordinality as b (signal_id, user_id, counter_name, kind, amount, occurred_at, boundary_error, position)
),
-- The counters this client may feed, with their event's window and periods.
allowed as (
    select c.id as counter_id, c.name, c.aggregation, c.min_amount, c.max_amount,
           e.starts_at, e.ends_at, e.claim_frequency, e.time_zone, e.reset_at
    from client cl
    join counters c on c.namespace = cl.namespace and c.name = any (cl.counters) and c.deleted_at is null
    join events e on e.id = c.event_id and e.deleted_at is null
),
checked as (
    select b.*, a.counter_id, a.aggregation, a.claim_frequency, a.time_zone, a.reset_at,
           b.occurred_at >= a.starts_at and b.occurred_at < a.ends_at as in_window,
           case
               when nullif(b.boundary_error, '') is not null then b.boundary_error
               when a.counter_id is null then 'COUNTER_NOT_ALLOWED'
               when not exists (select from users u where u.id = b.user_id) then 'UNKNOWN_USER'
               when b.kind = 'none' and a.aggregation <> 'DistinctDays' then 'AMOUNT_OUT_OF_BOUNDS'
               when (a.aggregation = 'Sum' and b.kind <> 'delta')
                 or (a.aggregation = 'Max' and b.kind <> 'value')
                 or (a.aggregation = 'DistinctDays' and b.kind <> 'none') then 'AMOUNT_KIND_MISMATCH'
               when b.amount < a.min_amount or b.amount > a.max_amount then 'AMOUNT_OUT_OF_BOUNDS'
           end as error
    from batch b
    left join allowed a on a.name = b.counter_name
),
refused as (
    select exists (select from checked where error is not null)
        or not exists (select from client) as any_error
),
-- Sorted so that concurrent batches take the key locks in one order.
fresh as (
    insert into counter_signals (counter_id, signal_id, user_id, client_id, occurred_at, amount)
    select counter_id, signal_id, user_id, $1, occurred_at,
           case when aggregation = 'DistinctDays' then 1 else amount end
    from checked
    where in_window and not (select any_error from refused)
    order by counter_id, signal_id
    on conflict do nothing
    returning counter_id, signal_id
),
counted as (
    select ch.counter_id, ch.user_id, ch.aggregation, ch.amount,
           liveops_period_key(ch.claim_frequency, ch.time_zone, ch.reset_at, ch.occurred_at) as period_key,
           liveops_period_day(ch.time_zone, ch.reset_at, ch.occurred_at) as day
    from checked ch
    join fresh f on f.counter_id = ch.counter_id and f.signal_id = ch.signal_id
),
new_days as (
    insert into counter_days (counter_id, user_id, day)
    select distinct counter_id, user_id, day
    from counted
    where aggregation = 'DistinctDays'
    order by counter_id, user_id, day
    on conflict do nothing
    returning counter_id, user_id, day
),
-- What each fresh signal (Sum, Max) or new day (DistinctDays) adds, under
-- the whole window ('event') and under its period.
increments as (
    select c.counter_id, c.user_id, c.aggregation, k.period_key, c.amount
    from counted c
    cross join lateral (values ('event'), (c.period_key)) as k (period_key)
    where c.aggregation <> 'DistinctDays'
    union all
    select d.counter_id, d.user_id, 'DistinctDays'::counter_aggregation, k.period_key, 1
    from new_days d
    join (select distinct counter_id, user_id, day, period_key from counted) c
        on c.counter_id = d.counter_id and c.user_id = d.user_id and c.day = d.day
    cross join lateral (values ('event'), (c.period_key)) as k (period_key)
),
totals as (
    select counter_id, user_id, period_key, aggregation,
           -- numeric sum cast back: a Sum past int8 fails the statement (22003)
           case when aggregation = 'Max' then max(amount) else sum(amount)::int8 end as value
    from increments
    group by counter_id, user_id, period_key, aggregation
),
added as (
    insert into counter_values as v (counter_id, user_id, period_key, value)
    select counter_id, user_id, period_key, value
    from totals
    where aggregation <> 'Max'
    order by counter_id, user_id, period_key
    on conflict (counter_id, user_id, period_key)
        do update set value = v.value + excluded.value, updated_at = now()
),
raised as (
    insert into counter_values as v (counter_id, user_id, period_key, value)
    select counter_id, user_id, period_key, value
    from totals
    where aggregation = 'Max'
    order by counter_id, user_id, period_key
    on conflict (counter_id, user_id, period_key)
        do update set value = greatest(v.value, excluded.value), updated_at = now()
        where excluded.value > v.value
)
select ch.position as "position!",
       ch.error,
       case
           when not ch.in_window then 'outside_window'
           when f.signal_id is not null then 'accepted'
           else 'duplicate'
       end as "status!",
       exists (select from client) as "client_ok!"
from checked ch
left join fresh f on f.counter_id = ch.counter_id and f.signal_id = ch.signal_id
order by ch.position
