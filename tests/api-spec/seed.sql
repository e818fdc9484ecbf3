-- What the operator would have projected, so the claim and listing routes
-- reach their real logic: one open event without a condition, with an
-- unlimited reward and a reward of stock 1 (grants, then SOLD_OUT and
-- ALREADY_CLAIMED), and an event that has ended (EVENT_NOT_ACTIVE).
insert into events (id, namespace, name, display_name, description, starts_at, ends_at,
                    time_zone, condition, claim_frequency, phase, generation)
values ('5e0a0000-0000-4000-8000-000000000001', 'default', 'spec-open', 'Open event', 'claims are open',
        now() - interval '1 hour', now() + interval '1 day', 'UTC', '{}', 'Daily', 'Active', 1),
       ('5e0a0000-0000-4000-8000-000000000002', 'default', 'spec-ended', 'Ended event', 'claims are closed',
        now() - interval '2 days', now() - interval '1 day', 'UTC', '{}', 'Once', 'Ended', 1);

insert into rewards (id, event_id, namespace, name, display_name, quantity, payload, generation)
values ('5e0b0000-0000-4000-8000-000000000001', '5e0a0000-0000-4000-8000-000000000001', 'default',
        'spec-gems', 'Gems', null, '{"item": "gem", "count": 5}', 1),
       ('5e0b0000-0000-4000-8000-000000000002', '5e0a0000-0000-4000-8000-000000000001', 'default',
        'spec-crown', 'Crown', 1, '{"item": "crown"}', 1),
       ('5e0b0000-0000-4000-8000-000000000003', '5e0a0000-0000-4000-8000-000000000002', 'default',
        'spec-late', 'Late reward', null, null, 1);
