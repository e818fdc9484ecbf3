-- Reward requirements (issue 12; DESIGN.md, "Second stage", "Challenges"):
-- `rewards.requires` (migration 0037) holds `Reward.spec.requires` as the
-- CRD writes it: {"allOf": [...]} or {"anyOf": [...]} of nested groups and
-- leaves {"counter": {"name", "atLeast", "window"}} and {"claimed":
-- {"reward"}}. The claim statement (api-server/src/claim/sql/decide.sql)
-- and the progress view judge it with the same `liveops_requirement_met`,
-- so progress can never promise a claim the claim refuses.
--
-- The leaf look-ups are PL/pgSQL, not SQL functions: PostgreSQL 15 plans a
-- non-inlined SQL function's query on every call, while PL/pgSQL keeps its
-- plans for the session, which is what keeps a requirement cheap on the
-- claim path (bench/README.md, "Claims with requirements").

-- The value of a counter leaf for a user: the counter is resolved by
-- (reward namespace, counter name); window `Period` reads the claim's
-- period key, `Event` (the default) the whole-window value 'event'. A
-- counter that does not exist, was deleted or was never fed counts 0.
create function liveops_requirement_current(leaf jsonb, reward_namespace text, claimant uuid, in_period text)
    returns bigint
    language plpgsql stable parallel safe
as $$
begin
    return coalesce((
        select v.value
        from counters k
        join counter_values v
            on v.counter_id = k.id and v.user_id = claimant
           and v.period_key = case when leaf ->> 'window' = 'Period' then in_period else 'event' end
        where k.namespace = reward_namespace and k.name = leaf ->> 'name' and k.deleted_at is null
    ), 0);
end
$$;

-- Whether a `claimed` leaf holds: a successful claim, in any period, of
-- the named Reward of the same namespace (a deleted Reward's claims count).
create function liveops_requirement_claimed(leaf jsonb, reward_namespace text, claimant uuid)
    returns boolean
    language plpgsql stable parallel safe
as $$
begin
    return exists (
        select 1
        from rewards r
        join claims c on c.reward_id = r.id and c.user_id = claimant and c.status = 'success'
        where r.namespace = reward_namespace and r.name = leaf ->> 'reward'
    );
end
$$;

-- Whether a requirement node holds for a user in a claim period. Groups
-- stop at the first item that decides them; a node of an unknown shape
-- (never written by the operator, which validates specs) is not met.
create function liveops_requirement_met(node jsonb, reward_namespace text, claimant uuid, in_period text)
    returns boolean
    language plpgsql stable parallel safe
as $$
declare
    items jsonb;
    i int;
begin
    -- items are walked by index: plain expressions, no query per group
    if node ? 'allOf' then
        items := node -> 'allOf';
        for i in 0 .. jsonb_array_length(items) - 1 loop
            if not liveops_requirement_met(items -> i, reward_namespace, claimant, in_period) then
                return false;
            end if;
        end loop;
        return true;
    elsif node ? 'anyOf' then
        items := node -> 'anyOf';
        for i in 0 .. jsonb_array_length(items) - 1 loop
            if liveops_requirement_met(items -> i, reward_namespace, claimant, in_period) then
                return true;
            end if;
        end loop;
        return false;
    elsif node ? 'counter' then
        return liveops_requirement_current(node -> 'counter', reward_namespace, claimant, in_period)
               >= (node -> 'counter' ->> 'atLeast')::bigint;
    elsif node ? 'claimed' then
        return liveops_requirement_claimed(node -> 'claimed', reward_namespace, claimant);
    end if;
    return false;
end
$$;

-- Every leaf of a requirement tree with the user's current value and the
-- target, in document order, for the progress view. `path` locates the
-- leaf (`allOf[0].anyOf[1]`); a `claimed` leaf reads 1 when held, else 0,
-- against a target of 1.
create function liveops_requirement_leaves(requires jsonb, reward_namespace text, claimant uuid, in_period text)
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
    )
    select w.path,
           case when w.node ? 'counter' then 'counter' else 'claimed' end,
           coalesce(w.node -> 'counter' ->> 'name', w.node -> 'claimed' ->> 'reward'),
           case when w.node ? 'counter' then coalesce(w.node -> 'counter' ->> 'window', 'Event') end,
           case when w.node ? 'counter'
                then liveops_requirement_current(w.node -> 'counter', reward_namespace, claimant, in_period)
                else liveops_requirement_claimed(w.node -> 'claimed', reward_namespace, claimant)::int end,
           case when w.node ? 'counter' then (w.node -> 'counter' ->> 'atLeast')::bigint else 1 end
    from walk w
    where w.node ? 'counter' or w.node ? 'claimed'
    order by w.sort
$$;
