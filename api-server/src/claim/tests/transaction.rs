//! The claim transaction's outcomes one at a time: grants, each refusal and
//! its `failed` record, counters, period keys, slots and the outbox row.

use liveops_testkit::TestDb;
use serde_json::json;
use uuid::Uuid;

use super::fixtures::{EventRow, claim, claims_of, login, refusal, reward, user};
use crate::claim::{ClaimOutcome, ClaimRefusal, InactiveReason};

#[tokio::test]
async fn a_claim_is_granted_once_with_counters_generation_and_a_cloudevents_outbox_row() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let reward_id = reward(&db.pool, event_id, Some(5), 1).await;

    let outcome = claim(&db.pool, user_id, reward_id).await.expect("claim");
    let ClaimOutcome::Granted(granted) = outcome else {
        panic!("expected a grant, got {outcome:?}");
    };
    assert_eq!(
        (granted.event_id, granted.period_key.as_str(), granted.slot),
        (event_id, "once", 1)
    );
    assert_eq!(granted.event_generation, 1);

    // uncapped: the total is brought up to date by the sync (migration 0036)
    crate::claim::event_totals::sync_event_totals(&db.pool)
        .await
        .expect("sync event totals");
    let counters = sqlx::query!(
        "select r.claimed, e.claims_total from rewards r join events e on e.id = r.event_id where r.id = $1",
        reward_id
    )
    .fetch_one(&db.pool)
    .await
    .expect("counters");
    assert_eq!((counters.claimed, counters.claims_total), (1, 1));

    let outbox = sqlx::query!(
        "select event_type, payload from outbox where event_type = 'dev.liveops.reward.claimed'"
    )
    .fetch_all(&db.pool)
    .await
    .expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].event_type, "dev.liveops.reward.claimed");
    let payload = &outbox[0].payload;
    assert_eq!(payload["specversion"], "1.0");
    assert_eq!(payload["type"], "dev.liveops.reward.claimed");
    assert_eq!(payload["id"], json!(granted.claim_id));
    assert!(
        payload["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("/liveops/events/default/"))
    );
    assert!(payload["time"].is_string() && payload["subject"].is_string());
    assert_eq!(payload["data"]["userId"], json!(user_id));
    assert_eq!(payload["data"]["rewardId"], json!(reward_id));

    let again = claim(&db.pool, user_id, reward_id).await.expect("claim again");
    assert_eq!(
        refusal(&again),
        Some(ClaimRefusal::AlreadyClaimed { event_limit: false })
    );
    assert_eq!(
        claims_of(&db.pool, user_id).await,
        vec![
            ("success".to_owned(), None),
            ("failed".to_owned(), Some("ALREADY_CLAIMED".to_owned()))
        ]
    );
    let claimed = sqlx::query_scalar!("select claimed from rewards where id = $1", reward_id)
        .fetch_one(&db.pool)
        .await
        .expect("claimed");
    assert_eq!(claimed, 1, "a refusal changes no counter");
}

#[tokio::test]
async fn closed_events_are_refused_with_the_reason_and_recorded() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let cases = [
        (
            EventRow {
                starts_in_secs: 2.0,
                ends_in_secs: 3600.0,
                phase: "Scheduled",
                ..EventRow::default()
            },
            InactiveReason::Scheduled,
        ),
        // the database clock decides: the operator still says Active
        (
            EventRow {
                starts_in_secs: -3600.0,
                ends_in_secs: -0.001,
                ..EventRow::default()
            },
            InactiveReason::Ended,
        ),
        (
            EventRow {
                suspended: true,
                ..EventRow::default()
            },
            InactiveReason::Suspended,
        ),
        (
            EventRow {
                deleted: true,
                ..EventRow::default()
            },
            InactiveReason::Deleted,
        ),
        (
            EventRow {
                phase: "Invalid",
                ..EventRow::default()
            },
            InactiveReason::Invalid,
        ),
    ];
    for (event, reason) in &cases {
        let event_id = event.insert(&db.pool).await;
        let reward_id = reward(&db.pool, event_id, None, 1).await;
        let outcome = claim(&db.pool, user_id, reward_id).await.expect("claim");
        assert_eq!(
            refusal(&outcome),
            Some(ClaimRefusal::EventNotActive(Some(*reason)))
        );
    }
    let recorded = claims_of(&db.pool, user_id).await;
    assert_eq!(recorded.len(), cases.len());
    assert!(
        recorded
            .iter()
            .all(|(status, reason)| status == "failed" && reason.as_deref() == Some("EVENT_NOT_ACTIVE"))
    );
}

#[tokio::test]
async fn an_event_that_started_a_moment_ago_is_open() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow {
        starts_in_secs: -0.001,
        ends_in_secs: 60.0,
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    let reward_id = reward(&db.pool, event_id, None, 1).await;
    let outcome = claim(&db.pool, user_id, reward_id).await.expect("claim");
    assert!(matches!(outcome, ClaimOutcome::Granted(_)), "{outcome:?}");
}

#[tokio::test]
async fn an_unknown_reward_is_refused_and_not_recorded() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let outcome = claim(&db.pool, user_id, Uuid::new_v4()).await.expect("claim");
    assert_eq!(refusal(&outcome), Some(ClaimRefusal::RewardNotFound));
    assert_eq!(
        claims_of(&db.pool, user_id).await,
        vec![],
        "random ids write no ledger rows"
    );
}

#[tokio::test]
async fn stock_and_the_event_cap_run_out_and_roll_back_the_claim() {
    let db = TestDb::new().await;
    let event_id = EventRow {
        max_claims: Some(2),
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    let one_left = reward(&db.pool, event_id, Some(1), 1).await;
    let unlimited = reward(&db.pool, event_id, None, 1).await;
    let (a, b, c) = (user(&db.pool).await, user(&db.pool).await, user(&db.pool).await);

    assert!(matches!(
        claim(&db.pool, a, one_left).await.expect("claim"),
        ClaimOutcome::Granted(_)
    ));
    let sold_out = claim(&db.pool, b, one_left).await.expect("claim");
    assert_eq!(
        refusal(&sold_out),
        Some(ClaimRefusal::SoldOut { event_cap: false })
    );
    assert!(matches!(
        claim(&db.pool, b, unlimited).await.expect("claim"),
        ClaimOutcome::Granted(_)
    ));
    let capped = claim(&db.pool, c, unlimited).await.expect("claim");
    assert_eq!(refusal(&capped), Some(ClaimRefusal::SoldOut { event_cap: true }));

    let totals = sqlx::query!(
        r#"select (select claims_total from events where id = $1) as "total!",
                  (select count(*) from claims where event_id = $1 and status = 'success') as "successes!",
                  (select count(*) from outbox where event_type = 'dev.liveops.reward.claimed') as "outbox!""#,
        event_id
    )
    .fetch_one(&db.pool)
    .await
    .expect("totals");
    assert_eq!((totals.total, totals.successes, totals.outbox), (2, 2, 2));
    assert_eq!(
        claims_of(&db.pool, c).await,
        vec![("failed".to_owned(), Some("SOLD_OUT".to_owned()))]
    );
}

#[tokio::test]
async fn per_user_limit_grants_that_many_slots() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let reward_id = reward(&db.pool, event_id, None, 3).await;
    let mut slots = Vec::new();
    for _ in 0..3 {
        match claim(&db.pool, user_id, reward_id).await.expect("claim") {
            ClaimOutcome::Granted(granted) => slots.push(granted.slot),
            other => panic!("expected a grant, got {other:?}"),
        }
    }
    assert_eq!(slots, vec![1, 2, 3]);
    let fourth = claim(&db.pool, user_id, reward_id).await.expect("claim");
    assert_eq!(
        refusal(&fourth),
        Some(ClaimRefusal::AlreadyClaimed { event_limit: false })
    );
}

#[tokio::test]
async fn daily_claims_are_one_per_local_day_in_the_event_zone() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow {
        time_zone: "Asia/Seoul",
        frequency: "Daily",
        starts_in_secs: -86400.0 * 3.0,
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    let reward_id = reward(&db.pool, event_id, None, 1).await;
    // yesterday's success (local date in Seoul) does not block today's
    sqlx::query!(
        "insert into claims (user_id, reward_id, event_id, status, period_key)
         values ($1, $2, $3, 'success', to_char((now() at time zone 'Asia/Seoul') - interval '1 day', 'YYYY-MM-DD'))",
        user_id,
        reward_id,
        event_id
    )
    .execute(&db.pool)
    .await
    .expect("yesterday's claim");

    let today: String =
        sqlx::query_scalar!(r#"select to_char(now() at time zone 'Asia/Seoul', 'YYYY-MM-DD') as "d!""#)
            .fetch_one(&db.pool)
            .await
            .expect("today in Seoul");
    match claim(&db.pool, user_id, reward_id).await.expect("claim") {
        // a claim across local midnight would read tomorrow's date; both are local dates
        ClaimOutcome::Granted(granted) => {
            assert!(granted.period_key >= today, "{} vs {today}", granted.period_key)
        }
        other => panic!("expected a grant, got {other:?}"),
    }
    let second = claim(&db.pool, user_id, reward_id).await.expect("claim");
    assert_eq!(
        refusal(&second),
        Some(ClaimRefusal::AlreadyClaimed { event_limit: false })
    );
}

#[tokio::test]
async fn weekly_period_keys_are_iso_weeks() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow {
        frequency: "Weekly",
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    let reward_id = reward(&db.pool, event_id, None, 1).await;
    let ClaimOutcome::Granted(granted) = claim(&db.pool, user_id, reward_id).await.expect("claim") else {
        panic!("expected a grant");
    };
    let (year, week) = granted.period_key.split_once("-W").expect("YYYY-Www");
    assert_eq!(year.len(), 4);
    assert!(
        week.parse::<u32>().is_ok_and(|w| (1..=53).contains(&w)),
        "{}",
        granted.period_key
    );
}

#[tokio::test]
async fn a_condition_is_evaluated_and_refuses_until_met() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow {
        condition: json!({"loginDays": {"days": 1}}),
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    let reward_id = reward(&db.pool, event_id, None, 1).await;
    let refused = claim(&db.pool, user_id, reward_id).await.expect("claim");
    assert_eq!(refusal(&refused), Some(ClaimRefusal::ConditionNotMet));

    let now = sqlx::query_scalar!(r#"select now() as "now!""#)
        .fetch_one(&db.pool)
        .await
        .expect("now");
    login(&db.pool, user_id, now).await;
    let granted = claim(&db.pool, user_id, reward_id).await.expect("claim");
    assert!(matches!(granted, ClaimOutcome::Granted(_)), "{granted:?}");
    assert_eq!(
        claims_of(&db.pool, user_id).await,
        vec![
            ("failed".to_owned(), Some("CONDITION_NOT_MET".to_owned())),
            ("success".to_owned(), None)
        ]
    );
}

#[tokio::test]
async fn an_unparseable_condition_makes_the_event_invalid_not_a_server_error() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow {
        condition: json!({"purchases": {"count": 1}}),
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    let reward_id = reward(&db.pool, event_id, None, 1).await;
    let outcome = claim(&db.pool, user_id, reward_id).await.expect("claim");
    assert_eq!(
        refusal(&outcome),
        Some(ClaimRefusal::EventNotActive(Some(InactiveReason::Invalid)))
    );
}
