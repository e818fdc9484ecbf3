//! The WebhookEndpoint controller against the in-memory API server and a
//! real PostgreSQL: projection with the Secret's key, rotation, a missing
//! Secret, the relay's health (410 included) in the status, a new
//! generation clearing `disabled_reason`, suspend, and deletion.

use std::{sync::Arc, time::Duration};

use liveops_testkit::TestDb;
use serde_json::{Value, json};
use sqlx::PgPool;

use super::{
    controllers_tests::{NS, eventually},
    run_controllers,
};
use crate::{controller::Context, fake_api::FakeApi, metrics::Metrics, shutdown};

const FIRST_KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECOND_KEY: &str = "a bare rotated key";
const WAIT: Duration = Duration::from_secs(10);

fn endpoint(name: &str, secret: &str, extra: Value) -> Value {
    let mut spec = json!({
        "url": "https://hooks.example.com/liveops",
        "eventTypes": ["dev.liveops.reward.claimed"],
        "secretRef": {"name": secret},
    });
    if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
        spec.extend(extra);
    }
    json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "WebhookEndpoint",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    })
}

/// A Secret as the API server returns it: `data` base64-encoded.
fn secret(name: &str, value: &str) -> Value {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(value);
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": NS},
        "data": {"secret": encoded},
    })
}

/// (secret, suspended, deleted, disabled_reason) of the row of `name`.
async fn row(db: &PgPool, name: &str) -> Option<(String, bool, bool, Option<String>)> {
    sqlx::query_as(
        "select secret, suspended, deleted_at is not null, disabled_reason
         from webhook_endpoints where namespace = $1 and name = $2",
    )
    .bind(NS)
    .bind(name)
    .fetch_optional(db)
    .await
    .expect("read webhook_endpoints")
}

fn status(api: &FakeApi, name: &str) -> Value {
    api.get("webhookendpoints", name)
        .map(|object| object["status"].clone())
        .unwrap_or(Value::Null)
}

fn ready(api: &FakeApi, name: &str) -> Option<(String, String)> {
    let status = status(api, name);
    let ready = status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")?
        .clone();
    Some((
        ready["status"].as_str()?.to_owned(),
        ready["reason"].as_str()?.to_owned(),
    ))
}

async fn until_ready(api: &FakeApi, name: &str, wanted: (&str, &str)) {
    eventually(&format!("{name} {wanted:?}"), WAIT, || async {
        let seen = ready(api, name)?;
        (seen.0 == wanted.0 && seen.1 == wanted.1).then_some(())
    })
    .await;
}

async fn until_row(
    db: &PgPool,
    name: &str,
    what: &str,
    check: impl Fn(&(String, bool, bool, Option<String>)) -> bool,
) {
    eventually(what, WAIT, || async {
        row(db, name).await.filter(|row| check(row))
    })
    .await;
}

#[tokio::test]
async fn the_controller_projects_endpoints_with_their_secret_and_mirrors_delivery_health() {
    let db = TestDb::new().await;
    let api = FakeApi::default();
    api.put("secrets", secret("hook-secret", FIRST_KEY));
    api.put("webhookendpoints", endpoint("hook", "hook-secret", json!({})));
    api.put(
        "webhookendpoints",
        endpoint("orphan", "no-such-secret", json!({})),
    );
    let ctx = Arc::new(Context::new(
        api.client(NS),
        db.pool.clone(),
        Metrics::new(),
        "test-0".to_owned(),
    ));
    let (trigger, stop) = shutdown::channel();
    let controllers = tokio::spawn(run_controllers(ctx, Some(NS.to_owned()), stop));

    // Projected with the Secret's key; the status says so.
    until_row(&db.pool, "hook", "hook projected", |row| {
        row.0 == FIRST_KEY && !row.1
    })
    .await;
    until_ready(&api, "hook", ("True", "Synced")).await;
    let (url, types): (String, Vec<String>) =
        sqlx::query_as("select url, event_types from webhook_endpoints where name = 'hook'")
            .fetch_one(&db.pool)
            .await
            .expect("row");
    assert_eq!(url, "https://hooks.example.com/liveops");
    assert_eq!(types, ["dev.liveops.reward.claimed"]);
    assert_eq!(status(&api, "hook")["observedGeneration"], 1);

    // A missing Secret: a clear condition and no row.
    until_ready(&api, "orphan", ("False", "SecretNotFound")).await;
    assert!(row(&db.pool, "orphan").await.is_none(), "no row without a key");

    // The Secret's watch re-projects a rotated key, generation unchanged.
    api.put("secrets", secret("hook-secret", SECOND_KEY));
    until_row(&db.pool, "hook", "rotated key", |row| row.0 == SECOND_KEY).await;

    // The relay's health reaches the status; a 410 shows as Disabled.
    sqlx::query(
        "update webhook_endpoints set last_status = 410, last_failure_at = now(), consecutive_failures = 1,
                last_error = 'HTTP 410', disabled_reason = 'the receiver answered 410 Gone'
         where name = 'hook'",
    )
    .execute(&db.pool)
    .await
    .expect("the relay's write");
    until_ready(&api, "hook", ("False", "Disabled")).await;
    let shown = status(&api, "hook");
    assert_eq!(
        (
            &shown["lastStatus"],
            &shown["consecutiveFailures"],
            &shown["disabledReason"]
        ),
        (&json!(410), &json!(1), &json!("the receiver answered 410 Gone"))
    );
    assert!(shown["lastFailureAt"].is_string());

    // An edit (new generation, here suspend) clears disabled_reason.
    api.put(
        "webhookendpoints",
        endpoint("hook", "hook-secret", json!({"suspend": true})),
    );
    until_row(&db.pool, "hook", "suspended, re-enabled", |row| {
        row.1 && row.3.is_none()
    })
    .await;
    until_ready(&api, "hook", ("True", "Suspended")).await;
    assert_eq!(status(&api, "hook")["disabledReason"], Value::Null);
    assert_eq!(status(&api, "hook")["observedGeneration"], 2);

    // The Secret deleted: the row stops (suspended, key wiped), status says why.
    api.put("webhookendpoints", endpoint("hook", "hook-secret", json!({})));
    until_row(&db.pool, "hook", "resumed", |row| !row.1).await;
    api.remove("secrets", "hook-secret");
    until_row(&db.pool, "hook", "stopped", |row| row.1 && row.0.is_empty()).await;
    until_ready(&api, "hook", ("False", "SecretNotFound")).await;

    // Deletion: soft-deleted row, then the finalizer lets the object go.
    api.delete("webhookendpoints", "hook");
    eventually("hook gone", WAIT, || async {
        api.get("webhookendpoints", "hook").is_none().then_some(())
    })
    .await;
    assert_eq!(row(&db.pool, "hook").await.map(|row| row.2), Some(true));

    trigger.fire();
    tokio::time::timeout(Duration::from_secs(5), controllers)
        .await
        .expect("the controllers stop within 5 s")
        .expect("no panic");
}
