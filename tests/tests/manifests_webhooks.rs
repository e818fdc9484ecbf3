//! WebhookEndpoints in `operator --manifests DIR` mode against real
//! PostgreSQL: an endpoint and the `v1` Secret it names, both files in the
//! directory, projected into `webhook_endpoints`; rotation, a missing
//! Secret, the relay's health (410 included) in the stored status, a new
//! generation re-enabling the endpoint, suspend and deletion. And end to
//! end: the relay delivering a signed `phase_changed` of an Event from the
//! same directory to a local receiver, verified with `standardwebhooks`.

// The relay tests' receiver; its scripted replies go unused here.
#[allow(dead_code)]
#[path = "../../relay/tests/relay/webhook_receiver.rs"]
mod webhook_receiver;

use std::{future::Future, path::PathBuf, time::Duration};

use base64::Engine;
use chrono::{SecondsFormat, Utc};
use liveops_testkit::TestDb;
use serde_json::Value;
use sqlx::PgPool;
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};

use self::webhook_receiver::Receiver;

const KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ROTATED: &str = "a bare rotated key";
const WAIT: Duration = Duration::from_secs(15);

/// The manifests source over a temporary directory, run in-process as the
/// binary runs it.
struct Operator {
    dir: PathBuf,
    stop: oneshot::Sender<()>,
    task: JoinHandle<operator::error::Result<()>>,
}

impl Operator {
    fn start(db: &PgPool) -> Self {
        let dir = std::env::temp_dir().join(format!("liveops-webhooks-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("create the manifests directory");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(operator::source::manifests::run(
            dir.clone(),
            db.clone(),
            shutdown,
        ));
        Self { dir, stop, task }
    }

    /// Writes then renames, so a rescan never reads half a file.
    fn write(&self, file: &str, yaml: &str) {
        let partial = self.dir.join(format!(".{}.partial", uuid::Uuid::new_v4()));
        std::fs::write(&partial, yaml).expect("write the manifest");
        std::fs::rename(&partial, self.dir.join(file)).expect("move the manifest in place");
    }

    fn remove(&self, file: &str) {
        std::fs::remove_file(self.dir.join(file)).expect("remove the manifest");
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("the source task does not panic")
            .expect("the source stops cleanly");
        let _ = std::fs::remove_dir_all(self.dir);
    }
}

/// Polls `check` every 20 ms until it yields `Some`, failing after [`WAIT`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn endpoint_yaml(name: &str, url: &str, secret: &str, extra: &str) -> String {
    format!(
        "apiVersion: liveops.dev/v1alpha1
kind: WebhookEndpoint
metadata:
  name: {name}
  namespace: games
spec:
  url: {url}
  secretRef:
    name: {secret}
{extra}"
    )
}

/// A Secret with its value under `data` (base64), as `kubectl create secret` writes it.
fn secret_yaml(name: &str, value: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(value);
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: games\ndata:\n  secret: {encoded}\n"
    )
}

/// (secret, suspended, deleted, disabled_reason) of the row of `name`.
async fn row(db: &PgPool, name: &str) -> Option<(String, bool, bool, Option<String>)> {
    sqlx::query_as(
        "select secret, suspended, deleted_at is not null, disabled_reason
         from webhook_endpoints where namespace = 'games' and name = $1",
    )
    .bind(name)
    .fetch_optional(db)
    .await
    .expect("read webhook_endpoints")
}

async fn status(db: &PgPool, name: &str) -> Option<Value> {
    sqlx::query_scalar(
        "select status from resource_status where kind = 'WebhookEndpoint' and namespace = 'games' and name = $1",
    )
    .bind(name)
    .fetch_optional(db)
    .await
    .expect("read resource_status")
}

/// The stored status once its Ready condition has `wanted` (status, reason).
async fn ready(db: &PgPool, name: &str, wanted: (&str, &str)) -> Value {
    eventually(&format!("{name} Ready {wanted:?}"), || async {
        let status = status(db, name).await?;
        let ready = status["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Ready")?
            .clone();
        (ready["status"] == wanted.0 && ready["reason"] == wanted.1).then_some(status)
    })
    .await
}

async fn until_row(
    db: &PgPool,
    name: &str,
    what: &str,
    check: impl Fn(&(String, bool, bool, Option<String>)) -> bool,
) {
    eventually(what, || async { row(db, name).await.filter(|row| check(row)) }).await;
}

#[tokio::test]
async fn webhook_endpoints_follow_their_files_and_the_secrets_they_name() {
    let db = TestDb::new().await;
    let operator = Operator::start(&db.pool);
    let url = "https://hooks.example.com/liveops";
    operator.write("secret.yaml", &secret_yaml("hook-secret", KEY));
    operator.write(
        "hook.yaml",
        &endpoint_yaml(
            "hook",
            url,
            "hook-secret",
            "  eventTypes: [dev.liveops.reward.claimed]\n",
        ),
    );
    operator.write("orphan.yaml", &endpoint_yaml("orphan", url, "no-such-secret", ""));

    until_row(&db.pool, "hook", "hook projected", |row| row.0 == KEY && !row.1).await;
    let synced = ready(&db.pool, "hook", ("True", "Synced")).await;
    assert_eq!(synced["observedGeneration"], 1);
    let types: Vec<String> =
        sqlx::query_scalar("select event_types from webhook_endpoints where name = 'hook'")
            .fetch_one(&db.pool)
            .await
            .expect("row");
    assert_eq!(types, ["dev.liveops.reward.claimed"]);

    // A missing Secret: a clear condition and no row.
    let orphan = ready(&db.pool, "orphan", ("False", "SecretNotFound")).await;
    let message = orphan["conditions"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("games/no-such-secret"), "{message}");
    assert!(row(&db.pool, "orphan").await.is_none());

    // Rotation through stringData: the same generation, the new key.
    operator.write(
        "secret.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: hook-secret\n  namespace: games\nstringData:\n  secret: {ROTATED}\n"
        ),
    );
    until_row(&db.pool, "hook", "rotated key", |row| row.0 == ROTATED).await;

    // The relay's health reaches the stored status; a 410 shows as Disabled.
    sqlx::query(
        "update webhook_endpoints set last_status = 410, last_failure_at = now(), consecutive_failures = 1,
                last_error = 'HTTP 410', disabled_reason = 'the receiver answered 410 Gone'
         where name = 'hook'",
    )
    .execute(&db.pool)
    .await
    .expect("the relay's write");
    let disabled = ready(&db.pool, "hook", ("False", "Disabled")).await;
    assert_eq!(disabled["disabledReason"], "the receiver answered 410 Gone");
    assert_eq!(
        (&disabled["lastStatus"], &disabled["consecutiveFailures"]),
        (&410.into(), &1.into())
    );

    // An edit (a new generation) clears disabled_reason; suspend shows.
    operator.write(
        "hook.yaml",
        &endpoint_yaml("hook", url, "hook-secret", "  suspend: true\n"),
    );
    until_row(&db.pool, "hook", "suspended and re-enabled", |row| {
        row.1 && row.3.is_none()
    })
    .await;
    let suspended = ready(&db.pool, "hook", ("True", "Suspended")).await;
    assert_eq!(suspended["observedGeneration"], 2);
    assert!(suspended.get("disabledReason").is_none(), "{suspended}");

    // The Secret's file removed: the row stops, its key wiped.
    operator.write("hook.yaml", &endpoint_yaml("hook", url, "hook-secret", ""));
    until_row(&db.pool, "hook", "resumed", |row| !row.1).await;
    operator.remove("secret.yaml");
    until_row(&db.pool, "hook", "stopped", |row| row.1 && row.0.is_empty()).await;
    ready(&db.pool, "hook", ("False", "SecretNotFound")).await;

    // The endpoint's file removed: soft-deleted, its status forgotten.
    operator.remove("hook.yaml");
    until_row(&db.pool, "hook", "soft-deleted", |row| row.2).await;
    eventually("status forgotten", || async {
        status(&db.pool, "hook").await.is_none().then_some(())
    })
    .await;
    operator.stop().await;
}

/// The relay's publisher (transport `none`: marking a row published fans it
/// out to the endpoints) and its webhook loop, until the sender is dropped.
fn start_relay(db: &TestDb) -> tokio::sync::watch::Sender<bool> {
    use relay::{
        config::{CeMode, TransportKind},
        metrics::Metrics,
        publisher::{self, RelaySettings},
        transport::TransportSettings,
        webhook::{self, WebhookSettings, attempt::Clients},
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let settings = RelaySettings {
        database_url: db.url.clone(),
        transport: TransportSettings {
            kind: TransportKind::None,
            url: String::new(),
            nats_stream: "none".to_owned(),
            amqp_exchange: "none".to_owned(),
            subject_prefix: "liveops".to_owned(),
            ce_mode: CeMode::Binary,
            ack_timeout: Duration::from_secs(2),
        },
        batch_size: 100,
        poll_interval: Duration::from_millis(20),
        max_attempts: 3,
        retention: Duration::from_secs(3600),
        backoff_max: Duration::from_millis(500),
        standby_poll: Duration::from_millis(200),
    };
    let metrics = Metrics::new();
    tokio::spawn(publisher::run(settings, metrics.clone(), stopped.clone()));
    let hooks = WebhookSettings {
        concurrency: 2,
        timeout: Duration::from_secs(5),
        max_attempts: 3,
        retry_initial: Duration::from_millis(100),
        retry_max: Duration::from_secs(5),
        poll_interval: Duration::from_millis(20),
        retention: Duration::from_secs(3600),
    };
    let clients = Clients::new(hooks.timeout).expect("HTTP clients");
    tokio::spawn(webhook::run(db.pool.clone(), clients, hooks, metrics, stopped));
    stop
}

#[tokio::test]
async fn the_relay_delivers_a_signed_phase_change_to_an_endpoint_from_the_directory() {
    let receiver = Receiver::start(&[]).await;
    let db = TestDb::new().await;
    let operator = Operator::start(&db.pool);
    let now = Utc::now();
    let at = |offset: chrono::Duration| (now + offset).to_rfc3339_opts(SecondsFormat::Secs, true);
    operator.write("secret.yaml", &secret_yaml("receiver-key", KEY));
    let types = "  eventTypes: [dev.liveops.event.phase_changed]\n  allowPrivate: true\n";
    operator.write(
        "hook.yaml",
        &endpoint_yaml("receiver", &receiver.url("hook"), "receiver-key", types),
    );
    until_row(&db.pool, "receiver", "endpoint projected", |row| row.0 == KEY).await;
    operator.write(
        "event.yaml",
        &format!(
            "apiVersion: liveops.dev/v1alpha1\nkind: Event\nmetadata:\n  name: season\n  namespace: games\n\
             spec:\n  displayName: Season\n  startsAt: \"{}\"\n  endsAt: \"{}\"\n",
            at(-chrono::Duration::hours(1)),
            at(chrono::Duration::days(30))
        ),
    );
    let stop = start_relay(&db);

    let delivered = eventually("a delivery to the receiver", || async {
        receiver.received("hook").pop()
    })
    .await;
    standardwebhooks::Webhook::new(KEY)
        .expect("the key parses")
        .verify(&delivered.body, &delivered.headers)
        .expect("the signature verifies");
    let event: Value = serde_json::from_slice(&delivered.body).expect("a JSON CloudEvent");
    assert_eq!(event["type"], "dev.liveops.event.phase_changed");
    assert_eq!(
        delivered.headers["webhook-id"],
        event["id"].as_str().unwrap_or_default()
    );
    assert_eq!(
        (&event["data"]["name"], &event["data"]["to"]),
        (&"season".into(), &"Active".into())
    );

    // The success reaches the endpoint's stored status.
    let healthy = eventually("lastSuccessAt in the status", || async {
        status(&db.pool, "receiver")
            .await
            .filter(|status| status["lastSuccessAt"].is_string())
    })
    .await;
    assert_eq!(
        (&healthy["lastStatus"], &healthy["consecutiveFailures"]),
        (&200.into(), &0.into())
    );
    let _ = stop.send(true);
    operator.stop().await;
}
