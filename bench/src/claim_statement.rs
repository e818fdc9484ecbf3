//! The claim statement exactly as the API server sends it, lifted from its
//! source at compile time so the pgbench baseline can never drift from it.

/// Source of the API's claim transaction.
const TRANSACTION_SOURCE: &str = include_str!("../../api-server/src/claim/transaction.rs");

/// The SQL of the first `sqlx::query!` in the claim transaction: the claim
/// statement, with its `$1..$4` placeholders.
pub fn claim_sql() -> Option<&'static str> {
    let start = TRANSACTION_SOURCE.find("sqlx::query!(")?;
    let rest = &TRANSACTION_SOURCE[start..];
    let open = rest.find("r#\"")? + 3;
    let close = rest[open..].find("\"#")?;
    Some(rest[open..open + close].trim())
}

/// The claim statement as a pgbench script: `$1` the reward (a literal),
/// `$2` the user of the pgbench client (`:client_id`-numbered, ids made by
/// [`bench_user_id_sql`]), no verified condition and no idempotency key,
/// as the API sends for a condition-free event.
pub fn pgbench_script(reward_id: &str) -> Option<String> {
    let sql = claim_sql()?;
    let script = sql
        .replace("$1", &format!("'{reward_id}'::uuid"))
        .replace("$2", &bench_user_id_sql(":client_id"))
        .replace("$3", "null::bigint")
        .replace("$4", "null::text");
    Some(format!("{script};\n"))
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
    fn the_claim_statement_is_found_with_its_four_placeholders() {
        let sql = claim_sql().expect("claim statement in the API source");
        assert!(sql.starts_with("with target as"), "{sql}");
        for placeholder in ["$1", "$2", "$3", "$4"] {
            assert!(sql.contains(placeholder), "{placeholder} missing");
        }
        assert!(!sql.contains("$5"));
    }

    #[test]
    fn the_pgbench_script_has_no_placeholders_left_and_one_terminator() {
        let script = pgbench_script("00000000-0000-0000-0000-000000000001").expect("script");
        assert!(!script.contains('$'));
        assert_eq!(script.matches(';').count(), 1);
        assert!(script.contains(":client_id"));
    }
}
