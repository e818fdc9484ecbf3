-- Event bus, second part (DESIGN.md, "Second stage" -> "Event bus"):
-- `dev.liveops.event.phase_changed` written by the database itself, and the
-- tables behind outbound webhooks (Standard Webhooks).

-- phase_changed ------------------------------------------------------------
-- Both operator modes (cluster and manifests directory) write events.phase,
-- the projection's upsert and the phase timer's batched update alike, so a
-- trigger covers every writer, present and future, and the outbox row
-- commits or rolls back with the phase change itself. A row inserted by the
-- projection announces its first phase with `from` = null; an update that
-- leaves the phase as it was writes nothing (the WHEN clause).
--
-- The CloudEvents id hashes the transition with the writing transaction's
-- id: a copy republished by the relay keeps the id stored in the row, and
-- two real transitions never share one, even Active -> Suspended -> Active
-- -> Suspended within one generation (JetStream would drop the second as a
-- duplicate inside its window otherwise). `data` is relay/src/event_schema.rs's
-- PhaseChanged (docs/events/dev.liveops.event.phase_changed.schema.json).
create function liveops_announce_phase_change() returns trigger
language plpgsql as $$
declare
    previous text := case when tg_op = 'UPDATE' then old.phase::text end;
begin
    insert into outbox (event_type, payload)
    values ('dev.liveops.event.phase_changed', jsonb_build_object(
        'specversion', '1.0',
        'id', md5(concat_ws('/', 'dev.liveops.event.phase_changed', new.id, new.generation,
                            coalesce(previous, '-'), new.phase, pg_current_xact_id()))::uuid,
        'source', '/liveops/events/' || new.namespace || '/' || new.name,
        'type', 'dev.liveops.event.phase_changed',
        'time', now(),
        'subject', new.phase,
        'datacontenttype', 'application/json',
        'data', jsonb_build_object(
            'eventId', new.id, 'namespace', new.namespace, 'name', new.name,
            'from', previous, 'to', new.phase, 'at', now(),
            'generation', new.generation)));
    return null;
end
$$;

create trigger events_phase_inserted
    after insert on events
    for each row execute function liveops_announce_phase_change();

create trigger events_phase_changed
    after update of phase on events
    for each row when (old.phase is distinct from new.phase)
    execute function liveops_announce_phase_change();

-- Webhook endpoints ----------------------------------------------------------
-- The projection of the WebhookEndpoint custom resource. Contract:
-- * The operator owns the definition columns and upserts on (namespace,
--   name), as for events: url, event_types (spec.eventTypes; empty = every
--   type), secret (the key material copied from the Secret named by
--   spec.secretRef, in the Standard Webhooks form `whsec_<base64>`; a bare
--   value is used as raw key bytes), suspended (spec.suspend),
--   allow_private (spec.allowPrivate: explicit opt-in for loopback,
--   private, link-local and cluster-internal targets), generation,
--   deleted_at (soft delete: no new deliveries; pending ones are dropped).
--   When it writes a new generation it clears disabled_reason, so an edited
--   resource is tried again after a 410.
-- * The relay owns the delivery-health columns and never touches the
--   others: last_success_at, last_failure_at, last_status (HTTP status of
--   the last answer, null when none came), last_error, consecutive_failures
--   (reset by a 2xx), disabled_reason (set when the receiver answered 410
--   Gone; no delivery is made while it is set). The operator copies them
--   into the resource's status.
create table webhook_endpoints (
    id                   uuid primary key default gen_random_uuid(),
    namespace            text        not null,
    name                 text        not null,
    url                  text        not null check (url ~* '^https?://'),
    event_types          text[]      not null default '{}',
    secret               text        not null,
    suspended            boolean     not null default false,
    allow_private        boolean     not null default false,
    generation           bigint      not null default 1,
    deleted_at           timestamptz,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    last_success_at      timestamptz,
    last_failure_at      timestamptz,
    last_status          integer,
    last_error           text,
    consecutive_failures integer     not null default 0 check (consecutive_failures >= 0),
    disabled_reason      text,
    unique (namespace, name)
);

-- One row per (outbox row, endpoint), written by the relay in the statement
-- that marks the outbox row published (so transport `none` delivers
-- webhooks too), for every endpoint live, unsuspended, enabled and
-- subscribed to the type at that moment. The event is copied so outbox
-- retention never races a slow receiver. A row is finished when
-- delivered_at (2xx) or gave_up_at (attempts exhausted, 410, endpoint gone
-- or refused by the SSRF guard) is set; finished rows are deleted after
-- RELAY_RETENTION_SECONDS like published outbox rows.
create table webhook_deliveries (
    outbox_id       bigint      not null,
    endpoint_id     uuid        not null references webhook_endpoints (id) on delete cascade,
    -- the CloudEvents id: the Standard Webhooks `webhook-id`, the same on
    -- every attempt so receivers deduplicate
    message_id      text        not null,
    event_type      text        not null,
    payload         jsonb       not null,
    attempts        integer     not null default 0 check (attempts >= 0),
    next_attempt_at timestamptz not null default now(),
    delivered_at    timestamptz,
    gave_up_at      timestamptz,
    last_status     integer,
    last_error      text,
    created_at      timestamptz not null default now(),
    primary key (outbox_id, endpoint_id)
);
create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at)
    where delivered_at is null and gave_up_at is null;
create index webhook_deliveries_finished_idx on webhook_deliveries (coalesce(delivered_at, gave_up_at))
    where delivered_at is not null or gave_up_at is not null;
