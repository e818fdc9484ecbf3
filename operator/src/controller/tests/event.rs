//! Event reconcile against the scripted API server: finalizer, status, Kubernetes Events, cleanup.

use super::*;

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

    let action = reconcile(Arc::new(event.clone()), ctx).await.expect("reconcile");
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
        event_row_phase(&db.pool, row_id_of(&event)).await,
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

    let action = reconcile(Arc::new(event.clone()), ctx.clone())
        .await
        .expect("reconcile");
    let sent = finished(verifier).await;

    assert_eq!(
        action,
        Action::requeue(Duration::from_secs(90 * 60) + grace()),
        "the safety net just after startsAt (the phase timer's flip wakes it first)"
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
    assert_eq!(kstatus(status, 3), expected(&[("Ready", "True", "Synced")]));
    let row = printed("Event", &event, status);
    let starts = event
        .spec
        .starts_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(cell(&row, "Phase"), "Scheduled");
    assert_eq!(cell(&row, "Ready"), "True");
    assert_eq!(
        cell(&row, "Status"),
        format!("Scheduled: claims open at {starts}")
    );
    assert_eq!(cell(&row, "Starts"), starts, "a future instant prints as itself");
    assert_eq!(cell(&row, "Claims"), "0");

    let recorded = &sent[1].body;
    assert_eq!(recorded["reason"], "Scheduled");
    assert_eq!(recorded["type"], "Normal");
    assert_eq!(recorded["regarding"]["name"], "login");
    assert_eq!(
        recorded["reportingController"],
        crate::controller::REPORTING_CONTROLLER
    );
    assert_eq!(
        event_row_phase(&db.pool, row_id_of(&event)).await,
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

    let action = reconcile(Arc::new(event.clone()), ctx).await.expect("reconcile");
    let sent = finished(verifier).await;

    assert_eq!(sent[0].body["status"]["phase"], "Active");
    assert_eq!(sent[1].body["reason"], "Active");
    assert_eq!(sent[1].body["note"], "phase Scheduled -> Active");
    assert_eq!(
        action,
        Action::requeue(Duration::from_secs(5 * 3600) + grace()),
        "the safety net just after endsAt"
    );
    assert_eq!(
        event_row_phase(&db.pool, row_id_of(&event)).await,
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

    let action = reconcile(Arc::new(event), ctx).await.expect("no API call needed");
    finished(verifier).await;

    assert_eq!(action, Action::requeue(Duration::from_secs(3600) + grace()));
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

    let action = reconcile(Arc::new(event.clone()), ctx).await.expect("reconcile");
    let sent = finished(verifier).await;

    let status = &sent[0].body["status"];
    assert_eq!(status["phase"], "Invalid");
    assert_eq!(
        kstatus(status, 3),
        expected(&[
            ("Ready", "False", "InvalidSpec"),
            ("Stalled", "True", "InvalidSpec")
        ])
    );
    let row = printed("Event", &event, status);
    assert_eq!((cell(&row, "Phase"), cell(&row, "Ready")), ("Invalid", "False"));
    assert_eq!(
        cell(&row, "Status"),
        "invalid spec, edit it: spec.endsAt: endsAt must be after startsAt"
    );
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
        event_row_phase(&db.pool, row_id_of(&event)).await,
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
        id: row_id_of(&event),
    };
    let verifier = server.run(Scenario::Steps(vec![step]));

    let action = reconcile(Arc::new(event.clone()), ctx).await.expect("cleanup");
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
    let still_there = sqlx::query_scalar!("select count(*) from events where id = $1", row_id_of(&event))
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(
        still_there,
        Some(1),
        "the row is kept (soft delete) for the claims history"
    );
}

/// The Event requeue's delay after its boundary.
fn grace() -> Duration {
    crate::controller::BOUNDARY_GRACE.to_std().expect("positive")
}
