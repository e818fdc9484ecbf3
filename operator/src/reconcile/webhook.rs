//! Source-agnostic reconcile of WebhookEndpoints: the spec and the signing
//! secret (already looked up by the source) into `webhook_endpoints`, and
//! the status from what the row holds, delivery health included.

use chrono::{DateTime, Utc};
use liveops_domain::crd::{
    Health, SpecProblem, WebhookEndpoint, WebhookEndpointStatus, set_health,
    validation::webhook_endpoint_spec_problems,
};
use sqlx::PgPool;

use super::{generation_of, joined, webhook_secret::SigningSecret};
use crate::{
    error::Result,
    projection::{self, WebhookHealth, WebhookRow},
};

/// Ready reason while the receiver's 410 keeps deliveries stopped.
pub const DISABLED: &str = "Disabled";

/// What reconciling a WebhookEndpoint decided.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookOutcome {
    /// The status the object should carry.
    pub status: WebhookEndpointStatus,
    /// Why the spec is invalid (empty otherwise), for logs.
    pub problems: Vec<SpecProblem>,
    /// The spec and secret took effect: the row was written from them.
    pub projected: bool,
}

/// What the projection did with an endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookProjection {
    /// The row holds the spec and secret; its health as the relay left it.
    Projected(WebhookHealth),
    /// The spec or secret cannot be used: an existing row was stopped
    /// (`health` is its health), none was created.
    Stopped {
        health: Option<WebhookHealth>,
        reason: &'static str,
        message: String,
    },
}

/// Projects `endpoint` with the signing secret its Secret yields, and
/// computes its status.
pub async fn reconcile_webhook_endpoint(
    db: &PgPool,
    endpoint: &WebhookEndpoint,
    secret: &SigningSecret,
    now: DateTime<Utc>,
) -> Result<WebhookOutcome> {
    let (namespace, name) = projection::definition_key(&endpoint.metadata)?;
    let generation = generation_of(endpoint.metadata.generation);
    let problems = webhook_endpoint_spec_problems(&endpoint.spec);
    let usable = match secret {
        _ if !problems.is_empty() => Err(("InvalidSpec", joined(&problems))),
        SigningSecret::Usable(secret) => Ok(secret),
        SigningSecret::NotFound(message) => Err(("SecretNotFound", message.clone())),
        SigningSecret::Invalid(message) => Err(("SecretInvalid", message.clone())),
    };
    let projected = match usable {
        Ok(secret) => {
            let row = WebhookRow {
                namespace,
                name,
                spec: &endpoint.spec,
                secret,
                generation,
            };
            WebhookProjection::Projected(projection::upsert_webhook_endpoint(db, row).await?)
        }
        Err((reason, message)) => {
            let health = projection::stop_webhook_endpoint(db, namespace, name).await?;
            WebhookProjection::Stopped {
                health,
                reason,
                message,
            }
        }
    };
    Ok(webhook_outcome(endpoint, projected, problems, now))
}

/// The outcome of an endpoint whose projection found `projected`. Also
/// what a health refresh computes from a row's new health.
pub fn webhook_outcome(
    endpoint: &WebhookEndpoint,
    projected: WebhookProjection,
    problems: Vec<SpecProblem>,
    now: DateTime<Utc>,
) -> WebhookOutcome {
    let generation = generation_of(endpoint.metadata.generation);
    let mut conditions = endpoint
        .status
        .as_ref()
        .map(|status| status.conditions.clone())
        .unwrap_or_default();
    let written = matches!(projected, WebhookProjection::Projected(_));
    // kstatus: a 410 or an unusable key needs someone to act (Stalled); a
    // Secret not there yet may arrive in the same sync (Reconciling); a
    // suspended endpoint is as its spec asks (Ready, like a suspended Event).
    let (kind, reason, message, health) = match projected {
        WebhookProjection::Projected(health) => {
            let (kind, reason, message) = match &health.disabled_reason {
                Some(why) => (
                    Health::Stalled,
                    DISABLED,
                    format!("deliveries stopped: {why}; edit the WebhookEndpoint to try again"),
                ),
                None if endpoint.spec.suspend => (
                    Health::Ready,
                    "Suspended",
                    "spec.suspend is set: nothing is delivered".to_owned(),
                ),
                None => (Health::Ready, "Synced", "deliveries enabled".to_owned()),
            };
            (kind, reason, message, Some(health))
        }
        WebhookProjection::Stopped {
            health,
            reason,
            message,
        } => {
            let kind = if reason == "SecretNotFound" {
                Health::Reconciling
            } else {
                Health::Stalled
            };
            (kind, reason, message, health)
        }
    };
    set_health(&mut conditions, kind, reason, &message, generation, now);
    let health = health.unwrap_or_default();
    let status = WebhookEndpointStatus {
        observed_generation: Some(generation),
        conditions,
        last_success_at: health.last_success_at,
        last_failure_at: health.last_failure_at,
        last_status: health.last_status,
        last_error: health.last_error,
        consecutive_failures: Some(health.consecutive_failures),
        disabled_reason: health.disabled_reason,
    };
    WebhookOutcome {
        status,
        problems,
        projected: written,
    }
}

/// Soft-deletes an endpoint's row on deletion.
pub async fn cleanup_webhook_endpoint(db: &PgPool, endpoint: &WebhookEndpoint) -> Result<()> {
    let (namespace, name) = projection::definition_key(&endpoint.metadata)?;
    projection::soft_delete_webhook_endpoint(db, namespace, name).await
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
