//! Reward reconcile against the scripted API server: dangling refs, counters, cleanup.

use super::*;

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

    reconcile(Arc::new(reward.clone()), ctx).await.expect("reconcile");
    let sent = finished(verifier).await;

    let status = &sent[0].body["status"];
    assert_eq!(sent[0].body["kind"], "Reward");
    assert_eq!(
        kstatus(status, 2),
        expected(&[
            ("Ready", "False", "EventNotFound"),
            ("Reconciling", "True", "EventNotFound")
        ]),
        "the Event may still be applied: waiting, not stalled"
    );
    let row = printed("Reward", &reward, status);
    assert_eq!(
        (cell(&row, "Event"), cell(&row, "Ready")),
        ("no-such-event", "False")
    );
    assert_eq!(
        cell(&row, "Status"),
        "spec.eventRef.name: Event testns/no-such-event does not exist; waiting for it to be created"
    );
    assert_eq!(status["observedGeneration"], 2);
    assert_eq!(
        (&sent[1].body["reason"], &sent[1].body["type"]),
        (&json!("EventNotFound"), &json!("Warning"))
    );
    let rows = sqlx::query_scalar!("select count(*) from rewards where id = $1", row_id_of(&reward))
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

    reconcile(Arc::new(reward.clone()), ctx).await.expect("reconcile");
    let sent = finished(verifier).await;

    let status = &sent[0].body["status"];
    assert_eq!(
        (&status["claimed"], &status["remaining"]),
        (&json!(0), &json!(10))
    );
    assert_eq!(kstatus(status, 2), expected(&[("Ready", "True", "Synced")]));
    let row = printed("Reward", &reward, status);
    let cells: Vec<&str> = ["Event", "Ready", "Status", "Claimed", "Remaining"]
        .iter()
        .map(|name| cell(&row, name))
        .collect();
    assert_eq!(
        cells,
        ["streak", "True", "projected under Event streak", "0", "10"]
    );
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
        id: row_id_of(&reward),
    };
    let verifier = server.run(Scenario::Steps(vec![step]));

    reconcile(Arc::new(reward), ctx).await.expect("cleanup");
    let sent = finished(verifier).await;

    assert_eq!(sent[0].row_deleted_before, Some(true));
}
