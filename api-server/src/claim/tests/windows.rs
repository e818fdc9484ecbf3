//! Event windows in the claim statement: `claimUntil` (claims after endsAt),
//! `announceAt` (unknown before) and `claimPolicy.resetAt` (the period turns
//! over at a local hour, DST-correct), against a real PostgreSQL.

use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use liveops_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

use super::fixtures::{EventRow, at, claim, refusal, reward, user};
use crate::claim::{ClaimOutcome, ClaimRefusal, InactiveReason};

/// Sets the window columns of `event_id`, relative to the database clock.
async fn set_windows(db: &PgPool, event_id: Uuid, announce_in: Option<f64>, claim_until_in: Option<f64>) {
    sqlx::query(
        "update events set announce_at = now() + make_interval(secs => $2),
                           claim_until = now() + make_interval(secs => $3)
         where id = $1",
    )
    .bind(event_id)
    .bind(announce_in)
    .bind(claim_until_in)
    .execute(db)
    .await
    .expect("set windows");
}

#[tokio::test]
async fn claims_work_in_the_grace_window_and_stop_at_claim_until() {
    let db = TestDb::new().await;
    let ended = EventRow {
        starts_in_secs: -7200.0,
        ends_in_secs: -60.0,
        phase: "Ended",
        ..EventRow::default()
    };
    let in_grace = ended.insert(&db.pool).await;
    set_windows(&db.pool, in_grace, None, Some(3600.0)).await;
    let past_grace = ended.insert(&db.pool).await;
    set_windows(&db.pool, past_grace, None, Some(-1.0)).await;
    let alice = user(&db.pool).await;
    let open = reward(&db.pool, in_grace, None, 1).await;
    let closed = reward(&db.pool, past_grace, None, 1).await;
    let granted = claim(&db.pool, alice, open).await.expect("claim in grace");
    assert!(matches!(granted, ClaimOutcome::Granted(_)), "{granted:?}");
    let refused = claim(&db.pool, alice, closed).await.expect("claim after grace");
    assert_eq!(
        refusal(&refused),
        Some(ClaimRefusal::EventNotActive(Some(InactiveReason::Ended)))
    );
}

#[tokio::test]
async fn an_event_is_unknown_before_announce_at() {
    let db = TestDb::new().await;
    let hidden = EventRow {
        starts_in_secs: 3600.0,
        ends_in_secs: 7200.0,
        phase: "Scheduled",
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    sqlx::query("update events set announce_at = now() + interval '30 minutes' where id = $1")
        .bind(hidden)
        .execute(&db.pool)
        .await
        .expect("announce later");
    let alice = user(&db.pool).await;
    let secret = reward(&db.pool, hidden, None, 1).await;
    let refused = claim(&db.pool, alice, secret).await.expect("claim");
    assert_eq!(refusal(&refused), Some(ClaimRefusal::RewardNotFound));
    sqlx::query("update events set announce_at = now() - interval '1 second' where id = $1")
        .bind(hidden)
        .execute(&db.pool)
        .await
        .expect("announce now");
    let refused = claim(&db.pool, alice, secret).await.expect("claim");
    assert_eq!(
        refusal(&refused),
        Some(ClaimRefusal::EventNotActive(Some(InactiveReason::Scheduled)))
    );
}

/// The period key the Rust side expects for `at` in `zone` with days
/// starting at local `reset`.
fn expected_daily_key(zone: Tz, reset: NaiveTime, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&zone).naive_local();
    (local - (reset - NaiveTime::MIN))
        .date()
        .format("%Y-%m-%d")
        .to_string()
}

async fn period_key(db: &PgPool, frequency: &str, zone: &str, reset: &str, at: DateTime<Utc>) -> String {
    sqlx::query_scalar::<_, String>("select liveops_period_key($1::claim_frequency, $2, $3::time, $4)")
        .bind(frequency)
        .bind(zone)
        .bind(reset)
        .bind(at)
        .fetch_one(db)
        .await
        .expect("period key")
}

/// When the Daily period holding `at` ends, by the database's function.
async fn daily_period_end(db: &PgPool, zone: &str, reset: &str, at: DateTime<Utc>) -> DateTime<Utc> {
    sqlx::query_scalar("select liveops_period_ends_at('Daily', $1, $2::time, $3)")
        .bind(zone)
        .bind(reset)
        .bind(at)
        .fetch_one(db)
        .await
        .expect("period end")
}

#[tokio::test]
async fn the_reset_hour_splits_days_in_seoul() {
    let db = TestDb::new().await;
    // 05:00 in Seoul (UTC+9, no DST) is 20:00 UTC the day before
    for (instant, key) in [
        ("2026-03-01T19:59:59Z", "2026-03-01"),
        ("2026-03-01T20:00:00Z", "2026-03-02"),
        ("2026-03-02T14:59:59Z", "2026-03-02"),
        ("2026-03-02T15:00:00Z", "2026-03-02"),
    ] {
        assert_eq!(
            period_key(&db.pool, "Daily", "Asia/Seoul", "05:00", at(instant)).await,
            key,
            "{instant}"
        );
    }
    let ends = daily_period_end(&db.pool, "Asia/Seoul", "05:00", at("2026-03-01T20:00:00Z")).await;
    assert_eq!(ends, at("2026-03-02T20:00:00Z"));
}

#[tokio::test]
async fn the_reset_hour_keeps_its_local_time_across_dst() {
    let db = TestDb::new().await;
    // New York: 04:00 EST is 09:00 UTC; after 2026-03-08 04:00 EDT is 08:00 UTC
    for (instant, key) in [
        ("2026-03-07T08:59:59Z", "2026-03-06"),
        ("2026-03-07T09:00:00Z", "2026-03-07"),
        ("2026-03-08T07:59:59Z", "2026-03-07"),
        ("2026-03-08T08:00:00Z", "2026-03-08"),
        ("2026-11-01T08:59:59Z", "2026-10-31"),
        ("2026-11-01T09:00:00Z", "2026-11-01"),
    ] {
        assert_eq!(
            period_key(&db.pool, "Daily", "America/New_York", "04:00", at(instant)).await,
            key,
            "{instant}"
        );
    }
    // a week turns over on Monday at the reset hour
    assert_eq!(
        period_key(
            &db.pool,
            "Weekly",
            "America/New_York",
            "04:00",
            at("2026-03-09T07:59:59Z")
        )
        .await,
        "2026-W10"
    );
    assert_eq!(
        period_key(
            &db.pool,
            "Weekly",
            "America/New_York",
            "04:00",
            at("2026-03-09T08:00:00Z")
        )
        .await,
        "2026-W11"
    );
    let ends = daily_period_end(&db.pool, "America/New_York", "04:00", at("2026-03-07T12:00:00Z")).await;
    assert_eq!(ends, at("2026-03-08T08:00:00Z"), "the DST day is 23 hours long");
}

#[tokio::test]
async fn a_reset_hour_in_a_dst_gap_turns_over_when_the_clock_jumps() {
    let db = TestDb::new().await;
    // Berlin skips 02:00-03:00 on 2026-03-29 (01:00 UTC); 02:30 never happens
    for (instant, key) in [
        ("2026-03-29T00:59:59Z", "2026-03-28"),
        ("2026-03-29T01:00:00Z", "2026-03-29"),
    ] {
        assert_eq!(
            period_key(&db.pool, "Daily", "Europe/Berlin", "02:30", at(instant)).await,
            key,
            "{instant}"
        );
    }
    let ends = daily_period_end(&db.pool, "Europe/Berlin", "02:30", at("2026-03-28T12:00:00Z")).await;
    assert_eq!(ends, at("2026-03-29T01:00:00Z"));
}

#[tokio::test]
async fn a_claim_takes_the_period_of_the_local_reset_hour() {
    let db = TestDb::new().await;
    let zone: Tz = "Asia/Seoul".parse().expect("zone");
    let daily = EventRow {
        frequency: "Daily",
        time_zone: "Asia/Seoul",
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    // a reset hour just behind the clock: the period began minutes ago
    let now: DateTime<Utc> = sqlx::query_scalar("select now()")
        .fetch_one(&db.pool)
        .await
        .expect("now");
    let behind = (now.with_timezone(&zone) - Duration::minutes(5)).time();
    let reset = NaiveTime::from_hms_opt(behind.hour(), behind.minute(), 0).expect("a time of day");
    sqlx::query("update events set reset_at = $2 where id = $1")
        .bind(daily)
        .bind(reset)
        .execute(&db.pool)
        .await
        .expect("reset hour");
    let prize = reward(&db.pool, daily, None, 1).await;
    let alice = user(&db.pool).await;
    let ClaimOutcome::Granted(granted) = claim(&db.pool, alice, prize).await.expect("claim") else {
        panic!("the claim is granted");
    };
    assert_eq!(granted.period_key, expected_daily_key(zone, reset, now));
    let again = claim(&db.pool, alice, prize).await.expect("claim again");
    assert_eq!(
        refusal(&again),
        Some(ClaimRefusal::AlreadyClaimed { event_limit: false })
    );
}
