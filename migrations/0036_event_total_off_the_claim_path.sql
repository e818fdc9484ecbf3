-- Issue 14: a claim no longer updates its Event row unless the event has a
-- cap. Every claim used to add one to `events.claims_total`, so all the
-- rewards of an event queued on one row lock, held through the commit
-- (measured with pgbench, 32 clients over 60 rewards of one event, fsync
-- on: ~250 claims/s with the update, ~950 without).
--
-- What stays exact:
-- * capped events (`max_claims` set): the claim statement still adds to
--   `claims_total` under the row lock, which is what enforces the cap;
-- * the stock (`rewards.claimed`), and so the event total, which is the
--   sum of its rewards' `claimed`.
-- For uncapped events `claims_total` is a copy of that sum, brought up to
-- date about once a second by the API server
-- (api-server/src/claim/event_totals.rs), so the operator's readers of
-- `claims_total` (statuses, `kubectl liveops explain-claim`) keep working
-- with at most that lag on top of their own polling.
--
-- When an event gains or loses its cap, claims that read the old state
-- must not slip past the new one. `rewards.event_capped` copies "the
-- event has a cap" onto every reward row, the row each claim locks: the
-- trigger below rewrites those rows (waiting for claims holding them),
-- then sets `claims_total` from the sum with a fresh snapshot. A claim
-- that read the old state and reaches its reward row afterwards finds
-- `event_capped` changed and runs again (decide.sql, `CAP_CHANGED`).

alter table rewards add column event_capped boolean not null default false;

update rewards r set event_capped = true
from events e
where e.id = r.event_id and e.max_claims is not null;

create function liveops_event_cap_changed() returns trigger
    language plpgsql
as $$
begin
    if (old.max_claims is null) <> (new.max_claims is null) then
        update rewards set event_capped = (new.max_claims is not null)
        where event_id = new.id and event_capped <> (new.max_claims is not null);
        -- a new statement: a fresh snapshot, after the claims holding the
        -- reward rows above have committed
        new.claims_total := (select coalesce(sum(claimed), 0) from rewards where event_id = new.id);
    end if;
    return new;
end
$$;

create trigger events_cap_changed
    before update of max_claims on events
    for each row execute function liveops_event_cap_changed();

-- A reward written under an event (the operator's projection, a moved
-- eventRef) takes that event's cap state.
create function liveops_reward_event_capped() returns trigger
    language plpgsql
as $$
begin
    new.event_capped := exists (
        select 1 from events where id = new.event_id and max_claims is not null);
    return new;
end
$$;

create trigger rewards_event_capped
    before insert or update of event_id on rewards
    for each row execute function liveops_reward_event_capped();

-- The cap state of a reward as committed now (volatile: a fresh snapshot
-- even inside the claim statement), to tell "sold out" from "the cap
-- changed under this claim".
create function liveops_reward_capped_now(reward uuid) returns boolean
    language plpgsql volatile
as $$
begin
    return (select event_capped from rewards where id = reward);
end
$$;
