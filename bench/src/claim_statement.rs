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

/// SQL computing the id of bench user `n` (0-based): ids are
/// `00000000-0000-4000-8000-` followed by `n` in 12 digits.
pub fn bench_user_id_sql(n: &str) -> String {
    format!("('00000000-0000-4000-8000-' || lpad(({n})::text, 12, '0'))::uuid")
}

#[cfg(test)]
mod tests {
    use super::{claim_sql, pgbench_script};

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
}
