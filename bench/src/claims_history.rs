//! The history scenario of `claims_bench` (issue 14): a ledger of 1 M
//! claims seeded by SQL under the bench event, then `GET /claims/filter`
//! with the filters an operator or auditor uses, selective and not.

/// The bench event (`bench/claims/run.sh` makes it).
const EVENT_ID: &str = "00000000-0000-4000-9000-000000000001";
/// A user with five claims, all older than the rest of the ledger: the
/// worst case for a newest-first scan.
const RARE_USER_ID: &str = "00000000-0000-4000-8000-999999999999";

/// Claims seeded.
pub const SEEDED_CLAIMS: u32 = 1_000_000;

/// SQL seeding the ledger: `SEEDED_CLAIMS` claims of the pgbench users
/// (`connections` of them) on the 60 spread rewards, one in a hundred a
/// refusal, 0.1 s apart going back from a day ago; the rare user's five.
pub fn seed_sql(connections: usize) -> Vec<String> {
    vec![
        format!(
            "insert into users (id, email, password_hash, birth_date, invite_code) \
             values ('{RARE_USER_ID}', 'history-rare@example.com', 'no-login', '1990-01-01', 'HISTRARE') \
             on conflict do nothing"
        ),
        format!(
            "insert into claims (user_id, reward_id, event_id, status, reason, period_key, slot, created_at) \
             select ('00000000-0000-4000-8000-' || lpad((n % {connections})::text, 12, '0'))::uuid, \
                    ('00000000-0000-4000-9100-' || lpad((n % 60)::text, 12, '0'))::uuid, '{EVENT_ID}', \
                    (case when n % 100 = 0 then 'failed' else 'success' end)::claim_status, \
                    case when n % 100 = 0 then 'SOLD_OUT' end, 'history', n, \
                    now() - interval '1 day' - n * interval '100 milliseconds' \
             from generate_series(1, {SEEDED_CLAIMS}) as n"
        ),
        format!(
            "insert into claims (user_id, reward_id, event_id, status, period_key, slot, created_at) \
             select '{RARE_USER_ID}', '00000000-0000-4000-9100-000000000000', '{EVENT_ID}', 'success', \
                    'history', n, now() - interval '30 days' - n * interval '1 hour' \
             from generate_series(1, 5) as n"
        ),
        "analyze claims".to_owned(),
    ]
}

/// `GET /claims/filter` URLs sent in turn: each filter alone, and the
/// rare user's refusals (none: the whole ledger matches nothing).
pub fn filter_urls(api_url: &str) -> Vec<String> {
    let user_3 = "00000000-0000-4000-8000-000000000003";
    let reward_5 = "00000000-0000-4000-9100-000000000005";
    [
        "status=success".to_owned(),
        format!("eventId={EVENT_ID}"),
        format!("userId={user_3}"),
        format!("userId={RARE_USER_ID}"),
        format!("rewardId={reward_5}"),
        "status=failed".to_owned(),
        format!("status=failed&userId={RARE_USER_ID}"),
        format!("userId={user_3}&rewardId={reward_5}"),
    ]
    .iter()
    .map(|query| format!("{api_url}/claims/filter?{query}"))
    .collect()
}
