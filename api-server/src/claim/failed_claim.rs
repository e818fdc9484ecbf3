//! The record of a refused claim: a `failed` row with its reason code
//! (DESIGN.md, "Claim transaction", step 6).

use sqlx::PgPool;
use uuid::Uuid;

use super::outcome::{ClaimOutcome, ClaimRefusal};

/// Records the refusal as a `failed` claim, in its own statement, after the
/// claim statement rolled back (the seed's saveFailedClaim). The reward's
/// event and its generation are looked up by the same statement; an unknown
/// reward is recorded without an event.
pub async fn record_failed_claim(
    db: &PgPool,
    user_id: Uuid,
    reward_id: Uuid,
    refusal: ClaimRefusal,
    idempotency_key: Option<&str>,
) -> sqlx::Result<ClaimOutcome> {
    let failed_claim_id = sqlx::query_scalar!(
        r#"
        insert into claims (user_id, reward_id, event_id, status, reason, event_generation, idempotency_key)
        select $1, $2, e.id, 'failed', $3, e.generation, $4
        from (select 1) as one
        left join rewards r on r.id = $2
        left join events e on e.id = r.event_id
        returning id
        "#,
        user_id,
        reward_id,
        refusal.code(),
        idempotency_key,
    )
    .fetch_one(db)
    .await?;
    Ok(ClaimOutcome::Refused {
        refusal,
        failed_claim_id,
    })
}
