//! The shared WebhookEndpoint reconcile against a real PostgreSQL: the
//! generation rule of migration 0031 across a Secret outage.

use chrono::Utc;
use kube::Resource;
use liveops_domain::crd::{SecretKeyRef, WebhookEndpoint, WebhookEndpointSpec};
use liveops_testkit::TestDb;

use super::reconcile_webhook_endpoint;
use crate::reconcile::webhook_secret::SigningSecret;

fn endpoint(generation: i64) -> WebhookEndpoint {
    let spec = WebhookEndpointSpec {
        url: "https://hooks.example.com/in".to_owned(),
        event_types: Vec::new(),
        secret_ref: SecretKeyRef {
            name: "hook".to_owned(),
            key: "secret".to_owned(),
        },
        suspend: false,
        allow_private: false,
    };
    let mut endpoint = WebhookEndpoint::new("hook", spec);
    endpoint.meta_mut().namespace = Some("games".to_owned());
    endpoint.meta_mut().generation = Some(generation);
    endpoint
}

#[tokio::test]
async fn an_edit_made_while_the_secret_is_missing_still_re_enables_after_a_410() {
    let db = TestDb::new().await;
    let key = SigningSecret::Usable("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned());
    reconcile_webhook_endpoint(&db.pool, &endpoint(1), &key, Utc::now())
        .await
        .expect("projected");
    sqlx::query("update webhook_endpoints set disabled_reason = 'gone' where name = 'hook'")
        .execute(&db.pool)
        .await
        .expect("the relay's 410");

    // Edited while the Secret is gone: stopped, nothing else moves.
    let missing = SigningSecret::NotFound("Secret games/hook does not exist".to_owned());
    let stopped = reconcile_webhook_endpoint(&db.pool, &endpoint(2), &missing, Utc::now())
        .await
        .expect("stopped");
    assert!(!stopped.projected);
    assert_eq!(stopped.status.conditions[0].reason, "SecretNotFound");
    assert_eq!(stopped.status.disabled_reason.as_deref(), Some("gone"));
    let row: (String, bool, i64, Option<String>) =
        sqlx::query_as("select secret, suspended, generation, disabled_reason from webhook_endpoints")
            .fetch_one(&db.pool)
            .await
            .expect("row");
    assert_eq!(row, (String::new(), true, 1, Some("gone".to_owned())));

    // The Secret is back: generation 2 lands and the 410 is forgotten.
    let back = reconcile_webhook_endpoint(&db.pool, &endpoint(2), &key, Utc::now())
        .await
        .expect("projected again");
    assert_eq!(back.status.conditions[0].reason, "Synced");
    assert_eq!(back.status.disabled_reason, None);
    let row: (bool, i64, Option<String>) =
        sqlx::query_as("select suspended, generation, disabled_reason from webhook_endpoints")
            .fetch_one(&db.pool)
            .await
            .expect("row");
    assert_eq!(row, (false, 2, None));
}
