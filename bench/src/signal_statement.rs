//! The signal batch statement the API sends (`record_signals.sql`, included
//! from the api-server's source so the pgbench baseline never drifts from
//! it), as a pgbench script recording `batch` fresh Sum signals per run.

/// The statement, verbatim.
pub fn record_sql() -> &'static str {
    include_str!("../../api-server/src/ingest/sql/record_signals.sql")
}

/// Bench user `n` (0-based), as `run.sh` inserts them: a SQL expression.
pub fn bench_user_sql(n: &str) -> String {
    format!("('00000000-0000-4000-8000-' || lpad(({n})::text, 12, '0'))::uuid")
}

/// The statement as a pgbench script: `client_id` the IngestClient row,
/// `batch` signals with fresh ids on counter `counter`, delta 1, users
/// spread over `users` bench users, occurred now.
pub fn pgbench_script(client_id: &str, counter: &str, batch: usize, users: usize) -> String {
    let series = format!("generate_series(1, {batch}) as g");
    let user = bench_user_sql(&format!("(:r + g * 7) % {users}"));
    let arguments = [
        format!("'{client_id}'::uuid"),
        format!("(select array_agg(gen_random_uuid()::text) from {series})"),
        format!("(select array_agg({user} order by g) from {series})"),
        format!("array_fill('{counter}'::text, array[{batch}])"),
        format!("array_fill('delta'::text, array[{batch}])"),
        format!("array_fill(1::int8, array[{batch}])"),
        format!("array_fill(now(), array[{batch}])"),
        format!("array_fill(''::text, array[{batch}])"),
    ];
    let mut sql: String = record_sql()
        .lines()
        .map(|line| line.split("--").next().unwrap_or_default().trim_end())
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    // Highest first, so `$1` does not match the start of `$10`-style names.
    for (index, argument) in arguments.iter().enumerate().rev() {
        sql = sql.replace(&format!("${}", index + 1), argument);
    }
    format!("\\set r random(0, {users})\n{sql};\n")
}

#[cfg(test)]
mod tests {
    use super::pgbench_script;

    #[test]
    fn the_script_has_no_placeholders_or_comments_left_and_one_terminator() {
        let script = pgbench_script("00000000-0000-0000-0000-000000000001", "kills", 100, 1000);
        assert!(!script.contains('$') && !script.contains("--"), "{script}");
        assert_eq!(script.matches(';').count(), 1);
        assert!(script.contains("array_fill(1::int8, array[100])"));
    }
}
