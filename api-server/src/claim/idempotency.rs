//! `Idempotency-Key` for claims: the header's rules, and the expiry of keys.
//! Keys are written and answered by the claim statements themselves (see
//! `sql/decide.sql`, `sql/record_refusal.sql` and [`super::answer`]), so a
//! claim that committed answers every retry with the same key, even when
//! the first answer never reached the client.

use std::time::Duration;

use sqlx::PgPool;

/// Longest key accepted; keys are client-generated tokens such as UUIDs.
pub const MAX_KEY_LEN: usize = 255;

/// Keys deleted per statement, so that cleanup never holds many row locks
/// or runs long, however many keys expired at once.
const CLEANUP_BATCH: i64 = 5_000;

/// How often expired keys are looked for.
const CLEANUP_INTERVAL: Duration = Duration::from_secs(60);

/// Checks the header's value: 1 to [`MAX_KEY_LEN`] visible ASCII characters.
pub fn parse_key(raw: &[u8]) -> Result<&str, String> {
    let key = std::str::from_utf8(raw).map_err(|_| "Idempotency-Key must be ASCII".to_owned())?;
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
        ));
    }
    Ok(key)
}

/// Deletes keys older than `ttl`, at most [`CLEANUP_BATCH`] per statement,
/// until none is left; returns how many were deleted. The claim rows they
/// pointed at stay: the ledger is never trimmed.
pub async fn forget_expired_keys(db: &PgPool, ttl: Duration) -> sqlx::Result<u64> {
    let mut forgotten = 0;
    loop {
        let deleted = sqlx::query!(
            "delete from claim_idempotency_keys
             where (user_id, key) in (
                 select user_id, key from claim_idempotency_keys
                 where created_at <= now() - make_interval(secs => $1)
                 order by created_at
                 limit $2
                 for update skip locked)",
            ttl.as_secs_f64(),
            CLEANUP_BATCH,
        )
        .execute(db)
        .await?
        .rows_affected();
        forgotten += deleted;
        if deleted < CLEANUP_BATCH.unsigned_abs() {
            return Ok(forgotten);
        }
    }
}

/// Runs [`forget_expired_keys`] every minute until the task is dropped;
/// a failed pass (database away) is logged and tried again next time.
pub async fn run_key_cleanup(db: PgPool, ttl: Duration) {
    let mut ticks = tokio::time::interval(CLEANUP_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match forget_expired_keys(&db, ttl).await {
            Ok(0) => {}
            Ok(forgotten) => tracing::debug!(forgotten, "expired Idempotency-Keys forgotten"),
            Err(error) => tracing::warn!(%error, "could not forget expired Idempotency-Keys"),
        }
    }
}
