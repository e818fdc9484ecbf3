//! API server failures go through error_policy: counted under a fixed label, retried with backoff.

use super::*;

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

    let error = reconcile(event.clone(), ctx.clone())
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

    let error = reconcile(event.clone(), ctx.clone())
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
    reconcile(event.clone(), ctx.clone()).await.expect("reconcile");
    finished(verifier).await;
    assert_eq!(
        error_policy(event, &error, ctx),
        Action::requeue(Duration::from_secs(2))
    );
}

#[tokio::test]
async fn a_server_error_on_the_status_patch_is_counted_as_an_api_server_failure() {
    let db = TestDb::new().await;
    let event = Arc::new(finalized(event(
        "down",
        chrono::Duration::hours(1),
        chrono::Duration::days(1),
    )));
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let path = format!("{EVENTS}/down/status");
    let verifier = server.run(Scenario::Steps(vec![Step::Fail {
        method: Method::PATCH,
        path,
        code: 500,
    }]));

    let error = reconcile(event.clone(), ctx.clone())
        .await
        .expect_err("the API server failed");
    finished(verifier).await;

    assert_eq!(failure_reason(&error), "api_server");
    assert_eq!(
        error_policy(event, &error, ctx.clone()),
        Action::requeue(Duration::from_secs(2))
    );
    assert_eq!(ctx.metrics.failures("Event", "api_server"), 1);
}

#[tokio::test]
async fn an_unreachable_database_shows_database_unavailable_and_is_retried() {
    let db = TestDb::new().await;
    let mut event = finalized(event(
        "offline",
        chrono::Duration::hours(1),
        chrono::Duration::days(1),
    ));
    let outcome = crate::reconcile::reconcile_event(&db.pool, &event, now())
        .await
        .expect("core reconcile");
    event.status = Some(outcome.status);
    let event = Arc::new(event);
    db.pool.close().await;
    let (ctx, server) = context(db.pool.clone(), fixed_clock());
    let path = format!("{EVENTS}/offline");
    let verifier = server.run(Scenario::Steps(vec![Step::ApplyStatus {
        path,
        object: json_of(event.as_ref()),
    }]));

    let error = reconcile(event.clone(), ctx.clone())
        .await
        .expect_err("the database is down");
    let sent = finished(verifier).await;

    let status = &sent[0].body["status"];
    assert_eq!(status["phase"], "Scheduled", "the last known phase stays");
    assert_eq!(
        kstatus(status, 3),
        expected(&[
            ("Ready", "False", "DatabaseUnavailable"),
            ("Reconciling", "True", "DatabaseUnavailable")
        ])
    );
    let row = printed("Event", event.as_ref(), status);
    assert_eq!((cell(&row, "Phase"), cell(&row, "Ready")), ("Scheduled", "False"));
    assert!(
        cell(&row, "Status").starts_with("database unavailable, retrying: "),
        "{row:?}"
    );
    assert_eq!(failure_reason(&error), "database");
    assert_eq!(
        error_policy(event, &error, ctx.clone()),
        Action::requeue(Duration::from_secs(2))
    );
    assert_eq!(ctx.metrics.failures("Event", "database"), 1);
}
