//! What the Reward brings to the shared flow: its memoised projection, and
//! no requeue of its own.

use chrono::{DateTime, Utc};
use kube::runtime::controller::Action;
use liveops_domain::crd::{Reward, RewardStatus, StatusCondition};
use sqlx::PgPool;

use super::{Context, flow::ReconciledKind};
use crate::{
    error::Result,
    reconcile::{self, RewardOutcome, refresh::refresh_reward},
};

impl ReconciledKind for Reward {
    const KIND: &'static str = "Reward";
    type Outcome = RewardOutcome;

    /// Projects it (unless its Event is missing), or only reads its
    /// counters back when this process already projected this generation
    /// (see `memo`).
    async fn project(&self, ctx: &Context, now: DateTime<Utc>) -> Result<RewardOutcome> {
        let refresh = refresh_reward(&ctx.db, self, now);
        let full = reconcile::reconcile_reward(&ctx.db, self, now);
        ctx.memo.project(self, refresh, full, |o| o.projected).await
    }

    fn status_of(outcome: &RewardOutcome) -> &RewardStatus {
        &outcome.status
    }

    fn conditions(status: &RewardStatus) -> &[StatusCondition] {
        &status.conditions
    }

    fn conditions_mut(status: &mut RewardStatus) -> &mut Vec<StatusCondition> {
        &mut status.conditions
    }

    /// No requeue: claims wake the Reward within seconds, and the slow
    /// safety net is a stream of its own (`source::cluster::resync`).
    fn next_action(&self, _: &RewardOutcome, _: DateTime<Utc>) -> Action {
        Action::await_change()
    }

    async fn remove_rows(&self, db: &PgPool) -> Result<()> {
        reconcile::cleanup_reward(db, self).await
    }
}
