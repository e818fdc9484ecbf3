//! Answering a retry from the ledger: the claim row an Idempotency-Key was
//! first answered with, read back as the same outcome (DESIGN.md, "Claims:
//! integrity on every path": a committed claim answers every retry).

use sqlx::PgPool;
use uuid::Uuid;

use super::{
    history::ClaimStatus,
    outcome::{ClaimOutcome, GrantedClaim, GrantedReward},
    refusal::ClaimRefusal,
};

/// The outcome stored in claim row `claim_id`.
pub async fn stored_outcome(db: &PgPool, claim_id: Uuid) -> sqlx::Result<ClaimOutcome> {
    let row = sqlx::query_file!("src/claim/sql/answer.sql", claim_id)
        .fetch_one(db)
        .await?;
    if row.status == ClaimStatus::Failed {
        let refusal = row
            .reason
            .as_deref()
            .and_then(ClaimRefusal::from_code)
            .ok_or_else(|| corrupt(claim_id, "a failed claim without a known reason"))?;
        return Ok(ClaimOutcome::Refused(refusal));
    }
    let (Some(event_id), Some(event_generation), Some(name), Some(display_name)) = (
        row.event_id,
        row.event_generation,
        row.reward_name,
        row.reward_display_name,
    ) else {
        return Err(corrupt(claim_id, "a granted claim without its reward or event"));
    };
    Ok(ClaimOutcome::Granted(GrantedClaim {
        claim_id: row.id,
        reward: GrantedReward {
            id: row.reward_id,
            name,
            display_name,
            payload: row.payload,
        },
        event_id,
        period_key: row.period_key,
        slot: row.slot,
        event_generation,
        created_at: row.created_at,
    }))
}

fn corrupt(claim_id: Uuid, what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("claim {claim_id} is {what}"))
}
