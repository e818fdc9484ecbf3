//! The claim statement exactly as the API server sends it
//! (`api-server/src/claim/sql/decide.sql`, included at compile time), so
//! the pgbench baseline can never drift from it.

/// The claim statement with its `$1..$6` placeholders.
const CLAIM_SQL: &str = include_str!("../../api-server/src/claim/sql/decide.sql");

/// The claim statement, without its leading comment block.
pub fn claim_sql() -> &'static str {
    let start = CLAIM_SQL.find("with ").unwrap_or(0);
    CLAIM_SQL[start..].trim()
}

/// The claim statement as a pgbench script: `$1` the reward (a literal),
/// `$2` the user of the pgbench client (`:client_id`-numbered, ids made by
/// [`bench_user_id_sql`]), no verified condition and no idempotency key, a
/// fresh claim id, as the API sends for a condition-free event.
pub fn pgbench_script(reward_id: &str) -> String {
    let script = claim_sql()
        .lines()
        .map(|line| line.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
        .replace("$1", &format!("'{reward_id}'::uuid"))
        .replace("$2", &bench_user_id_sql(":client_id"))
        .replace("$3", "null::bigint")
        .replace("$4", "null::text")
        .replace("$5", "gen_random_uuid()")
        .replace("$6", "86400::float8");
    format!("{script};\n")
}

/// Rewards of the spread scenario (`bench/claims/run.sh` makes them).
pub const SPREAD_REWARDS: usize = 60;

/// Id of spread reward `n` (0-based): `00000000-0000-4000-9100-` followed by
/// `n` in 12 digits.
pub fn spread_reward_id(n: usize) -> String {
    format!("00000000-0000-4000-9100-{n:012}")
}

/// SQL computing the id of spread reward `n` (a pgbench expression).
pub fn spread_reward_id_sql(n: &str) -> String {
    format!("('00000000-0000-4000-9100-' || lpad(({n})::text, 12, '0'))::uuid")
}

/// The baseline of the issue-14 targets: the same grant sent as a naive
/// client would, six round trips (BEGIN, read the reward and its event,
/// insert the claim at the user's next slot, take one unit of stock, write
/// the outbox row, COMMIT). `reward` is a SQL expression (a literal, or
/// [`spread_reward_id_sql`] of a pgbench variable); `prelude` goes first
/// (pgbench `\set` lines).
pub fn naive_pgbench_script(prelude: &str, reward: &str) -> String {
    let user = bench_user_id_sql(":client_id");
    format!(
        "{prelude}BEGIN;\n\
         select r.per_user_limit, r.quantity, r.claimed, e.id, e.starts_at, e.ends_at, e.generation \
         from rewards r join events e on e.id = r.event_id where r.id = {reward};\n\
         insert into claims (user_id, reward_id, event_id, status, period_key, slot, event_generation) \
         select {user}, r.id, r.event_id, 'success', 'once', coalesce((select max(c.slot) from claims c \
         where c.user_id = {user} and c.reward_id = r.id and c.period_key = 'once' \
         and c.status = 'success'), 0) + 1, 1 from rewards r where r.id = {reward};\n\
         update rewards set claimed = claimed + 1 where id = {reward} and (quantity is null or claimed < quantity);\n\
         insert into outbox (event_type, payload) values ('dev.liveops.reward.claimed', \
         jsonb_build_object('rewardId', {reward}, 'userId', {user}));\n\
         COMMIT;\n"
    )
}

/// SQL computing the id of bench user `n` (0-based): ids are
/// `00000000-0000-4000-8000-` followed by `n` in 12 digits.
pub fn bench_user_id_sql(n: &str) -> String {
    format!("('00000000-0000-4000-8000-' || lpad(({n})::text, 12, '0'))::uuid")
}

#[cfg(test)]
mod tests {
    use super::{claim_sql, naive_pgbench_script, pgbench_script, spread_reward_id, spread_reward_id_sql};

    #[test]
    fn the_claim_statement_is_found_with_its_six_placeholders() {
        let sql = claim_sql();
        assert!(sql.starts_with("with prior as"), "{sql}");
        for placeholder in ["$1", "$2", "$3", "$4", "$5", "$6"] {
            assert!(sql.contains(placeholder), "{placeholder} missing");
        }
        assert!(!sql.contains("$7"));
    }

    #[test]
    fn the_pgbench_script_has_no_placeholders_or_comments_left_and_one_terminator() {
        let script = pgbench_script("00000000-0000-0000-0000-000000000001");
        assert!(!script.contains('$') && !script.contains("--"));
        assert_eq!(script.matches(';').count(), 1);
        assert!(script.contains(":client_id"));
    }

    #[test]
    fn the_naive_script_is_six_statements_with_the_prelude_first() {
        let script = naive_pgbench_script("\\set n random(0, 59)\n", &spread_reward_id_sql(":n"));
        assert!(script.starts_with("\\set n random(0, 59)\nBEGIN;"), "{script}");
        assert_eq!(script.matches(";\n").count(), 6, "{script}");
        assert!(script.ends_with("COMMIT;\n"));
        assert_eq!(spread_reward_id(7), "00000000-0000-4000-9100-000000000007");
    }
}
