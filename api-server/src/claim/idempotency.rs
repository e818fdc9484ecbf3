//! `Idempotency-Key` for claims: the first answer (status and body) is
//! stored in `idempotency_keys` and replayed to every retry with the same key.

use sqlx::PgPool;
use uuid::Uuid;

/// Longest key accepted; keys are client-generated tokens such as UUIDs.
pub const MAX_KEY_LEN: usize = 255;

/// Seconds after which an unanswered reservation may be taken over: far
/// longer than any claim takes, even with every retry.
pub const STALE_RESERVATION_SECS: f64 = 60.0;

/// What a request carrying a key may do.
#[derive(Debug, Clone, PartialEq)]
pub enum Reservation {
    /// First use of the key: go ahead, then [`store_answer`].
    Fresh,
    /// The key was answered before: send this answer again.
    Replay {
        /// HTTP status of the first answer.
        status: u16,
        /// JSON body of the first answer.
        body: serde_json::Value,
    },
    /// A request with this key is still being answered (or died less than
    /// [`STALE_RESERVATION_SECS`] ago).
    InProgress,
    /// The key was used for a different request path.
    OtherRequest,
}

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

/// Reserves `key` for `request_path`, or reports how it was used before.
pub async fn reserve(db: &PgPool, user_id: Uuid, key: &str, request_path: &str) -> sqlx::Result<Reservation> {
    // The left join reads the snapshot taken before the insert: a fresh key
    // shows nothing there, an answered one shows its answer.
    let row = sqlx::query!(
        r#"
        with reserved as (
            insert into idempotency_keys (user_id, key, request_path)
            values ($1, $2, $3)
            -- a reservation whose request never answered (the server died
            -- mid-request) is taken over once it is stale
            on conflict (user_id, key) do update
                set request_path = excluded.request_path, created_at = now()
                where idempotency_keys.response_status is null
                  and idempotency_keys.created_at < now() - make_interval(secs => $4)
            returning 1 as one
        )
        select exists (select 1 from reserved) as "fresh!",
               k.request_path as "request_path?",
               k.response_status as "response_status?",
               k.response_body as "response_body?"
        from (select 1) as one
        left join idempotency_keys k on k.user_id = $1 and k.key = $2
        "#,
        user_id,
        key,
        request_path,
        STALE_RESERVATION_SECS,
    )
    .fetch_one(db)
    .await?;
    if row.fresh {
        return Ok(Reservation::Fresh);
    }
    if row
        .request_path
        .as_deref()
        .is_some_and(|path| path != request_path)
    {
        return Ok(Reservation::OtherRequest);
    }
    Ok(match (row.response_status, row.response_body) {
        (Some(status), Some(body)) => Reservation::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body,
        },
        _ => Reservation::InProgress,
    })
}

/// Stores the answer given to the request that reserved `key`.
pub async fn store_answer(
    db: &PgPool,
    user_id: Uuid,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update idempotency_keys set response_status = $3, response_body = $4
         where user_id = $1 and key = $2",
        user_id,
        key,
        i16::try_from(status).unwrap_or(500),
        body,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Frees `key` after an unexpected failure, so that a retry is attempted
/// afresh rather than answered with the failure.
pub async fn release(db: &PgPool, user_id: Uuid, key: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from idempotency_keys where user_id = $1 and key = $2 and response_status is null",
        user_id,
        key,
    )
    .execute(db)
    .await?;
    Ok(())
}
