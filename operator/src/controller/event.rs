//! What the Event brings to the shared flow: the phase timer, phase-change
//! Kubernetes Events, and a requeue at its next boundary.

use chrono::{DateTime, TimeDelta, Utc};
use kube::{
    ResourceExt,
    runtime::{controller::Action, events::EventType},
};
use liveops_domain::crd::{Event, EventPhase, EventStatus, StatusCondition};
use sqlx::PgPool;

use super::{
    Context,
    flow::ReconciledKind,
    status::{record, requeue_at},
};
use crate::{
    error::Result,
    reconcile::{self, EventOutcome, refresh::refresh_event},
};

/// How long after a boundary the Event's own requeue comes (see `next_action`).
pub const BOUNDARY_GRACE: TimeDelta = TimeDelta::seconds(5);

impl ReconciledKind for Event {
    const KIND: &'static str = "Event";
    type Outcome = EventOutcome;

    /// The shared reconcile, or only a counters read when this process
    /// already projected this generation (see `memo`: its row's phase moves
    /// with the phase timer, so the reconciles after a boundary only write
    /// statuses). The row then waits in the phase timer for its boundary.
    async fn project(&self, ctx: &Context, now: DateTime<Utc>) -> Result<EventOutcome> {
        let refresh = refresh_event(&ctx.db, self, now);
        let full = reconcile::reconcile_event(&ctx.db, self, now);
        let outcome = ctx.memo.project(self, refresh, full, |o| o.projected).await?;
        if let Some(id) = outcome.row_id {
            ctx.phase_timer.schedule(id, outcome.requeue_at);
        }
        Ok(outcome)
    }

    fn status_of(outcome: &EventOutcome) -> &EventStatus {
        &outcome.status
    }

    fn conditions(status: &EventStatus) -> &[StatusCondition] {
        &status.conditions
    }

    fn conditions_mut(status: &mut EventStatus) -> &mut Vec<StatusCondition> {
        &mut status.conditions
    }

    fn phase_label(outcome: &EventOutcome) -> &'static str {
        phase_of(outcome).as_str()
    }

    async fn announce(&self, ctx: &Context, current: Option<&EventStatus>, outcome: &EventOutcome) {
        if let Some((previous, phase)) = outcome.phase_change {
            let note = match previous {
                Some(previous) => format!("phase {previous} -> {phase}"),
                None => format!("phase {phase}"),
            };
            let type_ = if phase == EventPhase::Invalid {
                EventType::Warning
            } else {
                EventType::Normal
            };
            // The reason is the phase itself, so "Active" and "Ended" read apart
            // in `kubectl events`.
            record(ctx, self, type_, phase.as_str(), "PhaseChange", note).await;
        }
        // Spec problems are reported once per generation, not on every requeue.
        let observed = current.and_then(|status| status.observed_generation);
        if !outcome.problems.is_empty() && observed != self.metadata.generation {
            let note = reconcile::joined(&outcome.problems);
            record(ctx, self, EventType::Warning, "InvalidSpec", "Validate", note).await;
        }
        tracing::debug!(event = %self.name_any(), phase = %phase_of(outcome), next = ?outcome.requeue_at, "event reconciled");
    }

    /// The status follows a boundary when the phase timer reports the flip
    /// (`source::cluster`); this requeue is only the safety net behind it, a
    /// little later, so that 10,000 reconciles sharing a boundary do not
    /// compete with the timer's flip for the CPU and the database.
    fn next_action(&self, outcome: &EventOutcome, now: DateTime<Utc>) -> Action {
        requeue_at(outcome.requeue_at.map(|at| at + BOUNDARY_GRACE), now)
    }

    async fn remove_rows(&self, db: &PgPool) -> Result<()> {
        reconcile::cleanup_event(db, self).await
    }
}

fn phase_of(outcome: &EventOutcome) -> EventPhase {
    outcome.status.phase.unwrap_or(EventPhase::Invalid)
}
