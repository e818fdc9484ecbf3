//! Controller tests against a scripted API server and a real PostgreSQL.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, TimeZone, Utc};
use http::Method;
use kube::{Resource, runtime::controller::Action};
use liveops_domain::crd::{ClaimPolicy, Event, EventPhase, EventRef, EventSpec, Reward, RewardSpec};
use liveops_testkit::TestDb;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    FINALIZER, error_policy, failure_reason,
    mock_api::{Scenario, Step, context, finished},
    reconcile_event, reconcile_reward,
};

const NS: &str = "testns";
const EVENTS: &str = "/apis/liveops.dev/v1alpha1/namespaces/testns/events";
const REWARDS: &str = "/apis/liveops.dev/v1alpha1/namespaces/testns/rewards";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
        .single()
        .expect("valid instant")
}

fn fixed_clock() -> super::Clock {
    Arc::new(now)
}

/// An Event in `testns` whose window is `[now + starts_in, now + ends_in)`.
fn event(name: &str, starts_in: chrono::Duration, ends_in: chrono::Duration) -> Event {
    let spec = EventSpec {
        display_name: format!("{name} event"),
        description: String::new(),
        starts_at: now() + starts_in,
        ends_at: now() + ends_in,
        time_zone: "UTC".to_owned(),
        condition: None,
        claim_policy: ClaimPolicy::default(),
        suspend: false,
        max_claims: None,
    };
    let mut event = Event::new(name, spec);
    let meta = event.meta_mut();
    meta.namespace = Some(NS.to_owned());
    meta.uid = Some(Uuid::new_v4().to_string());
    meta.generation = Some(3);
    meta.resource_version = Some("100".to_owned());
    event
}

fn reward(name: &str, event_name: &str) -> Reward {
    let spec = RewardSpec {
        event_ref: EventRef {
            name: event_name.to_owned(),
        },
        display_name: format!("{name} reward"),
        description: String::new(),
        quantity: Some(10),
        per_user_limit: 1,
        payload: None,
    };
    let mut reward = Reward::new(name, spec);
    let meta = reward.meta_mut();
    meta.namespace = Some(NS.to_owned());
    meta.uid = Some(Uuid::new_v4().to_string());
    meta.generation = Some(2);
    reward
}

fn finalized<K: Resource>(mut object: K) -> K {
    object.meta_mut().finalizers = Some(vec![FINALIZER.to_owned()]);
    object
}

fn deleting<K: Resource>(mut object: K) -> K {
    object.meta_mut().deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::now(),
    ));
    object
}

fn json_of<T: serde::Serialize>(object: &T) -> Value {
    serde_json::to_value(object).expect("serialise")
}

fn uid_of<K: Resource>(object: &K) -> Uuid {
    Uuid::parse_str(object.meta().uid.as_deref().expect("uid")).expect("uuid uid")
}

async fn event_row_phase(db: &sqlx::PgPool, id: Uuid) -> Option<EventPhase> {
    sqlx::query_scalar!(
        r#"select phase as "phase: EventPhase" from events where id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
    .expect("query events")
}

#[tokio::test]
async fn an_event_without_the_finalizer_gets_it_before_anything_else() {
    let db = TestDb::new().await;
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let event = event("login", chrono::Duration::hours(1), chrono::Duration::days(2));
    let path = format!("{EVENTS}/login");
    let verifier = server.run(Scenario::Steps(vec![Step::AddFinalizer {
        path,
        object: json_of(&event),
    }]));

    let action = reconcile_event(Arc::new(event.clone()), ctx)
        .await
        .expect("reconcile");
    let sent = finished(verifier).await;

    assert_eq!(
        action,
        Action::await_change(),
        "the finalizer patch triggers the next reconcile"
    );
    let patch = &sent[0].body;
    assert_eq!(
        patch[1],
        json!({"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]})
    );
    assert_eq!(
        event_row_phase(&db.pool, uid_of(&event)).await,
        None,
        "nothing projected before the finalizer"
    );
}

#[tokio::test]
async fn a_scheduled_event_gets_its_status_applied_and_requeues_at_its_start() {
    let db = TestDb::new().await;
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let event = finalized(event(
        "login",
        chrono::Duration::minutes(90),
        chrono::Duration::days(2),
    ));
    let path = format!("{EVENTS}/login");
    let verifier = server.run(Scenario::Steps(vec![
        Step::ApplyStatus {
            path,
            object: json_of(&event),
        },
        Step::PublishEvent {
            namespace: NS.to_owned(),
        },
    ]));

    let action = reconcile_event(Arc::new(event.clone()), ctx.clone())
        .await
        .expect("reconcile");
    let sent = finished(verifier).await;

    assert_eq!(
        action,
        Action::requeue(Duration::from_secs(90 * 60)),
        "exactly at startsAt"
    );
    let apply = &sent[0].body;
    assert_eq!(apply["apiVersion"], "liveops.dev/v1alpha1");
    assert_eq!(apply["kind"], "Event");
    let status = &apply["status"];
    assert_eq!(status["phase"], "Scheduled");
    assert_eq!(status["observedGeneration"], 3);
    assert_eq!(status["nextTransitionTime"], json!(event.spec.starts_at));
    let ready = &status["conditions"][0];
    assert_eq!(
        (&ready["type"], &ready["status"], &ready["reason"]),
        (&json!("Ready"), &json!("True"), &json!("Synced"))
    );
    assert_eq!(ready["observedGeneration"], 3);

    let recorded = &sent[1].body;
    assert_eq!(recorded["reason"], "Scheduled");
    assert_eq!(recorded["type"], "Normal");
    assert_eq!(recorded["regarding"]["name"], "login");
    assert_eq!(recorded["reportingController"], super::REPORTING_CONTROLLER);
    assert_eq!(
        event_row_phase(&db.pool, uid_of(&event)).await,
        Some(EventPhase::Scheduled)
    );
    assert_eq!(ctx.metrics.objects_in_phase("Event", "Scheduled"), 1);
}

#[tokio::test]
async fn a_phase_change_is_recorded_as_a_kubernetes_event() {
    let db = TestDb::new().await;
    // The status still says Scheduled, but the window has opened.
    let mut event = finalized(event(
        "invite",
        -chrono::Duration::seconds(1),
        chrono::Duration::hours(5),
    ));
    event.status = Some(liveops_domain::crd::EventStatus {
        phase: Some(EventPhase::Scheduled),
        ..Default::default()
    });
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let path = format!("{EVENTS}/invite");
    let verifier = server.run(Scenario::Steps(vec![
        Step::ApplyStatus {
            path,
            object: json_of(&event),
        },
        Step::PublishEvent {
            namespace: NS.to_owned(),
        },
    ]));

    let action = reconcile_event(Arc::new(event.clone()), ctx)
        .await
        .expect("reconcile");
    let sent = finished(verifier).await;

    assert_eq!(sent[0].body["status"]["phase"], "Active");
    assert_eq!(sent[1].body["reason"], "Active");
    assert_eq!(sent[1].body["note"], "phase Scheduled -> Active");
    assert_eq!(
        action,
        Action::requeue(Duration::from_secs(5 * 3600)),
        "exactly at endsAt"
    );
    assert_eq!(
        event_row_phase(&db.pool, uid_of(&event)).await,
        Some(EventPhase::Active)
    );
}

#[tokio::test]
async fn an_unchanged_status_is_not_written_again() {
    let db = TestDb::new().await;
    let mut event = finalized(event(
        "profile",
        chrono::Duration::hours(1),
        chrono::Duration::days(1),
    ));
    let outcome = crate::reconcile::reconcile_event(&db.pool, &event, now())
        .await
        .expect("core reconcile");
    event.status = Some(outcome.status);
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let verifier = server.run(Scenario::RadioSilence);

    let action = reconcile_event(Arc::new(event), ctx)
        .await
        .expect("no API call needed");
    finished(verifier).await;

    assert_eq!(action, Action::requeue(Duration::from_secs(3600)));
}

#[tokio::test]
async fn an_invalid_event_is_reported_with_warnings() {
    let db = TestDb::new().await;
    let event = finalized(event(
        "broken",
        chrono::Duration::hours(2),
        chrono::Duration::hours(1),
    ));
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let path = format!("{EVENTS}/broken");
    let verifier = server.run(Scenario::Steps(vec![
        Step::ApplyStatus {
            path,
            object: json_of(&event),
        },
        Step::PublishEvent {
            namespace: NS.to_owned(),
        },
        Step::PublishEvent {
            namespace: NS.to_owned(),
        },
    ]));

    let action = reconcile_event(Arc::new(event.clone()), ctx)
        .await
        .expect("reconcile");
    let sent = finished(verifier).await;

    let status = &sent[0].body["status"];
    assert_eq!(status["phase"], "Invalid");
    assert_eq!(status["conditions"][0]["status"], "False");
    assert_eq!(status["conditions"][0]["reason"], "InvalidSpec");
    assert_eq!(
        (&sent[1].body["reason"], &sent[1].body["type"]),
        (&json!("Invalid"), &json!("Warning"))
    );
    assert_eq!(
        (&sent[2].body["reason"], &sent[2].body["type"]),
        (&json!("InvalidSpec"), &json!("Warning"))
    );
    assert!(
        sent[2].body["note"]
            .as_str()
            .unwrap_or_default()
            .contains("spec.endsAt"),
        "{}",
        sent[2].body
    );
    assert_eq!(
        action,
        Action::await_change(),
        "nothing to wait for until the spec changes"
    );
    assert_eq!(
        event_row_phase(&db.pool, uid_of(&event)).await,
        None,
        "an invalid event is never activated"
    );
}

#[tokio::test]
async fn deleting_an_event_soft_deletes_its_row_before_the_finalizer_goes() {
    let db = TestDb::new().await;
    let event = finalized(event(
        "gone",
        -chrono::Duration::hours(1),
        chrono::Duration::hours(1),
    ));
    crate::reconcile::reconcile_event(&db.pool, &event, now())
        .await
        .expect("project first");
    let event = deleting(event);
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let path = format!("{EVENTS}/gone");
    let step = Step::RemoveFinalizer {
        path,
        object: json_of(&event),
        db: db.pool.clone(),
        table: "events",
        id: uid_of(&event),
    };
    let verifier = server.run(Scenario::Steps(vec![step]));

    let action = reconcile_event(Arc::new(event.clone()), ctx)
        .await
        .expect("cleanup");
    let sent = finished(verifier).await;

    assert_eq!(action, Action::await_change());
    assert_eq!(
        sent[0].row_deleted_before,
        Some(true),
        "soft delete happened before the finalizer was removed"
    );
    assert_eq!(
        sent[0].body[1],
        json!({"op": "remove", "path": "/metadata/finalizers/0"})
    );
    let still_there = sqlx::query_scalar!("select count(*) from events where id = $1", uid_of(&event))
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(
        still_there,
        Some(1),
        "the row is kept (soft delete) for the claims history"
    );
}

#[tokio::test]
async fn a_conflict_from_the_api_server_is_counted_and_retried_with_backoff() {
    let db = TestDb::new().await;
    let event = Arc::new(finalized(event(
        "busy",
        chrono::Duration::hours(1),
        chrono::Duration::days(1),
    )));
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let path = format!("{EVENTS}/busy/status");
    let verifier = server.run(Scenario::Steps(vec![Step::Fail {
        method: Method::PATCH,
        path,
        code: 409,
    }]));

    let error = reconcile_event(event.clone(), ctx.clone())
        .await
        .expect_err("the patch was refused");
    finished(verifier).await;

    assert_eq!(failure_reason(&error), "conflict");
    assert_eq!(
        error_policy(event.clone(), &error, ctx.clone()),
        Action::requeue(Duration::from_secs(2))
    );
    assert_eq!(
        error_policy(event, &error, ctx.clone()),
        Action::requeue(Duration::from_secs(4))
    );
    assert_eq!(ctx.metrics.failures("Event", "conflict"), 2);
    assert_eq!(ctx.metrics.reconciles("Event"), 1);
}

#[tokio::test]
async fn a_server_error_while_adding_the_finalizer_goes_to_the_error_policy() {
    let db = TestDb::new().await;
    let event = Arc::new(event(
        "flaky",
        chrono::Duration::hours(1),
        chrono::Duration::days(1),
    ));
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let path = format!("{EVENTS}/flaky");
    let verifier = server.run(Scenario::Steps(vec![Step::Fail {
        method: Method::PATCH,
        path,
        code: 500,
    }]));

    let error = reconcile_event(event.clone(), ctx.clone())
        .await
        .expect_err("the API server failed");
    finished(verifier).await;

    assert_eq!(failure_reason(&error), "add_finalizer");
    assert_eq!(
        error_policy(event, &error, ctx.clone()),
        Action::requeue(Duration::from_secs(2))
    );
    assert_eq!(ctx.metrics.failures("Event", "add_finalizer"), 1);
}

#[tokio::test]
async fn a_success_resets_the_backoff() {
    let db = TestDb::new().await;
    let mut event = finalized(event(
        "steady",
        chrono::Duration::hours(1),
        chrono::Duration::days(1),
    ));
    let outcome = crate::reconcile::reconcile_event(&db.pool, &event, now())
        .await
        .expect("core reconcile");
    event.status = Some(outcome.status);
    let event = Arc::new(event);
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let error = crate::error::Error::MissingMetadata("uid");
    assert_eq!(
        error_policy(event.clone(), &error, ctx.clone()),
        Action::requeue(Duration::from_secs(2))
    );
    assert_eq!(
        error_policy(event.clone(), &error, ctx.clone()),
        Action::requeue(Duration::from_secs(4))
    );
    let verifier = server.run(Scenario::RadioSilence);
    reconcile_event(event.clone(), ctx.clone())
        .await
        .expect("reconcile");
    finished(verifier).await;
    assert_eq!(
        error_policy(event, &error, ctx),
        Action::requeue(Duration::from_secs(2))
    );
}

#[tokio::test]
async fn a_reward_whose_event_is_missing_reports_event_not_found() {
    let db = TestDb::new().await;
    let reward = finalized(reward("gems", "no-such-event"));
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let path = format!("{REWARDS}/gems");
    let verifier = server.run(Scenario::Steps(vec![
        Step::ApplyStatus {
            path,
            object: json_of(&reward),
        },
        Step::PublishEvent {
            namespace: NS.to_owned(),
        },
    ]));

    reconcile_reward(Arc::new(reward.clone()), ctx)
        .await
        .expect("reconcile");
    let sent = finished(verifier).await;

    let status = &sent[0].body["status"];
    assert_eq!(sent[0].body["kind"], "Reward");
    assert_eq!(status["conditions"][0]["reason"], "EventNotFound");
    assert_eq!(status["conditions"][0]["status"], "False");
    assert_eq!(status["observedGeneration"], 2);
    assert_eq!(
        (&sent[1].body["reason"], &sent[1].body["type"]),
        (&json!("EventNotFound"), &json!("Warning"))
    );
    let rows = sqlx::query_scalar!("select count(*) from rewards where id = $1", uid_of(&reward))
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(rows, Some(0), "no row for a reward without its event");
}

#[tokio::test]
async fn a_reward_of_a_live_event_shows_claimed_and_remaining() {
    let db = TestDb::new().await;
    let event = event("streak", -chrono::Duration::hours(1), chrono::Duration::days(7));
    crate::reconcile::reconcile_event(&db.pool, &event, now())
        .await
        .expect("project the event");
    let reward = finalized(reward("coins", "streak"));
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let path = format!("{REWARDS}/coins");
    let verifier = server.run(Scenario::Steps(vec![
        Step::ApplyStatus {
            path,
            object: json_of(&reward),
        },
        Step::PublishEvent {
            namespace: NS.to_owned(),
        },
    ]));

    reconcile_reward(Arc::new(reward), ctx).await.expect("reconcile");
    let sent = finished(verifier).await;

    let status = &sent[0].body["status"];
    assert_eq!(
        (&status["claimed"], &status["remaining"]),
        (&json!(0), &json!(10))
    );
    assert_eq!(status["conditions"][0]["reason"], "Synced");
    assert_eq!(
        (&sent[1].body["reason"], &sent[1].body["type"]),
        (&json!("Synced"), &json!("Normal"))
    );
}

#[tokio::test]
async fn deleting_a_reward_soft_deletes_its_row_before_the_finalizer_goes() {
    let db = TestDb::new().await;
    let event = event("weekly", -chrono::Duration::hours(1), chrono::Duration::days(7));
    crate::reconcile::reconcile_event(&db.pool, &event, now())
        .await
        .expect("project the event");
    let reward = finalized(reward("chest", "weekly"));
    crate::reconcile::reconcile_reward(&db.pool, &reward, now())
        .await
        .expect("project the reward");
    let reward = deleting(reward);
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let path = format!("{REWARDS}/chest");
    let step = Step::RemoveFinalizer {
        path,
        object: json_of(&reward),
        db: db.pool.clone(),
        table: "rewards",
        id: uid_of(&reward),
    };
    let verifier = server.run(Scenario::Steps(vec![step]));

    reconcile_reward(Arc::new(reward), ctx).await.expect("cleanup");
    let sent = finished(verifier).await;

    assert_eq!(sent[0].row_deleted_before, Some(true));
}
