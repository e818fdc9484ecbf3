//! Source-agnostic reconcile of Events and Rewards (WebhookEndpoints in
//! [`webhook`], Counters in [`counter`], IngestClients in
//! [`ingest_client`]): the one code path both
//! sources share (the cluster controller wraps it in a finalizer and writes
//! the status with server-side apply; manifests mode stores it in
//! `resource_status`).
//!
//! The desired status is computed from the object's current status so that
//! an unchanged object yields an identical status: `lastTransitionTime` only
//! moves on a flip and no field holds "now", so writing the status never
//! wakes the controller again.
//!
//! Many objects at once go through [`batch`]: the same outcomes, with one
//! statement per batch instead of one or two per object. Rewards'
//! `claimed`/`remaining` follow claims through change-driven passes in each
//! source (`source::cluster::claims`, `source::manifests::counters`), not
//! through re-running the reconcile.

use std::time::Duration;

pub mod batch;
pub mod counter;
pub mod ingest_client;
pub mod refresh;
mod status;
pub mod webhook;
pub mod webhook_secret;

use chrono::{DateTime, Utc};
pub use liveops_domain::crd::READY;
use liveops_domain::crd::{
    Event, EventPhase, EventStatus, Reward, RewardStatus, SpecProblem, validation::reward_spec_problems,
};
use sqlx::PgPool;
use uuid::Uuid;

pub use self::status::remaining_of;
pub(crate) use self::status::{event_outcome, reward_outcome};
use crate::{
    error::Result,
    projection::{self, EventRow, RewardRow},
    schedule::schedule_at,
};

/// The slow safety net behind the change-driven triggers (watches, the
/// claims and health polls, the phase timer), in case one was missed: every
/// object of manifests mode, and every Reward and WebhookEndpoint in a
/// cluster, goes through the full reconcile once per this period.
pub const SAFETY_RESYNC: Duration = Duration::from_secs(600);

/// What reconciling an Event decided.
#[derive(Clone, Debug, PartialEq)]
pub struct EventOutcome {
    /// The status the object should carry.
    pub status: EventStatus,
    /// Why the spec is invalid (empty when valid): for Kubernetes Events and logs.
    pub problems: Vec<SpecProblem>,
    /// The spec took effect: its row was written from it.
    pub projected: bool,
    /// The phase before (from the current status) and after, when it changed.
    pub phase_change: Option<(Option<EventPhase>, EventPhase)>,
    /// When to reconcile again: exactly the next phase boundary; `None` when
    /// nothing is ahead (Ended, Invalid).
    pub requeue_at: Option<DateTime<Utc>>,
    /// The row the spec was written to, for the phase timer (`None` when
    /// the spec is invalid: an Invalid row has no boundary).
    pub row_id: Option<Uuid>,
}

/// What reconciling a Reward decided.
#[derive(Clone, Debug, PartialEq)]
pub struct RewardOutcome {
    /// The status the object should carry.
    pub status: RewardStatus,
    /// Why the spec is invalid or the row was not written (empty when Ready).
    pub problems: Vec<SpecProblem>,
    /// The spec took effect: its row was written from it.
    pub projected: bool,
}

fn generation_of(meta_generation: Option<i64>) -> i64 {
    // Manifests-mode objects and freshly created ones may lack a generation.
    meta_generation.unwrap_or(1)
}

/// Problems as one condition message.
pub(crate) fn joined(problems: &[SpecProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Projects an Event into `events` with its phase at `now`, and computes
/// its status and next requeue instant.
pub async fn reconcile_event(db: &PgPool, event: &Event, now: DateTime<Utc>) -> Result<EventOutcome> {
    let (namespace, name) = projection::definition_key(&event.metadata)?;
    let generation = generation_of(event.metadata.generation);
    let schedule = schedule_at(&event.spec, now);
    if !schedule.problems.is_empty() {
        projection::mark_event_invalid(db, namespace, name, generation).await?;
        let claims_total = projection::event_claims_total(db, namespace, name).await?;
        return Ok(event_outcome(event, schedule, claims_total, None, now));
    }
    let row = EventRow {
        namespace,
        name,
        spec: &event.spec,
        phase: schedule.phase,
        generation,
    };
    let projected = projection::upsert_event(db, row).await?;
    Ok(event_outcome(
        event,
        schedule,
        Some(projected.claims_total),
        Some(projected.id),
        now,
    ))
}

/// Projects a Reward into `rewards` (unless its Event has no live row) and
/// computes its status from the counters the claim transaction keeps.
pub async fn reconcile_reward(db: &PgPool, reward: &Reward, now: DateTime<Utc>) -> Result<RewardOutcome> {
    let (namespace, name) = projection::definition_key(&reward.metadata)?;
    let problems = reward_spec_problems(&reward.spec);
    let projected = if problems.is_empty() {
        let row = RewardRow {
            namespace,
            name,
            spec: &reward.spec,
            generation: generation_of(reward.metadata.generation),
        };
        Some(projection::upsert_reward(db, row).await?)
    } else {
        None
    };
    Ok(reward_outcome(reward, projected, problems, now))
}

/// Soft-deletes an Event's row on deletion (claims history stays).
pub async fn cleanup_event(db: &PgPool, event: &Event) -> Result<()> {
    let (namespace, name) = projection::definition_key(&event.metadata)?;
    projection::soft_delete_event(db, namespace, name).await
}

/// Soft-deletes a Reward's row on deletion (claims history stays).
pub async fn cleanup_reward(db: &PgPool, reward: &Reward) -> Result<()> {
    let (namespace, name) = projection::definition_key(&reward.metadata)?;
    projection::soft_delete_reward(db, namespace, name).await
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "reconcile_gitops_samples.rs"]
mod gitops_samples;
