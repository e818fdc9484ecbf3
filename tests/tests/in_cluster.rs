//! End to end in a real cluster: apply the CRDs and the examples through the
//! Kubernetes API, run the operator's controllers, and watch an Event go
//! Scheduled -> Active -> Ended on time, then get soft-deleted.
//!
//! Runs only with `LIVEOPS_E2E_CLUSTER=1` and a kubeconfig (or in-cluster
//! service account) whose API server answers; otherwise it prints
//! "skipped: no cluster" and passes. Everything is created in a fresh
//! namespace that is deleted at the end.
//!
//! By default the controllers run in this process against a fresh test
//! database. With `LIVEOPS_E2E_OPERATOR=external` the test expects an
//! operator already deployed in the cluster (e.g. by the Helm chart) and
//! checks only what the cluster shows.

use std::{
    future::Future,
    path::{Path, PathBuf},
    time::Duration,
};

use chrono::{DateTime, SubsecRound, Utc};
use k8s_openapi::{
    api::core::v1::Namespace, apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, Patch, PatchParams, PostParams},
};
use liveops_domain::crd::{Event, EventPhase, Reward};
use liveops_testkit::TestDb;
use operator::{
    health::Started,
    metrics::Metrics,
    shutdown,
    source::cluster::{self, ClusterSettings},
};
use serde_json::{Value, json};

const FIELD_MANAGER: &str = "liveops-e2e";

/// A client for a cluster that answers, or `None` (with the reason printed).
async fn reachable_cluster() -> Option<Client> {
    if std::env::var("LIVEOPS_E2E_CLUSTER").as_deref() != Ok("1") {
        println!("skipped: no cluster (set LIVEOPS_E2E_CLUSTER=1 with a kubeconfig to run this test)");
        return None;
    }
    let client = match Client::try_default().await {
        Ok(client) => client,
        Err(error) => {
            println!("skipped: no cluster (no usable kubeconfig: {error})");
            return None;
        }
    };
    match tokio::time::timeout(Duration::from_secs(5), client.apiserver_version()).await {
        Ok(Ok(version)) => {
            println!("cluster answers: Kubernetes {}.{}", version.major, version.minor);
            Some(client)
        }
        Ok(Err(error)) => {
            println!("skipped: no cluster (API server error: {error})");
            None
        }
        Err(_) => {
            println!("skipped: no cluster (API server did not answer within 5 s)");
            None
        }
    }
}

/// Polls `check` until it yields a value or `deadline` passes.
async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let give_up = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < give_up,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

/// Every YAML document in `path` (a file or a directory of files).
fn yaml_documents(path: &Path) -> Vec<Value> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .expect("read the examples directory")
            .map(|entry| entry.expect("directory entry").path())
            .filter(|file| file.extension().is_some_and(|ext| ext == "yaml" || ext == "yml"))
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_owned()]
    };
    files
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(file).expect("read YAML");
            serde_saphyr::from_multiple::<Value>(&text).expect("valid YAML")
        })
        .filter(|document| !document.is_null())
        .collect()
}

async fn install_crds(client: &Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for document in yaml_documents(&repo_path("crds/liveops.dev.yaml")) {
        let crd: CustomResourceDefinition = serde_json::from_value(document).expect("a CRD");
        let name = crd.name_any();
        crds.patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&crd),
        )
        .await
        .expect("apply the CRD");
        eventually(
            &format!("CRD {name} established"),
            Duration::from_secs(15),
            || async {
                let crd = crds.get(&name).await.ok()?;
                let conditions = crd.status?.conditions?;
                conditions
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
                    .then_some(())
            },
        )
        .await;
    }
}

async fn apply<K>(api: &Api<K>, mut document: Value, namespace: &str) -> String
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    document["metadata"]["namespace"] = json!(namespace);
    let name = document["metadata"]["name"].as_str().expect("a name").to_owned();
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&document),
    )
    .await
    .unwrap_or_else(|error| panic!("apply {name}: {error}"));
    name
}

async fn event_phase(events: &Api<Event>, name: &str) -> Option<EventPhase> {
    events.get_status(name).await.ok()?.status?.phase
}

fn ready_is_true(conditions: &[liveops_domain::crd::StatusCondition]) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == liveops_domain::crd::ConditionStatus::True)
}

/// Waits for `phase`, and checks it was not shown before `not_before`.
async fn expect_phase(
    events: &Api<Event>,
    name: &str,
    phase: EventPhase,
    not_before: DateTime<Utc>,
    by: Duration,
) {
    eventually(&format!("{name} {phase}"), by, || async {
        let seen = event_phase(events, name).await?;
        if seen == phase {
            let at = Utc::now();
            assert!(
                at >= not_before,
                "{name} was {phase} at {at}, before {not_before}"
            );
            Some(())
        } else {
            None
        }
    })
    .await;
}

#[tokio::test]
async fn events_and_rewards_reconcile_in_a_real_cluster() {
    let Some(client) = reachable_cluster().await else {
        return;
    };
    install_crds(&client).await;

    let namespace = format!("liveops-e2e-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns_object: Namespace =
        serde_json::from_value(json!({"metadata": {"name": namespace}})).expect("namespace");
    namespaces
        .create(&PostParams::default(), &ns_object)
        .await
        .expect("create the test namespace");

    let external = std::env::var("LIVEOPS_E2E_OPERATOR").as_deref() == Ok("external");
    let db = if external { None } else { Some(TestDb::new().await) };
    let (trigger, stop) = shutdown::channel();
    let operator = db.as_ref().map(|db| {
        let settings = ClusterSettings {
            watch_namespace: Some(namespace.clone()),
            identity: "liveops-e2e".to_owned(),
            election: None,
        };
        let run = cluster::run(
            client.clone(),
            db.pool.clone(),
            Metrics::new(),
            settings,
            Started::default(),
            stop,
        );
        tokio::spawn(run)
    });

    let events: Api<Event> = Api::namespaced(client.clone(), &namespace);
    let rewards: Api<Reward> = Api::namespaced(client.clone(), &namespace);

    // The examples: every Event gets a phase and every Reward becomes Ready.
    let mut example_rewards = Vec::new();
    for document in yaml_documents(&repo_path("manifests/examples")) {
        match document["kind"].as_str() {
            Some("Event") => {
                let name = apply(&events, document, &namespace).await;
                eventually(
                    &format!("example Event {name} synced"),
                    Duration::from_secs(15),
                    || async {
                        let status = events.get_status(&name).await.ok()?.status?;
                        (status.phase.is_some_and(|p| p != EventPhase::Invalid)
                            && ready_is_true(&status.conditions))
                        .then_some(())
                    },
                )
                .await;
            }
            Some("Reward") => example_rewards.push(apply(&rewards, document, &namespace).await),
            _ => {}
        }
    }
    for name in &example_rewards {
        eventually(
            &format!("example Reward {name} ready"),
            Duration::from_secs(15),
            || async {
                let status = rewards.get_status(name).await.ok()?.status?;
                ready_is_true(&status.conditions).then_some(())
            },
        )
        .await;
    }

    // A reward applied before its event resolves once the event appears.
    let reward = json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Reward",
        "metadata": {"name": "flash-coins"},
        "spec": {"eventRef": {"name": "flash"}, "displayName": "Flash coins", "quantity": 5},
    });
    apply(&rewards, reward, &namespace).await;
    eventually(
        "dangling reward reports EventNotFound",
        Duration::from_secs(10),
        || async {
            let status = rewards.get_status("flash-coins").await.ok()?.status?;
            status
                .conditions
                .iter()
                .any(|c| c.reason == "EventNotFound")
                .then_some(())
        },
    )
    .await;

    // An event a few seconds ahead, so every phase is seen on time.
    let starts_at = (Utc::now() + chrono::Duration::seconds(5)).trunc_subsecs(0);
    let ends_at = starts_at + chrono::Duration::seconds(3);
    let event = json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Event",
        "metadata": {"name": "flash"},
        "spec": {"displayName": "Flash event", "startsAt": starts_at, "endsAt": ends_at},
    });
    apply(&events, event, &namespace).await;
    expect_phase(
        &events,
        "flash",
        EventPhase::Scheduled,
        Utc::now() - chrono::Duration::seconds(1),
        Duration::from_secs(3),
    )
    .await;
    // Within about a second of each boundary (plus the time left before it).
    let until_start = (starts_at - Utc::now()).to_std().unwrap_or_default();
    expect_phase(
        &events,
        "flash",
        EventPhase::Active,
        starts_at,
        until_start + Duration::from_millis(1500),
    )
    .await;
    let until_end = (ends_at - Utc::now()).to_std().unwrap_or_default();
    expect_phase(
        &events,
        "flash",
        EventPhase::Ended,
        ends_at,
        until_end + Duration::from_millis(1500),
    )
    .await;

    eventually(
        "reward resolves when its event appears",
        Duration::from_secs(10),
        || async {
            let status = rewards.get_status("flash-coins").await.ok()?.status?;
            (ready_is_true(&status.conditions) && status.remaining == Some(5)).then_some(())
        },
    )
    .await;

    // Each phase change was recorded as a Kubernetes Event about the object.
    let recorded: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), &namespace);
    eventually(
        "Kubernetes Events for every phase",
        Duration::from_secs(5),
        || async {
            let reasons: Vec<String> = recorded
                .list(&Default::default())
                .await
                .ok()?
                .items
                .into_iter()
                .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("flash"))
                .filter_map(|e| e.reason)
                .collect();
            ["Scheduled", "Active", "Ended"]
                .iter()
                .all(|phase| reasons.iter().any(|reason| reason == phase))
                .then_some(())
        },
    )
    .await;

    let uid = events
        .get("flash")
        .await
        .expect("the event")
        .uid()
        .expect("a uid");
    if let Some(db) = &db {
        let id = uuid::Uuid::parse_str(&uid).expect("uid is a UUID");
        let phase = sqlx::query_scalar::<_, String>("select phase::text from events where id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .expect("the projected row");
        assert_eq!(phase, "Ended");
    }

    // Deleting runs the finalizer: rows soft-deleted, then the object goes.
    events
        .delete("flash", &DeleteParams::default())
        .await
        .expect("delete the event");
    eventually("the deleted event is gone", Duration::from_secs(10), || async {
        matches!(events.get_opt("flash").await, Ok(None)).then_some(())
    })
    .await;
    if let Some(db) = &db {
        let id = uuid::Uuid::parse_str(&uid).expect("uid is a UUID");
        let deleted =
            sqlx::query_scalar::<_, bool>("select deleted_at is not null from events where id = $1")
                .bind(id)
                .fetch_one(&db.pool)
                .await
                .expect("the row is kept");
        assert!(deleted, "the event row is soft-deleted");
    }

    // Let the finalizers of what is left run before the namespace goes.
    for name in &example_rewards {
        let _ = rewards.delete(name, &DeleteParams::default()).await;
    }
    let _ = rewards.delete("flash-coins", &DeleteParams::default()).await;
    let _ = events
        .delete_collection(&DeleteParams::default(), &Default::default())
        .await;
    eventually("test objects deleted", Duration::from_secs(15), || async {
        let left = events.list(&Default::default()).await.ok()?.items.len()
            + rewards.list(&Default::default()).await.ok()?.items.len();
        (left == 0).then_some(())
    })
    .await;
    trigger.fire();
    if let Some(operator) = operator {
        let stopped = tokio::time::timeout(Duration::from_secs(10), operator).await;
        assert!(
            matches!(stopped, Ok(Ok(Ok(())))),
            "the operator stops cleanly: {stopped:?}"
        );
    }
    let _ = namespaces.delete(&namespace, &DeleteParams::default()).await;
}
