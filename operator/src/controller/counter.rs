//! What the Counter brings to the shared flow: its projection under its
//! Event, the signal activity and requiring Rewards in its status, and a
//! spread-out safety-net requeue.

use chrono::{DateTime, Utc};
use kube::runtime::controller::Action;
use liveops_domain::crd::{Counter, CounterStatus, StatusCondition};
use sqlx::PgPool;

use super::{Context, flow::ReconciledKind, object_key, spread};
use crate::{
    error::Result,
    reconcile::{
        SAFETY_RESYNC,
        counter::{self, CounterOutcome},
    },
};

impl ReconciledKind for Counter {
    const KIND: &'static str = "Counter";
    type Outcome = CounterOutcome;

    async fn project(&self, ctx: &Context, now: DateTime<Utc>) -> Result<CounterOutcome> {
        counter::reconcile_counter(&ctx.db, self, now).await
    }

    fn status_of(outcome: &CounterOutcome) -> &CounterStatus {
        &outcome.status
    }

    fn conditions(status: &CounterStatus) -> &[StatusCondition] {
        &status.conditions
    }

    fn conditions_mut(status: &mut CounterStatus) -> &mut Vec<StatusCondition> {
        &mut status.conditions
    }

    /// The safety net only: signals and Reward requirements wake the
    /// counter within seconds (`source::cluster::activity`), its Event
    /// through the Event watch.
    fn next_action(&self, _: &CounterOutcome, _: DateTime<Utc>) -> Action {
        Action::requeue(spread(SAFETY_RESYNC, &object_key(self)))
    }

    async fn remove_rows(&self, db: &PgPool) -> Result<()> {
        counter::cleanup_counter(db, self).await
    }
}
