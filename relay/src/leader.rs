//! One active publisher: the replica holding a session-level PostgreSQL
//! advisory lock publishes, the others wait as standbys.
//!
//! One publisher is what keeps the broker's order equal to the outbox's id
//! order for the messages of one Event; batches taken with `FOR UPDATE SKIP
//! LOCKED` by several replicas could be acknowledged in any order. The lock
//! lives on a dedicated connection, never a pooled one, and the leader runs
//! all its outbox queries on it: when the leader dies (`kill -9`, a crashed
//! node) PostgreSQL ends that session, the lock is free and a standby takes
//! it at its next poll (RELAY_STANDBY_POLL_MS); when that connection breaks
//! under a live leader, its next query fails and it stops publishing.

use std::{str::FromStr, time::Duration};

use sqlx::{ConnectOptions, PgConnection, postgres::PgConnectOptions};

use crate::backoff::Backoff;

/// The advisory lock key: "liveopsR" in ASCII. Advisory locks are per
/// database, so each liveops database has its own leader.
pub const LOCK_KEY: i64 = 0x6c69_7665_6f70_7352;
/// `application_name` of the lock connection, visible in pg_stat_activity.
pub const APPLICATION_NAME: &str = "liveops-relay";

/// Waits until this replica holds the lock; returns the connection that
/// holds it. Retries unreachable databases forever, with backoff.
pub async fn acquire(database_url: &str, poll: Duration) -> PgConnection {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        match connect(database_url).await {
            Ok(mut conn) => match wait_for_lock(&mut conn, poll).await {
                Ok(()) => return conn,
                Err(error) => tracing::warn!(%error, "lost the database while waiting for the relay lock"),
            },
            Err(error) => tracing::warn!(%error, "cannot connect to the database"),
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

async fn wait_for_lock(conn: &mut PgConnection, poll: Duration) -> sqlx::Result<()> {
    let mut logged = false;
    loop {
        let locked = sqlx::query_scalar!(r#"select pg_try_advisory_lock($1) as "locked!""#, LOCK_KEY)
            .fetch_one(&mut *conn)
            .await?;
        if locked {
            tracing::info!("holding the relay lock: publishing");
            return Ok(());
        }
        if !logged {
            tracing::info!("another replica publishes: standing by");
            logged = true;
        }
        tokio::time::sleep(poll).await;
    }
}

/// A connection whose death PostgreSQL notices within seconds even when
/// the peer vanishes without closing it (server-side TCP keepalives), so
/// the lock of a dead leader does not outlive it by minutes.
///
/// Its commits wait for the WAL flush (`synchronous_commit=on`, whatever
/// the database's default), though losing them in a database crash would
/// be safe (the rows are published again and dropped by their id): until
/// the deleting commit is flushed, PostgreSQL may not set the hint bits
/// that let a later index scan mark a deleted row's entry dead, so every
/// fetch walked every row deleted in the last ~200 ms (the WAL writer's
/// delay). Under a drain that was most of PostgreSQL's work per relayed
/// message; one flush per batch costs far less (bench/README.md, "Stop 22").
async fn connect(database_url: &str) -> sqlx::Result<PgConnection> {
    PgConnectOptions::from_str(database_url)?
        .application_name(APPLICATION_NAME)
        .options([
            ("tcp_keepalives_idle", "5"),
            ("tcp_keepalives_interval", "2"),
            ("tcp_keepalives_count", "3"),
            ("synchronous_commit", "on"),
        ])
        .connect()
        .await
}
