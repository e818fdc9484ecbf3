//! Claiming a reward: runs the claim statement ([`super::decision`]) until
//! it comes to an answer, evaluates a condition when the statement asks for
//! it, records the refusals the statement did not record itself, and
//! answers an Idempotency-Key retry from the ledger. The HTTP handler only
//! turns the [`ClaimAnswer`] into a response.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use super::{
    admission,
    answer::stored_outcome,
    conditions,
    decision::{Attempt, Decision, decide},
    outcome::{ClaimAnswer, ClaimOutcome},
    refusal::{ClaimRefusal, InactiveReason, record_refusal},
    statement_errors::{MAX_ATTEMPTS, is_invalid_time_zone, is_transient, pause_before_retry},
};

/// One claim request.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRequest<'a> {
    /// The claiming user.
    pub user_id: Uuid,
    /// The reward claimed.
    pub reward_id: Uuid,
    /// The request's Idempotency-Key, already checked by
    /// [`parse_key`](super::idempotency::parse_key).
    pub key: Option<&'a str>,
    /// How long a key answers with its first claim.
    pub key_ttl: Duration,
}

/// Claims a reward. Races (a slot, rank or key taken concurrently) and
/// transient database errors are retried a bounded number of times; `Err`
/// is left for database failures that persisted through every retry.
#[tracing::instrument(skip_all, fields(user_id = %request.user_id, reward_id = %request.reward_id))]
pub async fn claim_reward(db: &PgPool, request: ClaimRequest<'_>) -> sqlx::Result<ClaimAnswer> {
    let mut attempt = Attempt {
        user_id: request.user_id,
        reward_id: request.reward_id,
        verified_generation: None,
        key: request.key,
        key_ttl_seconds: request.key_ttl.as_secs_f64(),
    };
    let mut last_error = None;
    let mut lost_races = 0;
    for _ in 0..MAX_ATTEMPTS {
        let turn = admission::admit(request.reward_id).await;
        let decided = decide(db, attempt).await;
        drop(turn);
        match decided {
            Ok(Decision::Granted(claim)) => return Ok(fresh(ClaimOutcome::Granted(claim))),
            Ok(Decision::Refused(refusal)) => return refuse(db, &attempt, refusal).await,
            Ok(Decision::Recorded(refusal)) => return Ok(fresh(ClaimOutcome::Refused(refusal))),
            Ok(Decision::Answered { claim_id }) => {
                let outcome = stored_outcome(db, claim_id).await?;
                return Ok(ClaimAnswer {
                    outcome,
                    replayed: true,
                });
            }
            Ok(Decision::CheckCondition {
                kind,
                claimant,
                generation,
            }) => {
                match conditions::is_met(kind, db, &claimant).await {
                    // Claim again, allowed for this generation of the event;
                    // a newer generation (edited rules) is evaluated afresh.
                    Ok(true) => attempt.verified_generation = Some(generation),
                    Ok(false) => return refuse(db, &attempt, ClaimRefusal::ConditionNotMet).await,
                    Err(error) if is_invalid_time_zone(&error) => {
                        let refusal = ClaimRefusal::EventNotActive(Some(InactiveReason::Invalid));
                        return refuse(db, &attempt, refusal).await;
                    }
                    Err(error) => return Err(error),
                }
                continue;
            }
            Ok(Decision::Retry) => tracing::debug!("claim raced a concurrent request; retrying"),
            Err(error) if is_transient(&error) => {
                tracing::debug!(%error, "transient claim failure; retrying");
                last_error = Some(error);
            }
            Err(error) => return Err(error),
        }
        lost_races += 1;
        pause_before_retry(lost_races).await;
    }
    match last_error {
        Some(error) => Err(error),
        // Every attempt lost the slot race: the user's other requests won.
        None => refuse(db, &attempt, ClaimRefusal::AlreadyClaimed { event_limit: false }).await,
    }
}

fn fresh(outcome: ClaimOutcome) -> ClaimAnswer {
    ClaimAnswer {
        outcome,
        replayed: false,
    }
}

async fn refuse(db: &PgPool, attempt: &Attempt<'_>, refusal: ClaimRefusal) -> sqlx::Result<ClaimAnswer> {
    record_refusal(
        db,
        attempt.user_id,
        attempt.reward_id,
        refusal,
        attempt.key,
        attempt.key_ttl_seconds,
    )
    .await?;
    Ok(fresh(ClaimOutcome::Refused(refusal)))
}
