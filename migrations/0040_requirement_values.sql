-- Reward requirements without a query per leaf (issue 12's benchmark:
-- claims with requirements within 10 % of claims without).
--
-- Migration 0038 looked every counter leaf up with its own PL/pgSQL query,
-- which cost a claim about 15 % of its throughput. Now the counter values a
-- requirement can read are fetched once, by `liveops_requirement_values`, a
-- set-returning SQL function that PostgreSQL inlines into the calling
-- statement (no function call, no per-call planning), and the tree is
-- walked over that map by `liveops_requirement_holds`, which runs no query
-- for counter leaves. The claim statement (decide.sql), its explanation
-- (explain.sql) and the progress view (`liveops_requirement_leaves`) all
-- read a leaf through `liveops_requirement_leaf_value`, so the three can
-- never disagree (bench/README.md, "Claims with requirements").

-- The counter names a requirement tree mentions, in document order.
create function liveops_requirement_counter_names(requires jsonb)
    returns text[]
    language sql immutable parallel safe
    return array(select jsonb_path_query(requires, 'strict $.**.counter.name') #>> '{}');

-- Kept with the row, so a claim finds the counters it needs by index.
alter table rewards add column requires_counters text[]
    generated always as (liveops_requirement_counter_names(requires)) stored;

-- The user's values of the named counters of a namespace as one JSON
-- object, keyed `<counter>/<period key>` for the whole window ('event') and
-- for `in_period`. A counter that does not exist, was deleted or was never
-- fed has no key (and counts 0). Always exactly one row; a single SELECT,
-- not strict, so the planner inlines it into a lateral join.
create function liveops_requirement_values(counter_names text[], reward_namespace text, claimant uuid, in_period text)
    returns table (counter_values jsonb)
    language sql stable parallel safe
as $$
    select coalesce(jsonb_object_agg(k.name || '/' || v.period_key, v.value), '{}')
    from counters k
    join counter_values v
        on v.counter_id = k.id and v.user_id = claimant and v.period_key in ('event', in_period)
    where cardinality(counter_names) > 0
      and k.namespace = reward_namespace and k.name = any (counter_names) and k.deleted_at is null
$$;

-- The current value of a counter leaf ({"name", "atLeast", "window"}) from
-- the map above: window `Period` reads the claim's period key, `Event`
-- (the default) the whole-window value.
create function liveops_requirement_leaf_value(leaf jsonb, counter_values jsonb, in_period text)
    returns bigint
    language sql immutable parallel safe
    return coalesce((counter_values ->> ((leaf ->> 'name') || '/'
        || case when leaf ->> 'window' = 'Period' then in_period else 'event' end))::bigint, 0);

-- Whether a requirement node holds, given the user's counter values (from
-- `liveops_requirement_values`). Groups stop at the first item that decides
-- them; only a reached `claimed` leaf runs a query. A node of an unknown
-- shape (never written by the operator, which validates specs) is not met.
create function liveops_requirement_holds(
    node jsonb, counter_values jsonb, reward_namespace text, claimant uuid, in_period text
)
    returns boolean
    language plpgsql stable parallel safe
as $$
declare
    items jsonb;
    i int;
begin
    if node ? 'allOf' then
        items := node -> 'allOf';
        for i in 0 .. jsonb_array_length(items) - 1 loop
            if not liveops_requirement_holds(items -> i, counter_values, reward_namespace, claimant, in_period) then
                return false;
            end if;
        end loop;
        return true;
    elsif node ? 'anyOf' then
        items := node -> 'anyOf';
        for i in 0 .. jsonb_array_length(items) - 1 loop
            if liveops_requirement_holds(items -> i, counter_values, reward_namespace, claimant, in_period) then
                return true;
            end if;
        end loop;
        return false;
    elsif node ? 'counter' then
        return liveops_requirement_leaf_value(node -> 'counter', counter_values, in_period)
               >= (node -> 'counter' ->> 'atLeast')::bigint;
    elsif node ? 'claimed' then
        return liveops_requirement_claimed(node -> 'claimed', reward_namespace, claimant);
    end if;
    return false;
end
$$;

-- Every leaf with the user's current value and its target, in document
-- order, for the progress view; as migration 0038's, but counter leaves
-- read through the same map and leaf function as the claim.
create or replace function liveops_requirement_leaves(requires jsonb, reward_namespace text, claimant uuid, in_period text)
    returns table (path text, kind text, name text, counter_window text, current bigint, target bigint)
    language sql stable parallel safe
as $$
    with recursive walk(path, node, sort) as (
        select '', requires, array[]::int[]
        union all
        select w.path || case when w.path = '' then '' else '.' end || g.key || '[' || (e.ord - 1) || ']',
               e.value, w.sort || e.ord::int
        from walk w
        cross join lateral jsonb_each(w.node) g
        cross join lateral jsonb_array_elements(g.value) with ordinality e(value, ord)
        where g.key in ('allOf', 'anyOf') and jsonb_typeof(g.value) = 'array'
    ),
    found as (
        select counter_values
        from liveops_requirement_values(liveops_requirement_counter_names(requires), reward_namespace, claimant, in_period)
    )
    select w.path,
           case when w.node ? 'counter' then 'counter' else 'claimed' end,
           coalesce(w.node -> 'counter' ->> 'name', w.node -> 'claimed' ->> 'reward'),
           case when w.node ? 'counter' then coalesce(w.node -> 'counter' ->> 'window', 'Event') end,
           case when w.node ? 'counter'
                then liveops_requirement_leaf_value(w.node -> 'counter', f.counter_values, in_period)
                else liveops_requirement_claimed(w.node -> 'claimed', reward_namespace, claimant)::int end,
           case when w.node ? 'counter' then (w.node -> 'counter' ->> 'atLeast')::bigint else 1 end
    from walk w, found f
    where w.node ? 'counter' or w.node ? 'claimed'
    order by w.sort
$$;

-- Superseded by the functions above.
drop function liveops_requirement_met(jsonb, text, uuid, text);
drop function liveops_requirement_current(jsonb, text, uuid, text);
