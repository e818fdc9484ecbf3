//! What the IngestClient brings to the shared flow: its projection (secret
//! digests, counters, rate, suspend), its signal activity in its status,
//! and a spread-out safety-net requeue.

use chrono::{DateTime, Utc};
use kube::runtime::controller::Action;
use liveops_domain::crd::{IngestClient, IngestClientStatus, StatusCondition};
use sqlx::PgPool;

use super::{Context, flow::ReconciledKind, object_key, spread};
use crate::{
    error::Result,
    reconcile::{
        SAFETY_RESYNC,
        ingest_client::{self, IngestClientOutcome},
    },
};

impl ReconciledKind for IngestClient {
    const KIND: &'static str = "IngestClient";
    type Outcome = IngestClientOutcome;

    async fn project(&self, ctx: &Context, now: DateTime<Utc>) -> Result<IngestClientOutcome> {
        ingest_client::reconcile_ingest_client(&ctx.db, self, now).await
    }

    fn status_of(outcome: &IngestClientOutcome) -> &IngestClientStatus {
        &outcome.status
    }

    fn conditions(status: &IngestClientStatus) -> &[StatusCondition] {
        &status.conditions
    }

    fn conditions_mut(status: &mut IngestClientStatus) -> &mut Vec<StatusCondition> {
        &mut status.conditions
    }

    /// The safety net only: signals wake the client within seconds
    /// (`source::cluster::activity`).
    fn next_action(&self, _: &IngestClientOutcome, _: DateTime<Utc>) -> Action {
        Action::requeue(spread(SAFETY_RESYNC, &object_key(self)))
    }

    async fn remove_rows(&self, db: &PgPool) -> Result<()> {
        ingest_client::cleanup_ingest_client(db, self).await
    }
}
