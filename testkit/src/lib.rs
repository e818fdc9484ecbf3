//! A fresh, migrated PostgreSQL database for each test.
//!
//! Connects to `DATABASE_URL` (the test command starts a throwaway server
//! and sets it; default `postgres://postgres@127.0.0.1:5432/postgres`),
//! migrates a template database once per schema version, and clones it per
//! test with `CREATE DATABASE ... TEMPLATE`, which is much faster than
//! running every migration for every test.
//!
//! [`smtp::SmtpServer`] is a real SMTP server that keeps what it receives,
//! for tests of the mail the API sends.
#![forbid(unsafe_code)]

pub mod smtp;
pub mod tcp_proxy;

use sqlx::{Connection, Executor, PgConnection, PgPool, postgres::PgPoolOptions};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for one test. Dropped databases are not removed:
/// the throwaway server is deleted as a whole after the run.
pub struct TestDb {
    /// Pool connected to the test's own database.
    pub pool: PgPool,
    /// Connection URL of the test's own database.
    pub url: String,
}

/// The server URL tests run against.
pub fn server_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let base = match base.rfind('/') {
        Some(slash) if slash > "postgres://".len() => &base[..slash],
        _ => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

fn template_name() -> String {
    // The template's name changes with the schema, so an edited migration
    // never reuses a stale template.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for migration in liveops_domain::MIGRATOR.iter() {
        for byte in migration.checksum.iter() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("liveops_tpl_{hash:016x}")
}

async fn ensure_template(admin: &mut PgConnection, server: &str, template: &str) {
    // Serialise template creation across concurrently running test binaries.
    admin
        .execute("select pg_advisory_lock(727274)")
        .await
        .expect("advisory lock for the template database");
    let exists: bool = sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
        .bind(template)
        .fetch_one(&mut *admin)
        .await
        .expect("look up the template database");
    if !exists {
        admin
            .execute(sqlx::AssertSqlSafe(format!(r#"create database "{template}""#)))
            .await
            .expect("create the template database");
        let mut conn = PgConnection::connect(&with_database(server, template))
            .await
            .expect("connect to the template database");
        liveops_domain::MIGRATOR
            .run(&mut conn)
            .await
            .expect("migrate the template database");
        conn.close().await.expect("close the template connection");
    }
    admin
        .execute("select pg_advisory_unlock(727274)")
        .await
        .expect("release the template lock");
}

impl TestDb {
    /// Creates and migrates a database of its own for the calling test.
    pub async fn new() -> Self {
        let server = server_url();
        let mut admin = PgConnection::connect(&server)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {server}: {e}"));
        let template = template_name();
        ensure_template(&mut admin, &server, &template).await;
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                r#"create database "{name}" template "{template}""#
            )))
            .await
            .expect("create the test database");
        admin.close().await.ok();
        let url = with_database(&server, &name);
        let pool = PgPoolOptions::new()
            .max_connections(20)
            .connect(&url)
            .await
            .expect("connect to the test database");
        Self { pool, url }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_and_keeps_the_query() {
        assert_eq!(
            with_database("postgres://u@h:5/postgres?sslmode=disable", "x"),
            "postgres://u@h:5/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:5/db", "x"), "postgres://u@h:5/x");
        assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
    }
}
