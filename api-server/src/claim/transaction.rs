//! The claim transaction of DESIGN.md ("Claim transaction") as one
//! autocommit statement, so the hot rows are locked only while Postgres
//! executes and commits it, never across a client round trip.
//!
//! The statement (data-modifying CTEs, in order): load the reward and its
//! event; keep them only if open at the database's `now()` (not deleted,
//! not suspended, not Invalid, `now()` in `[startsAt, endsAt)`) and if the
//! event has no condition or the caller has verified it for this event
//! generation; pick the period key (Once / Daily / Weekly in the event's
//! zone) and the next free slot (`1..=perUserLimit`); insert the success
//! row under the partial unique index `claims_success_key` (`on conflict do
//! nothing`: a concurrent twin makes it insert nothing, and the attempt is
//! retried); write the `reward.claimed` outbox row; count the claim against
//! `maxClaims` (`events.claims_total`); take one unit of stock last. When
//! the cap or the stock is exhausted, `liveops_claim_abort` (migration 0020)
//! raises and the whole statement is undone, outbox row included.
//!
//! The order is forced by data dependencies between the CTEs: every write
//! that takes no contended lock comes first, so the two hot rows (the event
//! and the reward, updated by every claim on them) stay locked only for the
//! two updates and the commit. DESIGN.md lists the outbox row after the
//! stock update; inside one atomic statement the order is not observable,
//! and this one measured faster.
//!
//! Events with a condition cost two more round trips on the first attempt:
//! the statement reports the condition instead of claiming, the condition
//! is evaluated by its own query ([`super::conditions`]), and the statement
//! runs again with the verified generation. A refusal is recorded as a
//! `failed` claim by a separate statement, after the claim statement has
//! rolled back, so the record survives it.

use liveops_domain::ConditionSpec;
use sqlx::PgPool;
use uuid::Uuid;

use super::admission;
use super::conditions::{self, Claimant};
use super::failed_claim::record_failed_claim;
use super::outcome::{ClaimOutcome, ClaimRefusal, GrantedClaim, InactiveReason};
use super::statement_errors::{
    MAX_ATTEMPTS, abort_reason, is_invalid_time_zone, is_transient, pause_before_retry,
};

/// Claims `reward_id` for `user_id`, retrying races and transient database
/// errors (serialization failure, deadlock, unique violation) a bounded
/// number of times. Refusals are returned as [`ClaimOutcome::Refused`] and
/// recorded as `failed` claims; `Err` is left for database failures that
/// persisted through every retry
/// ([`is_transient`](super::statement_errors::is_transient) tells them apart).
#[tracing::instrument(skip(db, idempotency_key))]
pub async fn claim_reward(
    db: &PgPool,
    user_id: Uuid,
    reward_id: Uuid,
    idempotency_key: Option<&str>,
) -> sqlx::Result<ClaimOutcome> {
    let mut verified_generation: Option<i64> = None;
    let mut last_error = None;
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            pause_before_retry(attempt).await;
        }
        let turn = admission::admit(reward_id).await;
        let row = sqlx::query!(
            r#"
            with target as (
                select r.id as reward_id, r.name as reward_name, r.per_user_limit, r.payload,
                       r.deleted_at is not null as reward_deleted,
                       e.id as event_id, e.namespace, e.name as event_name, e.generation,
                       e.condition, e.time_zone, e.starts_at, e.ends_at,
                       e.deleted_at is not null as event_deleted, e.suspended,
                       e.phase = 'Invalid' as invalid,
                       now() < e.starts_at as before_start,
                       now() >= e.starts_at and now() < e.ends_at as in_window,
                       case e.claim_frequency
                           when 'Once' then 'once'
                           when 'Daily' then to_char(now() at time zone e.time_zone, 'YYYY-MM-DD')
                           else to_char(now() at time zone e.time_zone, 'IYYY-"W"IW')
                       end as period_key
                from rewards r
                join events e on e.id = r.event_id
                where r.id = $1
            ),
            open_target as (
                select * from target
                where not reward_deleted and not event_deleted and not suspended
                  and not invalid and in_window
            ),
            granted_target as (
                select t.*,
                       coalesce((select max(c.slot) from claims c
                                 where c.user_id = $2 and c.event_id = t.event_id
                                   and c.period_key = t.period_key
                                   and c.status = 'success'), 0) + 1 as slot
                from open_target t
                where t.condition = '{}'::jsonb or t.generation = $3
            ),
            inserted as (
                insert into claims (user_id, reward_id, event_id, status, period_key, slot,
                                    event_generation, idempotency_key)
                select $2, g.reward_id, g.event_id, 'success', g.period_key, g.slot,
                       g.generation, $4
                from granted_target g
                where g.slot <= g.per_user_limit
                on conflict (user_id, event_id, period_key, slot) where status = 'success'
                do nothing
                returning id, created_at
            ),
            announced as (
                insert into outbox (event_type, payload)
                select 'reward.claimed', jsonb_build_object(
                    'specversion', '1.0',
                    'id', i.id,
                    'source', '/liveops/events/' || g.namespace || '/' || g.event_name,
                    'type', 'reward.claimed',
                    'time', i.created_at,
                    'subject', g.reward_name,
                    'datacontenttype', 'application/json',
                    'data', jsonb_build_object(
                        'claimId', i.id, 'userId', $2::uuid, 'rewardId', g.reward_id,
                        'rewardName', g.reward_name, 'eventId', g.event_id,
                        'eventNamespace', g.namespace, 'eventName', g.event_name,
                        'eventGeneration', g.generation, 'periodKey', g.period_key,
                        'slot', g.slot, 'payload', g.payload))
                from inserted i, granted_target g
                returning id
            ),
            capped as (
                update events e set claims_total = e.claims_total + 1
                from granted_target g
                where e.id = g.event_id and exists (select 1 from announced)
                  and (e.max_claims is null or e.claims_total < e.max_claims)
                returning e.id
            ),
            stocked as (
                update rewards r set claimed = r.claimed + 1
                where r.id = $1 and exists (select 1 from capped)
                  and (r.quantity is null or r.claimed < r.quantity)
                returning r.id
            )
            select t.reward_id is not null as "found!",
                   t.event_id as "event_id?", t.reward_deleted as "reward_deleted?",
                   t.event_deleted as "event_deleted?", t.suspended as "suspended?",
                   t.invalid as "invalid?", t.before_start as "before_start?",
                   t.in_window as "in_window?", t.condition as "condition?",
                   t.generation as "generation?", t.time_zone as "time_zone?",
                   t.starts_at as "starts_at?", t.ends_at as "ends_at?",
                   (select g.slot > g.per_user_limit from granted_target g) as "limit_reached?",
                   (select g.slot from granted_target g) as "slot?",
                   (select g.period_key from granted_target g) as "period_key?",
                   exists (select 1 from open_target)
                       and not exists (select 1 from granted_target) as "condition_pending!",
                   i.id as "claim_id?", i.created_at as "created_at?",
                   case when i.id is not null and not exists (select 1 from stocked)
                        then liveops_claim_abort(case when exists (select 1 from capped)
                                                      then 'SOLD_OUT' else 'MAX_CLAIMS_REACHED' end)
                   end as "aborted?",
                   (select count(*) from announced) as "announced!"
            from (select 1) as one
            left join target t on true
            left join inserted i on true
            "#,
            reward_id,
            user_id,
            verified_generation,
            idempotency_key,
        )
        .fetch_one(db)
        .await;
        drop(turn);
        let row = match row {
            Ok(row) => row,
            Err(error) => {
                if let Some(reason) = abort_reason(&error) {
                    let refusal = ClaimRefusal::SoldOut {
                        event_cap: reason == "MAX_CLAIMS_REACHED",
                    };
                    return record_failed_claim(db, user_id, reward_id, refusal, idempotency_key).await;
                }
                if is_invalid_time_zone(&error) {
                    let refusal = ClaimRefusal::EventNotActive(InactiveReason::Invalid);
                    return record_failed_claim(db, user_id, reward_id, refusal, idempotency_key).await;
                }
                if is_transient(&error) {
                    tracing::debug!(%error, attempt, "transient claim failure; retrying");
                    last_error = Some(error);
                    continue;
                }
                return Err(error);
            }
        };

        if !row.found {
            return record_failed_claim(
                db,
                user_id,
                reward_id,
                ClaimRefusal::RewardNotFound,
                idempotency_key,
            )
            .await;
        }
        let inactive = if row.event_deleted == Some(true) {
            Some(InactiveReason::Deleted)
        } else if row.reward_deleted == Some(true) {
            return record_failed_claim(
                db,
                user_id,
                reward_id,
                ClaimRefusal::RewardNotFound,
                idempotency_key,
            )
            .await;
        } else if row.invalid == Some(true) {
            Some(InactiveReason::Invalid)
        } else if row.suspended == Some(true) {
            Some(InactiveReason::Suspended)
        } else if row.in_window != Some(true) {
            Some(if row.before_start == Some(true) {
                InactiveReason::Scheduled
            } else {
                InactiveReason::Ended
            })
        } else {
            None
        };
        if let Some(reason) = inactive {
            let refusal = ClaimRefusal::EventNotActive(reason);
            return record_failed_claim(db, user_id, reward_id, refusal, idempotency_key).await;
        }

        if row.condition_pending {
            let (Some(condition), Some(generation), Some(time_zone), Some(starts_at), Some(ends_at)) = (
                row.condition,
                row.generation,
                row.time_zone,
                row.starts_at,
                row.ends_at,
            ) else {
                return Err(sqlx::Error::Protocol(
                    "claim statement returned an incomplete event".into(),
                ));
            };
            let Some(kind) = serde_json::from_value::<ConditionSpec>(condition)
                .ok()
                .and_then(|spec| spec.kind().ok())
            else {
                let refusal = ClaimRefusal::EventNotActive(InactiveReason::Invalid);
                return record_failed_claim(db, user_id, reward_id, refusal, idempotency_key).await;
            };
            let claimant = Claimant {
                user_id,
                starts_at,
                ends_at,
                time_zone,
            };
            let met = match conditions::is_met(kind, db, &claimant).await {
                Ok(met) => met,
                Err(error) if is_invalid_time_zone(&error) => {
                    let refusal = ClaimRefusal::EventNotActive(InactiveReason::Invalid);
                    return record_failed_claim(db, user_id, reward_id, refusal, idempotency_key).await;
                }
                Err(error) => return Err(error),
            };
            if !met {
                return record_failed_claim(
                    db,
                    user_id,
                    reward_id,
                    ClaimRefusal::ConditionNotMet,
                    idempotency_key,
                )
                .await;
            }
            // Claim again, now allowed for this generation of the event; a
            // newer generation (edited rules) is evaluated afresh.
            verified_generation = Some(generation);
            continue;
        }

        if row.limit_reached == Some(true) {
            return record_failed_claim(
                db,
                user_id,
                reward_id,
                ClaimRefusal::AlreadyClaimed,
                idempotency_key,
            )
            .await;
        }

        match (
            row.claim_id,
            row.created_at,
            row.event_id,
            row.period_key,
            row.slot,
            row.generation,
        ) {
            (
                Some(claim_id),
                Some(created_at),
                Some(event_id),
                Some(period_key),
                Some(slot),
                Some(event_generation),
            ) => {
                return Ok(ClaimOutcome::Granted(GrantedClaim {
                    claim_id,
                    reward_id,
                    event_id,
                    period_key,
                    slot,
                    event_generation,
                    created_at,
                }));
            }
            // A concurrent claim by the same user took the slot between this
            // statement's snapshot and its insert: look again.
            _ => tracing::debug!(attempt, "claim slot taken concurrently; retrying"),
        }
    }
    match last_error {
        Some(error) => Err(error),
        // Every attempt lost the slot race: the user's other requests won.
        None => {
            record_failed_claim(
                db,
                user_id,
                reward_id,
                ClaimRefusal::AlreadyClaimed,
                idempotency_key,
            )
            .await
        }
    }
}
