//! Source-agnostic reconcile of IngestClients: the spec into
//! `ingest_clients` (an invalid edit suspends the existing row), and the
//! status from the outcome plus the client's signal activity.

use chrono::{DateTime, Utc};
use liveops_domain::crd::{
    Health, IngestClient, IngestClientStatus, SpecProblem, challenge_validation::ingest_client_spec_problems,
    set_health,
};
use sqlx::PgPool;

use super::{generation_of, joined};
use crate::{
    error::Result,
    projection::{self, IngestClientRow, SignalActivity},
};

/// What reconciling an IngestClient decided.
#[derive(Clone, Debug, PartialEq)]
pub struct IngestClientOutcome {
    /// The status the object should carry.
    pub status: IngestClientStatus,
    /// Why the spec is invalid (empty otherwise), for logs.
    pub problems: Vec<SpecProblem>,
    /// The spec took effect: the row was written from it.
    pub projected: bool,
}

/// Projects an IngestClient into `ingest_clients`, or suspends its existing
/// row when the spec is invalid, and computes its status.
pub async fn reconcile_ingest_client(
    db: &PgPool,
    client: &IngestClient,
    now: DateTime<Utc>,
) -> Result<IngestClientOutcome> {
    let (namespace, name) = projection::definition_key(&client.metadata)?;
    let problems = ingest_client_spec_problems(&client.spec);
    if problems.is_empty() {
        let row = IngestClientRow {
            namespace,
            name,
            spec: &client.spec,
            generation: generation_of(client.metadata.generation),
        };
        projection::upsert_ingest_client(db, row).await?;
    } else {
        // Fail closed: the spec that was in force may be what is being revoked.
        projection::suspend_ingest_client(db, namespace, name).await?;
    }
    let activity = projection::ingest_client_activity(db, Some(namespace), Some(name))
        .await?
        .into_values()
        .next();
    Ok(ingest_client_outcome(client, problems, activity, now))
}

/// The outcome of an IngestClient with spec `problems` (empty: projected)
/// and the activity of its live row. Also what the activity mirror computes.
pub fn ingest_client_outcome(
    client: &IngestClient,
    problems: Vec<SpecProblem>,
    activity: Option<SignalActivity>,
    now: DateTime<Utc>,
) -> IngestClientOutcome {
    let generation = generation_of(client.metadata.generation);
    let mut conditions = client
        .status
        .as_ref()
        .map(|status| status.conditions.clone())
        .unwrap_or_default();
    let (health, reason, message) = if !problems.is_empty() {
        let message = format!(
            "invalid spec, edit it (client suspended meanwhile): {}",
            joined(&problems)
        );
        (Health::Stalled, "InvalidSpec", message)
    } else if client.spec.suspend {
        let message = "spec.suspend is set: tokens and signals are refused".to_owned();
        (Health::Ready, "Suspended", message)
    } else {
        let message = format!("may feed {}", client.spec.counters.join(", "));
        (Health::Ready, "Synced", message)
    };
    set_health(&mut conditions, health, reason, &message, generation, now);
    let activity = activity.unwrap_or_default();
    let status = IngestClientStatus {
        observed_generation: Some(generation),
        conditions,
        last_signal_at: activity.last_signal_at,
        signals_per_minute: Some(activity.signals_per_minute),
    };
    IngestClientOutcome {
        status,
        projected: problems.is_empty(),
        problems,
    }
}

/// Soft-deletes an IngestClient's row on deletion.
pub async fn cleanup_ingest_client(db: &PgPool, client: &IngestClient) -> Result<()> {
    let (namespace, name) = projection::definition_key(&client.metadata)?;
    projection::soft_delete_ingest_client(db, namespace, name).await
}
