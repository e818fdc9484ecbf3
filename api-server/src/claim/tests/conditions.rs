//! Each condition kind: met, not met, and the boundaries of the window and
//! of local days (Asia/Seoul, and America/New_York across the end of DST).

use liveops_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

use super::fixtures::{at, login, user};
use crate::claim::conditions::{Claimant, Condition, LoginDays, LoginStreak, ProfileComplete, Referrals};

fn window(user_id: Uuid, starts: &str, ends: &str, time_zone: &str) -> Claimant {
    Claimant {
        user_id,
        starts_at: at(starts),
        ends_at: at(ends),
        time_zone: time_zone.to_owned(),
    }
}

async fn logins(db: &PgPool, user_id: Uuid, instants: &[&str]) {
    for instant in instants {
        login(db, user_id, at(instant)).await;
    }
}

async fn met(condition: impl Condition, db: &PgPool, claimant: &Claimant) -> bool {
    condition.is_met(db, claimant).await.expect("evaluate condition")
}

#[tokio::test]
async fn login_streak_counts_consecutive_days_and_a_missing_day_breaks_it() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    // days 1, 2, 3, then 5, 6: the longest run is 3
    logins(
        &db.pool,
        user_id,
        &[
            "2026-03-01T10:00:00Z",
            "2026-03-02T10:00:00Z",
            "2026-03-02T11:00:00Z",
            "2026-03-03T10:00:00Z",
            "2026-03-05T10:00:00Z",
            "2026-03-06T10:00:00Z",
        ],
    )
    .await;
    let claimant = window(user_id, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "UTC");
    assert!(met(LoginStreak { days: 3 }, &db.pool, &claimant).await);
    assert!(!met(LoginStreak { days: 4 }, &db.pool, &claimant).await);
    assert!(met(LoginDays { days: 5 }, &db.pool, &claimant).await);
    assert!(!met(LoginDays { days: 6 }, &db.pool, &claimant).await);
}

#[tokio::test]
async fn logins_outside_the_window_do_not_count_and_the_window_is_half_open() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    logins(
        &db.pool,
        user_id,
        &[
            "2026-03-01T09:59:59.999999Z", // just before startsAt
            "2026-03-02T10:00:00Z",        // exactly startsAt + 1 day
            "2026-03-03T10:00:00Z",        // exactly endsAt: outside
        ],
    )
    .await;
    let claimant = window(user_id, "2026-03-01T10:00:00Z", "2026-03-03T10:00:00Z", "UTC");
    assert!(!met(LoginDays { days: 2 }, &db.pool, &claimant).await);
    assert!(!met(LoginStreak { days: 2 }, &db.pool, &claimant).await);
    assert!(met(LoginDays { days: 1 }, &db.pool, &claimant).await);

    // a login at the very instant of startsAt counts
    login(&db.pool, user_id, at("2026-03-01T10:00:00Z")).await;
    assert!(met(LoginDays { days: 2 }, &db.pool, &claimant).await);
    assert!(met(LoginStreak { days: 2 }, &db.pool, &claimant).await);
}

#[tokio::test]
async fn days_are_local_days_in_asia_seoul() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    // 23:59:59 and 00:00:00 in Seoul (UTC+9): two local days, one UTC day
    logins(
        &db.pool,
        user_id,
        &["2026-01-01T14:59:59Z", "2026-01-01T15:00:00Z"],
    )
    .await;
    let seoul = window(
        user_id,
        "2025-12-01T00:00:00Z",
        "2026-02-01T00:00:00Z",
        "Asia/Seoul",
    );
    let utc = Claimant {
        time_zone: "UTC".to_owned(),
        ..seoul.clone()
    };
    assert!(met(LoginStreak { days: 2 }, &db.pool, &seoul).await);
    assert!(met(LoginDays { days: 2 }, &db.pool, &seoul).await);
    assert!(!met(LoginDays { days: 2 }, &db.pool, &utc).await);
}

#[tokio::test]
async fn the_25_hour_day_at_the_end_of_new_york_dst_is_one_local_day() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    // 2026-11-01 in New York runs from 04:00Z (EDT) to 05:00Z next day (EST)
    logins(
        &db.pool,
        user_id,
        &["2026-11-01T04:00:00Z", "2026-11-02T04:59:59Z"],
    )
    .await;
    let new_york = window(
        user_id,
        "2026-10-01T00:00:00Z",
        "2026-12-01T00:00:00Z",
        "America/New_York",
    );
    assert!(!met(LoginDays { days: 2 }, &db.pool, &new_york).await);
    assert!(!met(LoginStreak { days: 2 }, &db.pool, &new_york).await);

    // local midnight of 2026-11-02 (EST) starts the next day
    login(&db.pool, user_id, at("2026-11-02T05:00:00Z")).await;
    assert!(met(LoginDays { days: 2 }, &db.pool, &new_york).await);
    assert!(met(LoginStreak { days: 2 }, &db.pool, &new_york).await);
}

async fn invitee(db: &PgPool, inviter: Uuid, signed_up_at: &str) -> Uuid {
    let invitee = user(db).await;
    sqlx::query!(
        "update users set created_at = $2 where id = $1",
        invitee,
        at(signed_up_at)
    )
    .execute(db)
    .await
    .expect("backdate signup");
    sqlx::query!(
        "insert into referrals (inviter_id, invitee_id, created_at) values ($1, $2, $3)",
        inviter,
        invitee,
        at(signed_up_at)
    )
    .execute(db)
    .await
    .expect("insert referral");
    invitee
}

#[tokio::test]
async fn referrals_count_invitees_who_signed_up_inside_the_window() {
    let db = TestDb::new().await;
    let inviter = user(&db.pool).await;
    invitee(&db.pool, inviter, "2026-03-01T00:00:00Z").await; // at startsAt: counts
    invitee(&db.pool, inviter, "2026-03-10T00:00:00Z").await;
    invitee(&db.pool, inviter, "2026-02-28T23:59:59Z").await; // before the window
    invitee(&db.pool, inviter, "2026-04-01T00:00:00Z").await; // at endsAt: outside
    let claimant = window(inviter, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "UTC");
    assert!(met(Referrals { count: 2 }, &db.pool, &claimant).await);
    assert!(!met(Referrals { count: 3 }, &db.pool, &claimant).await);
}

#[tokio::test]
async fn a_self_referral_is_refused_by_the_schema_and_never_counts() {
    let db = TestDb::new().await;
    let inviter = user(&db.pool).await;
    let inserted = sqlx::query!(
        "insert into referrals (inviter_id, invitee_id) values ($1, $1)",
        inviter
    )
    .execute(&db.pool)
    .await;
    assert!(inserted.is_err(), "the schema must refuse a self-referral");
    let claimant = window(inviter, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z", "UTC");
    assert!(!met(Referrals { count: 1 }, &db.pool, &claimant).await);
}

#[tokio::test]
async fn profile_complete_needs_nickname_bio_and_image_not_blank() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let claimant = window(user_id, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z", "UTC");
    assert!(!met(ProfileComplete, &db.pool, &claimant).await);

    let set = |nickname: &'static str, bio: &'static str, image: Option<&'static str>| {
        sqlx::query!(
            "update users set nickname = $2, bio = $3, profile_image_url = $4 where id = $1",
            user_id,
            nickname,
            bio,
            image
        )
    };
    set("neo", "   ", Some("https://example.com/a.png"))
        .execute(&db.pool)
        .await
        .expect("update");
    assert!(
        !met(ProfileComplete, &db.pool, &claimant).await,
        "a blank bio is not set"
    );
    set("neo", "hello", None).execute(&db.pool).await.expect("update");
    assert!(!met(ProfileComplete, &db.pool, &claimant).await, "no image");
    set("neo", "hello", Some("https://example.com/a.png"))
        .execute(&db.pool)
        .await
        .expect("update");
    assert!(met(ProfileComplete, &db.pool, &claimant).await);
}

#[tokio::test]
async fn an_unknown_user_does_not_have_a_complete_profile() {
    let db = TestDb::new().await;
    let claimant = window(
        Uuid::new_v4(),
        "2000-01-01T00:00:00Z",
        "2100-01-01T00:00:00Z",
        "UTC",
    );
    assert!(!met(ProfileComplete, &db.pool, &claimant).await);
}
