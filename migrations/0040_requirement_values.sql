-- Reward requirements without a query per leaf (issue 12's benchmark:
-- claims with requirements within 10 % of claims without).
--
-- Migration 0038 looked every counter leaf up with its own PL/pgSQL query
-- (an executor start and four relation locks each, under 32 concurrent
-- claims about 15 % of the claim's throughput). Now a reward keeps the
-- counter names its requirement mentions (`requires_counters`), the claim
-- statement fetches their values in one look-up of its own
-- (`liveops_requirement_values`, inlined), and the tree is walked over that
-- map by `liveops_requirement_holds`, which runs no query for counter
-- leaves and calls itself only for nested groups. The claim statement
-- (decide.sql), its explanation (explain.sql) and the progress view
-- (`liveops_requirement_leaves`) read a leaf through the same
-- `liveops_requirement_leaf_value` over the same map, so the three can
-- never disagree (bench/README.md, "Claims with requirements").

-- The counter names a requirement tree mentions, in document order.
create function liveops_requirement_counter_names(requires jsonb)
    returns text[]
    language sql immutable parallel safe
    return array(select jsonb_path_query(requires, 'strict $.**.counter.name') #>> '{}');

-- Kept with the row, so a claim finds the counters it needs by index. Set
-- by a trigger on writes of `requires`, not as a generated column: PostgreSQL
-- 15 rebuilds a stored generated column's expression on every UPDATE of the
-- row, and every granted claim updates its reward's `claimed`.
alter table rewards add column requires_counters text[] not null default '{}';

create function liveops_rewards_requires_counters() returns trigger
    language plpgsql
as $$
begin
    new.requires_counters := liveops_requirement_counter_names(new.requires);
    return new;
end
$$;

create trigger rewards_requires_counters
    before insert or update of requires on rewards
    for each row execute function liveops_rewards_requires_counters();

update rewards set requires = requires where requires is not null;

-- The user's values of the named counters of a namespace as one JSON
-- object, keyed `<counter>/<period key>` for the whole window ('event') and
-- for `in_period`: one look-up however many leaves name them. A counter
-- that does not exist, was deleted or was never fed has no key (and counts
-- 0). Always exactly one row. A single SELECT in a set-returning SQL
-- function, so the planner inlines it into the claim statement's lateral
-- join: no function call, no query of its own, and for a reward without
-- requirements the one-time filter skips the look-up.
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

-- Whether a leaf ({"counter": ...} or {"claimed": ...}) holds, given the
-- user's counter values; a SQL-standard body, inlined where it is used.
-- Only a `claimed` leaf runs a query. A node of an unknown shape (never
-- written by the operator, which validates specs) is not met.
create function liveops_requirement_leaf_holds(
    leaf jsonb, counter_values jsonb, reward_namespace text, claimant uuid, in_period text
)
    returns boolean
    language sql stable parallel safe
    return case
        when leaf ? 'counter' then liveops_requirement_leaf_value(leaf -> 'counter', counter_values, in_period)
                                   >= (leaf -> 'counter' ->> 'atLeast')::bigint
        when leaf ? 'claimed' then liveops_requirement_claimed(leaf -> 'claimed', reward_namespace, claimant)
        else false
    end;

-- Whether a requirement node holds, given the user's counter values (from
-- `liveops_requirement_values`). Groups stop at the first item that decides
-- them; leaves are judged in the loop, only nested groups cost a call.
create function liveops_requirement_holds(
    node jsonb, counter_values jsonb, reward_namespace text, claimant uuid, in_period text
)
    returns boolean
    language plpgsql stable parallel safe
as $$
declare
    any_of boolean := node ? 'anyOf';
    items jsonb := coalesce(node -> 'allOf', node -> 'anyOf');
    item jsonb;
    holds boolean;
    i int;
begin
    if jsonb_typeof(items) is distinct from 'array' then
        return liveops_requirement_leaf_holds(node, counter_values, reward_namespace, claimant, in_period);
    end if;
    -- allOf stops at the first false item, anyOf at the first true one
    for i in 0 .. jsonb_array_length(items) - 1 loop
        item := items -> i;
        if item ? 'allOf' or item ? 'anyOf' then
            holds := liveops_requirement_holds(item, counter_values, reward_namespace, claimant, in_period);
        else
            holds := liveops_requirement_leaf_holds(item, counter_values, reward_namespace, claimant, in_period);
        end if;
        if holds = any_of then
            return any_of;
        end if;
    end loop;
    return not any_of;
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
