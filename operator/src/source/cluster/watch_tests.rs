//! What `relevant_changes` lets through: a new object, a new generation, a
//! new incarnation, finalizers, deletion; not a status write or a resync
//! that changed nothing relevant.

use chrono::Utc;
use futures::{StreamExt, stream};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use liveops_domain::crd::{Event, EventPhase, EventStatus};

use super::{super::controllers_tests::event, relevant_changes};

fn base(name: &str) -> Event {
    let now = Utc::now();
    let mut object: Event =
        serde_json::from_value(event(name, now, now + chrono::Duration::days(1))).expect("an Event");
    object.metadata.uid = Some(format!("uid-{name}"));
    object.metadata.generation = Some(1);
    object
}

#[tokio::test]
async fn only_changes_reconcile_reads_pass() {
    let first = base("a");
    let mut status_only = first.clone();
    status_only.status = Some(EventStatus {
        phase: Some(EventPhase::Active),
        ..EventStatus::default()
    });
    let mut regenerated = status_only.clone();
    regenerated.metadata.generation = Some(2);
    let mut finalized = regenerated.clone();
    finalized.metadata.finalizers = Some(vec!["liveops.dev/cleanup".into()]);
    let mut deleted = finalized.clone();
    deleted.metadata.deletion_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::now()));
    let mut recreated = base("a");
    recreated.metadata.uid = Some("uid-a-again".into());
    let other = base("b");

    let objects = [
        first,
        status_only,
        regenerated.clone(),
        regenerated,
        finalized,
        deleted,
        recreated,
        other,
    ];
    let passed: Vec<(Option<String>, Option<i64>, bool)> =
        relevant_changes(stream::iter(objects.into_iter().map(Ok)))
            .map(|object| {
                let object = object.expect("no errors in");
                let meta = object.metadata;
                (meta.uid, meta.generation, meta.deletion_timestamp.is_some())
            })
            .collect()
            .await;
    let uid = |name: &str| Some(name.to_owned());
    assert_eq!(
        passed,
        vec![
            (uid("uid-a"), Some(1), false),
            (uid("uid-a"), Some(2), false),
            (uid("uid-a"), Some(2), false),
            (uid("uid-a"), Some(2), true),
            (uid("uid-a-again"), Some(1), false),
            (uid("uid-b"), Some(1), false),
        ]
    );
}
